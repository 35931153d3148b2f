#!/usr/bin/env bash
# HTTP command throughput of a generated service vs the raw append throughput of its store,
# in one run (target: the service at ≥ 0.5× the raw store). Current figures and method:
# docs/benchmarks/http.md.
#
# Generates examples/shop/shop.ddd into target/bench-http/shop, builds its Cart service (`shop-cart`,
# --features postgres) and benches/http (`raw-append`) in release, then per backend (SQLite,
# PostgreSQL), each contender on a fresh database file / database:
#   1. raw: `raw-append`: one event on a new stream per `store.append`, C concurrent tasks
#      (the write behind `POST /shopping-carts`, the creating command `OpenCart`);
#   2. service: `shop-cart` (RUST_LOG=warn) under `wrk -t2 -cC --latency -s post.lua`: each
#      request `POST /shopping-carts` with `{"customer":"<random uuid>"}` → 201.
# Each gets WARMUP seconds untimed, then DURATION seconds measured. Pass 1 at C=16, pass 2 at
# C=1 (one request at a time: latency rather than throughput). A non-2xx response or a socket
# error, a failed append, or fewer events in the store than 201s counted fails the run.
#
# To compare builds of the service, SERVICES names several binaries (`label=path`); a pass
# then runs raw and each of them in turn, ROUNDS times, so that the machine's drift falls on
# all of them alike. Each round is a row; a second table gives each contender's median round.
#
#   scripts/bench-http.sh                              # both backends, C=16 and C=1 (~2 min)
#   LOW=0 BACKENDS=sqlite scripts/bench-http.sh        # SQLite only, C=16 only
#   SERVICE_LOG=info scripts/bench-http.sh             # the service at its default log level
#   BUILD=0 BACKENDS=postgres ROUNDS=3 SERVICES="old=/tmp/a/shop-cart new=/tmp/b/shop-cart" \
#       scripts/bench-http.sh                          # two builds, interleaved three times
#
# Env: BACKENDS ("sqlite postgres"), CONCURRENCY (16), LOW (1: also the C=1 pass), DURATION
# (10), WARMUP (2), ROUNDS (1), SERVICES ("service=<the built shop-cart>"), SERVICE_LOG (warn;
# the service's RUST_LOG, its output goes to a file), PORT (18182), DATABASE_URL (the
# PostgreSQL server: default postgres://postgres@127.0.0.1:5432/test; the benchmark creates
# and drops databases `bench_http_<pid>_*` on it), TMPDIR (the SQLite files: a real disk, not
# a tmpfs), DDD_TEMPLATES (passed to `ddd generate --templates`), BUILD (1; 0 runs the
# binaries of the last build as they are), CARGO_TARGET_DIR (default: <repo>/target). The
# markdown report goes to stdout, progress to stderr.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
backends="${BACKENDS:-sqlite postgres}"
concurrency="${CONCURRENCY:-16}"
low="${LOW:-1}"
duration="${DURATION:-10}"
warmup="${WARMUP:-2}"
service_log="${SERVICE_LOG:-warn}"
port="${PORT:-18182}"
pg_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
shop="$root/target/bench-http/shop"
lua="$root/benches/http/post.lua"
raw_bin="$CARGO_TARGET_DIR/release/raw-append"
rounds="${ROUNDS:-1}"
services=(${SERVICES:-service=$CARGO_TARGET_DIR/release/shop-cart})

for tool in wrk curl psql sqlite3; do
    command -v "$tool" >/dev/null || { echo "bench-http: \`$tool\` is not on PATH" >&2; exit 2; }
done
case "$pg_url" in
    postgres://* | postgresql://*) ;;
    *) echo "bench-http: DATABASE_URL \`$pg_url\` is not a postgres:// URL" >&2; exit 2 ;;
esac

# --- build -------------------------------------------------------------------------------
if [[ "${BUILD:-1}" != 0 ]]; then
    cargo build -p ddd-cli --manifest-path "$root/Cargo.toml" >&2
    mkdir -p "$root/target/bench-http"
    # Regenerating over the last run's workspace leaves unchanged files untouched, so cargo
    # rebuilds only what changed.
    "$CARGO_TARGET_DIR/debug/ddd" generate "$root/examples/shop/shop.ddd" --out "$shop" \
        ${DDD_TEMPLATES:+--templates "$DDD_TEMPLATES"} >/dev/null 2>"$root/target/bench-http/generate.log" || {
        cat "$root/target/bench-http/generate.log" >&2
        exit 1
    }
    (cd "$shop" && cargo build --release -p shop-cart --features postgres >&2)
    cargo build --release --locked --manifest-path "$root/benches/http/Cargo.toml" >&2
fi
[[ -x "$raw_bin" ]] || { echo "bench-http: not built (run without BUILD=0)" >&2; exit 2; }
for service in "${services[@]}"; do
    [[ "$service" == *=* && -x "${service#*=}" ]] ||
        { echo "bench-http: \`$service\` is not label=<an executable> (run without BUILD=0?)" >&2; exit 2; }
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "bench-http: ROUNDS \`$rounds\` is not a positive number" >&2; exit 2; }

# --- fresh databases, cleaned up on exit -----------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/bench-http.XXXXXX")"
databases=()
service_pid=""
cleanup() {
    if [[ -n "$service_pid" ]]; then
        kill "$service_pid" 2>/dev/null || true
        wait "$service_pid" 2>/dev/null || true
    fi
    for db in "${databases[@]}"; do
        psql "$pg_url" -qX -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# Sets `url` to a fresh, empty database for contender $2 of backend $1 (not in a subshell:
# the cleanup needs `databases`).
fresh() {
    local name="bench_http_$$_$2"
    case "$1" in
        sqlite) url="sqlite://$work/$name.db" ;;
        postgres)
            psql "$pg_url" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $name" >/dev/null
            databases+=("$name")
            # The server's URL with the database path replaced (query options kept).
            local base="${pg_url%%\?*}" query=""
            [[ "$pg_url" == *\?* ]] && query="?${pg_url#*\?}"
            url="${base%/*}/$name$query"
            ;;
    esac
}

# How many events the database at URL $2 (backend $1) holds.
stored() {
    case "$1" in
        sqlite) sqlite3 "${2#sqlite://}" "SELECT count(*) FROM ddd_events" ;;
        postgres) psql "$2" -qXtA -c "SELECT count(*) FROM ddd_events" ;;
    esac
}

# A wrk latency ("812.00us", "4.52ms", "1.02s") in ms.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
        printf "%.3f", n
    }'
}

fail() {
    echo "bench-http: FAILED: $*" >&2
    exit 1
}

# Runs wrk with C connections for D seconds; sets wrk_rps wrk_p50 wrk_p99 wrk_requests and
# fails the run on any non-2xx response or socket error.
run_wrk() {
    local connections="$1" seconds="$2" threads=2 out
    ((connections < threads)) && threads="$connections"
    out="$(wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency -s "$lua" "http://127.0.0.1:$port")"
    echo "$out" >&2
    if grep -qE 'Non-2xx or 3xx responses|Socket errors' <<<"$out"; then
        fail "wrk saw failed requests (above)"
    fi
    wrk_rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
    wrk_requests="$(awk '/requests in/ {print $1}' <<<"$out")"
    wrk_p50="$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")"
    wrk_p99="$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")"
    [[ -n "$wrk_rps" && -n "$wrk_requests" ]] || fail "cannot read wrk's output"
}

# The raw contender: backend $1, concurrency $2, round $3; sets raw_rps raw_p50 raw_p99.
run_raw() {
    local backend="$1" connections="$2" line url
    echo "--- $backend, C=$connections, round $3: raw append" >&2
    fresh "$backend" "raw_c${connections}_r$3"
    line="$("$raw_bin" --url "$url" --concurrency "$connections" --seconds "$duration" --warmup "$warmup")" ||
        fail "raw-append on $backend"
    echo "$line" >&2
    raw_rps="$(sed -n 's/.*ops_per_sec=\([^ ]*\).*/\1/p' <<<"$line")"
    raw_p50="$(sed -n 's/.*p50_ms=\([^ ]*\).*/\1/p' <<<"$line")"
    raw_p99="$(sed -n 's/.*p99_ms=\([^ ]*\).*/\1/p' <<<"$line")"
}

# One service contender: backend $1, concurrency $2, round $3, label $4, binary $5; sets the
# wrk_* figures of its measured part.
run_service() {
    local backend="$1" connections="$2" label="$4" binary="$5" url
    echo "--- $backend, C=$connections, round $3: $label (RUST_LOG=$service_log)" >&2
    fresh "$backend" "${label//[^a-zA-Z0-9]/_}_c${connections}_r$3"
    local log="$root/target/bench-http/$label-$backend-c$connections-r$3.log"
    HTTP_ADDR="127.0.0.1:$port" DATABASE_URL="$url" RUST_LOG="$service_log" \
        "$binary" >"$log" 2>&1 &
    service_pid=$!
    local ready=""
    for _ in $(seq 1 300); do
        if curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null; then
            ready=1
            break
        fi
        kill -0 "$service_pid" 2>/dev/null || break
        sleep 0.1
    done
    [[ -n "$ready" ]] || { cat "$log" >&2; fail "$label did not become ready"; }
    run_wrk "$connections" "$warmup" >/dev/null
    local created="$wrk_requests"
    run_wrk "$connections" "$duration"
    created=$((created + wrk_requests))
    kill -TERM "$service_pid"
    wait "$service_pid" || fail "$label exited with status $? (log: $log)"
    service_pid=""
    local events
    events="$(stored "$backend" "$url")"
    ((events >= created)) || fail "$created requests answered 201 but $label's store holds $events events"
}

ratio() { awk -v s="$1" -v r="$2" 'BEGIN { printf "%.2f", s / r }'; }
verdict() { awk -v x="$1" 'BEGIN { print (x >= 0.5 ? "yes" : "**no**") }'; }
# The middle line of stdin by its first number (the lower middle one of an even count).
middle() { sort -n | sed -n "$(((rounds + 1) / 2))p"; }

# Pass: backend $1, concurrency $2: ROUNDS rounds of raw, then each service in turn. Appends
# a row per round and service to `rows`, and each contender's median round to `medians`.
pass() {
    local backend="$1" connections="$2" round service label
    local -A samples=()
    for round in $(seq 1 "$rounds"); do
        run_raw "$backend" "$connections" "$round"
        samples[raw]+="$raw_rps $raw_p50 $raw_p99"$'\n'
        for service in "${services[@]}"; do
            label="${service%%=*}"
            run_service "$backend" "$connections" "$round" "$label" "${service#*=}"
            local r
            r="$(ratio "$wrk_rps" "$raw_rps")"
            samples[$label]+="$wrk_rps $wrk_p50 $wrk_p99 $r"$'\n'
            rows+=("| $backend | $connections | $round | $raw_rps | $raw_p50 | $raw_p99 | $label | $wrk_rps | $wrk_p50 | $wrk_p99 | **${r}×** | $(verdict "$r") |")
        done
    done
    # The median round by throughput (the lower middle one of an even count), and for the
    # services the median of their per-round ratios: the figure the target is judged on.
    local median_raw
    median_raw="$(middle <<<"${samples[raw]%$'\n'}")"
    for service in "${services[@]}"; do
        label="${service%%=*}"
        local median median_ratio
        median="$(middle <<<"${samples[$label]%$'\n'}")"
        median_ratio="$(awk '{print $4}' <<<"${samples[$label]%$'\n'}" | middle)"
        read -r raw_rps raw_p50 raw_p99 <<<"$median_raw"
        read -r wrk_rps wrk_p50 wrk_p99 _ <<<"$median"
        medians+=("| $backend | $connections | $raw_rps | $raw_p50 | $raw_p99 | $label | $wrk_rps | $wrk_p50 | $wrk_p99 | **${median_ratio}×** | $(verdict "$median_ratio") |")
    done
}

rows=()
medians=()
load="$(cut -d' ' -f1-3 /proc/loadavg)"
for backend in $backends; do
    case "$backend" in
        sqlite | postgres) ;;
        *) fail "unknown backend \`$backend\` (sqlite, postgres)" ;;
    esac
    pass "$backend" "$concurrency"
    [[ "$low" == 0 || "$concurrency" == 1 ]] || pass "$backend" 1
done

cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
echo "- machine: $(nproc) cores${cpu:+ ($cpu)}, $(uname -sr); load average at start: $load, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $(rustc --version); release profile; $(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2); $(psql -XtAc 'SHOW server_version' "$pg_url" 2>/dev/null | sed 's/^/PostgreSQL /')"
echo "- disk for SQLite: $(df --output=source,fstype "$work" | tail -n1 | tr -s ' ')"
echo "- service log level: RUST_LOG=$service_log; ${duration}s measured after ${warmup}s warm-up; $rounds round(s) of raw then $(printf '%s ' "${services[@]%%=*}")"
echo
echo "| store | C | round | raw appends/s | raw p50 ms | raw p99 ms | service | service req/s | service p50 ms | service p99 ms | service / raw | ≥ 0.5× |"
echo "|---|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|---|"
printf '%s\n' "${rows[@]}"
echo
echo "Median round of each contender (the ratio: the median of the rounds' ratios):"
echo
echo "| store | C | raw appends/s | raw p50 ms | raw p99 ms | service | service req/s | service p50 ms | service p99 ms | service / raw | ≥ 0.5× |"
echo "|---|--:|--:|--:|--:|---|--:|--:|--:|--:|---|"
printf '%s\n' "${medians[@]}"
