#!/usr/bin/env bash
# The views of a generated service over HTTP, in one run per store: how long a command takes
# to show in a view read with its consistency token (against the same read without one), and
# how many view queries per second the service answers (against reads of an aggregate's
# state). Current figures and method: docs/benchmarks/views.md, "Views over HTTP".
#
# Generates examples/shop/shop.ddd into target/bench-view-http/shop, builds its Ordering service
# (`shop-ordering`, --features postgres) and benches/view-http (`view-http-client`) in
# release, then per backend (SQLite, PostgreSQL), on one fresh database file / database, with
# the service running (RUST_LOG=warn):
#   1. command to visible: `view-http-client latency`, one task then TASKS tasks, each
#      looping: a fresh customer, `POST /orders`, at once a read of a view with the
#      command's `Consistency-Token` (`GET /order-summaries?customer=C&sort=-placed_at&limit=50`
#      and `GET /customer-totals/C` in turn), then the same read without the token (the
#      baseline). A token read that misses its command fails the run.
#   2. `view-http-client load` places ORDERS orders over CUSTOMERS customers
#      (LOAD_CONCURRENCY connections) and waits for both views to show the last; on
#      PostgreSQL then `VACUUM ANALYZE` (the statistics autovacuum would leave); then 5 s
#      without requests, the machine's busy share reported.
#   3. command to visible again, as in 1, the store holding those orders.
#   4. query throughput: `wrk -t2 -cCONNECTIONS --latency -s benches/view-http/rotate.lua`,
#      WARMUP s untimed then DURATION s measured, on each of: `GET /orders/{id}` (the
#      aggregate's state: its events loaded and folded; the baseline),
#      `GET /order-summaries?customer=C&sort=-placed_at&limit=50`, `GET /customer-totals/C`,
#      rotating over the orders / customers; ROUNDS rounds, the order of the three rotating
#      from one round to the next; medians reported.
# Any non-2xx response or socket error under wrk, or fewer events in the store than commands
# answered 201, fails the run.
#
#   scripts/bench-view-http.sh                        # both backends (≈ 7 min + builds)
#   BACKENDS=sqlite ORDERS=20000 scripts/bench-view-http.sh
#   BUILD=0 scripts/bench-view-http.sh                # the binaries of the last build
#
# Env: BACKENDS ("sqlite postgres"), ITERATIONS (3000: timed iterations of each latency pass,
# shared over the tasks and the two views), WARMUP_ITERATIONS (300), TASKS (16), ORDERS
# (100000), CUSTOMERS (300), LOAD_CONCURRENCY (16), CONNECTIONS (16: wrk's), DURATION (10),
# WARMUP (2), ROUNDS (2), SERVICE_LOG (warn; the service's RUST_LOG, its output goes to a
# file), VIEW_WAIT_MS (the service's; unset: its default, 2000), PORT (18183), DATABASE_URL
# (the PostgreSQL server: default postgres://postgres@127.0.0.1:5432/test; the benchmark
# creates and drops a database `bench_view_http_<pid>` on it), TMPDIR (the SQLite file: a
# real disk, not a tmpfs), DDD_TEMPLATES and DDD_RUNTIME (passed to `ddd generate
# --templates` / `--runtime`), BUILD (1; 0 runs the binaries of the last build as they are),
# CARGO_TARGET_DIR (default: <repo>/target). The markdown report goes to stdout, progress to
# stderr.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
backends="${BACKENDS:-sqlite postgres}"
iterations="${ITERATIONS:-3000}"
warmup_iterations="${WARMUP_ITERATIONS:-300}"
tasks="${TASKS:-16}"
orders="${ORDERS:-100000}"
customers="${CUSTOMERS:-300}"
load_concurrency="${LOAD_CONCURRENCY:-16}"
connections="${CONNECTIONS:-16}"
duration="${DURATION:-10}"
warmup="${WARMUP:-2}"
rounds="${ROUNDS:-2}"
service_log="${SERVICE_LOG:-warn}"
port="${PORT:-18183}"
pg_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
out="$root/target/bench-view-http"
shop="$out/shop"
lua="$root/benches/view-http/rotate.lua"
client_bin="$CARGO_TARGET_DIR/release/view-http-client"
# A copy of the service's binary: other generated workspaces of the same model build a
# `shop-ordering` into the same target dir.
service_bin="$out/bin/shop-ordering"
addr="127.0.0.1:$port"

for tool in wrk curl psql sqlite3; do
    command -v "$tool" >/dev/null || { echo "bench-view-http: \`$tool\` is not on PATH" >&2; exit 2; }
done
case "$pg_url" in
    postgres://* | postgresql://*) ;;
    *) echo "bench-view-http: DATABASE_URL \`$pg_url\` is not a postgres:// URL" >&2; exit 2 ;;
esac

# --- build -------------------------------------------------------------------------------
if [[ "${BUILD:-1}" != 0 ]]; then
    cargo build -p ddd-cli --manifest-path "$root/Cargo.toml" >&2
    mkdir -p "$out"
    # Regenerating over the last run's workspace leaves unchanged files untouched, so cargo
    # rebuilds only what changed.
    "$CARGO_TARGET_DIR/debug/ddd" generate "$root/examples/shop/shop.ddd" --out "$shop" \
        ${DDD_TEMPLATES:+--templates "$DDD_TEMPLATES"} ${DDD_RUNTIME:+--runtime "$DDD_RUNTIME"} \
        >/dev/null 2>"$out/generate.log" || {
        cat "$out/generate.log" >&2
        exit 1
    }
    (cd "$shop" && cargo build --release -p shop-ordering --features postgres >&2)
    mkdir -p "$out/bin"
    cp "$CARGO_TARGET_DIR/release/shop-ordering" "$service_bin"
    # What the report names as the code measured.
    echo "commit $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD 2>/dev/null ||
        echo ' (uncommitted changes in the tree)'); ddd runtime: ${DDD_RUNTIME:-the tree}" >"$out/bin/built-from"
    cargo build --release --locked --manifest-path "$root/benches/view-http/Cargo.toml" >&2
fi
[[ -x "$client_bin" && -x "$service_bin" ]] || { echo "bench-view-http: not built (run without BUILD=0)" >&2; exit 2; }

# --- a fresh database per backend, cleaned up on exit ------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/bench-view-http.XXXXXX")"
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

fail() {
    echo "bench-view-http: FAILED: $*" >&2
    exit 1
}

# Sets `url` to a fresh, empty database for backend $1 (not in a subshell: the cleanup needs
# `databases`).
fresh() {
    local name="bench_view_http_$$"
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

# Field $1 (`name=value`) of the line $2.
field() {
    sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}

# A wrk latency ("812.00us", "4.52ms", "1.02s") in ms.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
        printf "%.3f", n
    }'
}

# The median of the numbers given.
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2
    }'
}

# Runs wrk for $2 seconds on the paths of file $1; sets wrk_rps wrk_p50 wrk_p99 and fails the
# run on any non-2xx response or socket error.
run_wrk() {
    local paths="$1" seconds="$2" threads=2 output
    ((connections < threads)) && threads="$connections"
    output="$(wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency -s "$lua" "http://$addr" -- "$paths")"
    echo "$output" >&2
    if grep -qE 'Non-2xx or 3xx responses|Socket errors' <<<"$output"; then
        fail "wrk saw failed requests (above)"
    fi
    wrk_rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$output")"
    wrk_p50="$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$output")")"
    wrk_p99="$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$output")")"
    [[ -n "$wrk_rps" ]] || fail "cannot read wrk's output"
}

# $1 with its thousands grouped: 100000 → 100,000.
group() {
    sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"
}

label() {
    case "$1" in
        sqlite) echo SQLite ;;
        postgres) echo PostgreSQL ;;
    esac
}

# The share of the machine's CPU time that was busy over the next $1 seconds, in %.
idle_busy() {
    local before after
    before="$(head -n1 /proc/stat)"
    sleep "$1"
    after="$(head -n1 /proc/stat)"
    awk -v a="$before" -v b="$after" 'BEGIN {
        n = split(a, x, " "); split(b, y, " ")
        for (i = 2; i <= n; i++) { total += y[i] - x[i]; if (i == 5 || i == 6) idle += y[i] - x[i] }
        printf "%.0f", 100 * (total - idle) / total
    }'
}

# Command to visible on backend $1, the store holding $2 orders: one task, then `tasks`;
# appends to the report and counts the commands.
visible() {
    local backend="$1" size="$2" name n lines line
    name="$(label "$backend")"
    for n in 1 "$tasks"; do
        echo "--- $backend ($size orders): command to visible, $n task(s)" >&2
        lines="$("$client_bin" latency --addr "$addr" --tasks "$n" --iterations "$iterations" \
            --warmup "$warmup_iterations")" || { echo "$lines" >&2; fail "a read with a token missed its command on $backend"; }
        echo "$lines" >&2
        while read -r line; do
            commands=$((commands + $(field commands "$line")))
            local view cmd50 cmd99 tok50 tok99 tokmax plain50 plain99 found missed adds50 adds99
            view="$(field view "$line")"
            cmd50="$(field cmd_p50_ms "$line")" cmd99="$(field cmd_p99_ms "$line")"
            tok50="$(field token_p50_ms "$line")" tok99="$(field token_p99_ms "$line")"
            tokmax="$(field token_max_ms "$line")"
            plain50="$(field plain_p50_ms "$line")" plain99="$(field plain_p99_ms "$line")"
            found="$(field found "$line")" missed="$(field missed "$line")"
            adds50="$(awk -v a="$tok50" -v b="$plain50" 'BEGIN { printf "%+.2f", a - b }')"
            adds99="$(awk -v a="$tok99" -v b="$plain99" 'BEGIN { printf "%+.2f", a - b }')"
            visible_rows+=("| $name | $size | \`/$view\` | $n | $(printf '%.2f / %.2f' "$cmd50" "$cmd99") | $(printf '%.2f / %.2f (max %.1f)' "$tok50" "$tok99" "$tokmax") | $(printf '%.2f / %.2f' "$plain50" "$plain99") | **$adds50 / $adds99** | $found of $((found + missed)) |")
        done <<<"$lines"
    done
}

# One backend: the service on a fresh database, every measurement; appends to the report.
pass() {
    local backend="$1" url name
    name="$(label "$backend")"
    fresh "$backend"
    local log="$out/service-$backend.log"
    HTTP_ADDR="$addr" DATABASE_URL="$url" RUST_LOG="$service_log" \
        "$service_bin" >"$log" 2>&1 &
    service_pid=$!
    local ready=""
    for _ in $(seq 1 300); do
        if curl -sf "http://$addr/health/ready" >/dev/null; then
            ready=1
            break
        fi
        kill -0 "$service_pid" 2>/dev/null || break
        sleep 0.1
    done
    [[ -n "$ready" ]] || { cat "$log" >&2; fail "the service did not become ready"; }
    commands=0
    local line

    # 1. command to visible, on the fresh store
    visible "$backend" "fresh"

    # 2. the load
    echo "--- $backend: loading $orders orders over $customers customers" >&2
    line="$("$client_bin" load --addr "$addr" --orders "$orders" --customers "$customers" \
        --concurrency "$load_concurrency" --out "$work/paths-$backend")" || fail "loading orders on $backend"
    echo "$line" >&2
    commands=$((commands + $(field commands "$line")))
    # The planner's statistics as autovacuum would leave them: without them PostgreSQL
    # plans the customer filter for a fraction of the rows it holds.
    [[ "$backend" == postgres ]] && psql "$url" -qX -c "VACUUM ANALYZE" >/dev/null
    local busy
    busy="$(idle_busy 5)"
    load_lines+=("- $name: $(group "$orders") orders placed in $(field seconds "$line") s ($(field orders_per_sec "$line") orders/s at $load_concurrency connections, p50 $(field p50_ms "$line") ms, p99 $(field p99_ms "$line") ms); both views showed the last order $(field catch_up_ms "$line") ms after it was placed (a read with its token); then, with no request for 5 s, the machine was $busy % busy")

    # 3. command to visible again, at that size
    visible "$backend" "$(group "$orders")"

    # 4. query throughput
    local targets=(orders summaries totals) round i target
    declare -A rps p50 p99
    for target in "${targets[@]}"; do rps[$target]="" p50[$target]="" p99[$target]=""; done
    for ((round = 0; round < rounds; round++)); do
        for ((i = 0; i < 3; i++)); do
            target="${targets[$(((i + round) % 3))]}"
            echo "--- $backend: round $((round + 1)), GET $target" >&2
            run_wrk "$work/paths-$backend/$target.paths" "$warmup" >/dev/null
            run_wrk "$work/paths-$backend/$target.paths" "$duration"
            rps[$target]+=" $wrk_rps" p50[$target]+=" $wrk_p50" p99[$target]+=" $wrk_p99"
        done
    done
    # shellcheck disable=SC2086
    local base
    base="$(median ${rps[orders]})"
    for target in "${targets[@]}"; do
        local route rate ratio
        case "$target" in
            orders) route="\`GET /orders/{id}\` (aggregate)" ;;
            summaries) route="\`GET /order-summaries?customer=C&sort=-placed_at&limit=50\`" ;;
            totals) route="\`GET /customer-totals/C\`" ;;
        esac
        # shellcheck disable=SC2086
        rate="$(median ${rps[$target]})"
        ratio="$(awk -v r="$rate" -v b="$base" 'BEGIN { printf "%.2f", r / b }')"
        # shellcheck disable=SC2086
        query_rows+=("| $name | $route | $(group "$(printf '%.0f' "$rate")") | $(median ${p50[$target]}) | $(median ${p99[$target]}) | **${ratio}×** | $(echo ${rps[$target]} | tr ' ' '/') |")
    done

    kill -TERM "$service_pid"
    wait "$service_pid" || fail "the service exited with status $? (log: $log)"
    service_pid=""
    local events
    events="$(stored "$backend" "$url")"
    ((events >= commands)) || fail "$commands commands answered 201 but the store holds $events events"
}

visible_rows=()
query_rows=()
commands=0
load_lines=()
load="$(cut -d' ' -f1-3 /proc/loadavg)"
for backend in $backends; do
    case "$backend" in
        sqlite | postgres) ;;
        *) fail "unknown backend \`$backend\` (sqlite, postgres)" ;;
    esac
    pass "$backend"
done

cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
echo "- machine: $(nproc) cores${cpu:+ ($cpu)}, $(uname -sr); load average at start: $load, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $(rustc --version); release profile; $(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2); $(psql -XtAc 'SHOW server_version' "$pg_url" 2>/dev/null | sed 's/^/PostgreSQL /')"
echo "- service built from: $(cat "$out/bin/built-from" 2>/dev/null || echo unknown)"
echo "- disk for SQLite: $(df --output=source,fstype "$work" | tail -n1 | tr -s ' ')"
echo "- service: RUST_LOG=$service_log, VIEW_WAIT_MS=${VIEW_WAIT_MS:-2000 (default)}"
echo "- command to visible: $iterations timed iterations per pass after $warmup_iterations untimed, the two views in turn, on 1 then $tasks connections"
echo "- queries: wrk -t2 -c$connections, ${duration}s measured after ${warmup}s warm-up, $rounds round(s), medians"
echo
echo "### Command to visible (ms)"
echo
echo "| store | orders stored | view | tasks | command p50 / p99 | read with token p50 / p99 | read without p50 / p99 | the token adds p50 / p99 | token reads that showed the command |"
echo "|---|--:|---|--:|--:|--:|--:|--:|--:|"
printf '%s\n' "${visible_rows[@]}"
echo
echo "### Queries over $(group "$orders") orders, $customers customers"
echo
printf '%s\n' "${load_lines[@]}"
echo
echo "| store | route | requests/s | p50 ms | p99 ms | / aggregate | requests/s per round |"
echo "|---|---|--:|--:|--:|--:|--:|"
printf '%s\n' "${query_rows[@]}"
