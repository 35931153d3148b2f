#!/usr/bin/env bash
# The two latency targets of the PostgreSQL command path, measured in one run, one after the
# other on the same machine state:
#   1. HTTP commands at one connection: a generated service at ≥ 0.5× its store's raw append
#      rate (scripts/bench-http.sh, PostgreSQL, C=16 and C=1, ROUNDS rounds of raw then the
#      service, judged on the median round; docs/benchmarks/http.md);
#   2. S3 cold: one command on a 2,000-event stream through a fresh Repository at ≤ 0.2× of
#      cqrs-es's latency (scripts/bench-persistence.sh, S3 only; docs/benchmarks/persistence.md).
# Prints both reports, then one line per target; exits 1 when a target is missed.
#
#   scripts/bench-latency.sh            # builds, then both (about 8 minutes)
#   BUILD=0 scripts/bench-latency.sh    # the binaries of the last build
#
# Env: ROUNDS (3), BUILD, DATABASE_URL, CARGO_TARGET_DIR and the rest as the two scripts
# take them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

http="$(BACKENDS=postgres LOW=1 ROUNDS="${ROUNDS:-3}" "$root/scripts/bench-http.sh")"
s3="$(PG_ARGS="--only s3" PREFILL=0 SQLITE_ARGS=skip "$root/scripts/bench-persistence.sh")"
printf '%s\n\n%s\n\n' "$http" "$s3"

# The C=1 row of the HTTP medians and the cold row of the S3 ratios.
http_ratio="$(awk -F'|' '/^Median round/ { medians = 1 }
    medians && $2 ~ /postgres/ && $3 + 0 == 1 { gsub(/[*× ]/, "", $11); print $11 }' <<<"$http")"
s3_ratio="$(awk -F'|' '$2 ~ /ours cold \/ cqrs-es/ { gsub(/[*× ]/, "", $3); print $3 }' <<<"$s3")"
[[ -n "$http_ratio" && -n "$s3_ratio" ]] || { echo "bench-latency: cannot read the ratios" >&2; exit 2; }

verdict() { # ratio op bound
    awk -v r="$1" -v b="$3" -v op="$2" 'BEGIN { ok = (op == ">=" ? r >= b : r <= b); print (ok ? "met" : "MISSED") }'
}
http_verdict="$(verdict "$http_ratio" ">=" 0.5)"
s3_verdict="$(verdict "$s3_ratio" "<=" 0.2)"
echo "- HTTP at one connection, service / raw append: ${http_ratio}× (target ≥ 0.5×): $http_verdict"
echo "- S3 cold, ours / cqrs-es latency: ${s3_ratio}× (target ≤ 0.2×): $s3_verdict"
[[ "$http_verdict" == met && "$s3_verdict" == met ]]
