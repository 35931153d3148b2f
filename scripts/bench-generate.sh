#!/usr/bin/env bash
# Generation time of `ddd generate` for models of 10, 100 and 1,000 aggregates (made by
# scripts/make-model.py), without and with rustfmt over the output; then, for scale, one
# service crate from templates/service by `ddd new` and by cargo-generate (when installed:
# CARGO_GENERATE or PATH, see scripts/check-cargo-generate.sh). Release build; every run's
# wall time is printed, then the best.
# Usage: scripts/bench-generate.sh [runs]
# Current figures and method: docs/benchmarks/generate.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -p ddd-cli --quiet
ddd="$target/release/ddd"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Runs "$@" $runs times after `rm -rf $clean`; prints each wall time and the best.
time_runs() {
  local clean="$1" label="$2"
  shift 2
  local times=() best=""
  for _ in $(seq "$runs"); do
    rm -rf "$clean"
    local start end t
    start=$(date +%s.%N)
    "$@" > /dev/null 2>&1
    end=$(date +%s.%N)
    t=$(printf '%.3f' "$(echo "$end - $start" | bc)")
    times+=("$t")
    if [ -z "$best" ] || (( $(echo "$t < $best" | bc) )); then best=$t; fi
  done
  printf '%-32s %-24s best %s\n' "$label" "${times[*]}" "$best"
}

printf '%-32s %-24s %s\n' "" "runs (s, wall)" ""
for n in 10 100 1000; do
  python3 scripts/make-model.py "$n" > "$work/m$n.ddd"
  time_runs "$work/out" "$n aggregates, no rustfmt" \
    "$ddd" generate "$work/m$n.ddd" --out "$work/out" -q --no-format
  time_runs "$work/out" "$n aggregates, rustfmt" \
    "$ddd" generate "$work/m$n.ddd" --out "$work/out" -q
done

mkdir -p "$work/svc"
time_runs "$work/svc/demo-service" "ddd new (one service)" \
  "$ddd" new demo-service --out "$work/svc/demo-service"
cg="${CARGO_GENERATE:-$(command -v cargo-generate || true)}"
if [ -n "$cg" ] && [ -x "$cg" ]; then
  time_runs "$work/svc/demo-service" "cargo generate (one service)" \
    "$cg" generate --path templates/service --name demo-service --define ddd_path="$PWD" \
    --destination "$work/svc" --silent --vcs none
else
  echo "cargo generate (one service): skipped, cargo-generate not found"
fi
