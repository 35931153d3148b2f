#!/usr/bin/env bash
# The shop's whole flow, timed end to end (checkout → order placed → payment requested →
# captured → order paid → shipment prepared → address → dispatched → order shipped), on the
# two topologies of examples/shop: the modular monolith (one process, SQLite files, the
# in-process bus) and the services (a process per context, a PostgreSQL database each, NATS
# JetStream). Current figures and method: docs/benchmarks/shop-flow.md.
#
# Builds examples/shop (release, all features) and benches/shop-flow (`shop-flow-client`),
# then per topology: the shop on fresh databases (RUST_LOG=warn), `shop-flow-client latency`
# (FLOWS flows, one customer, after WARMUP untimed) and `shop-flow-client load` (CUSTOMERS
# customers at once for SECONDS s). The client sees each hop on the aggregates, so a view's
# refresh interval is not in the figures.
#
#   scripts/bench-shop-flow.sh                  # both topologies (≈ 2 min + builds)
#   TOPOLOGIES=monolith FLOWS=50 scripts/bench-shop-flow.sh
#
# Env: TOPOLOGIES ("monolith services"), FLOWS (200), WARMUP (20), CUSTOMERS (16), LOAD_SECONDS
# (20), SERVICE_LOG (warn), DATABASE_URL (the PostgreSQL server; databases
# `bench_shop_flow_<pid>_<context>` are created and dropped), NATS_URL
# (nats://127.0.0.1:4222), BUILD (1; 0 runs the last build), CARGO_TARGET_DIR (default
# <repo>/target/gen-projects, shared with the test suite's generated workspaces), BIN_DIR
# (where the shop's binaries are copied and run from: <repo>/target/bench-shop-flow/bin; with
# BUILD=0, a directory of binaries built otherwise, to compare builds), TMPDIR (the SQLite
# files: a real disk). The markdown report goes to stdout, progress to stderr.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/gen-projects}"
topologies="${TOPOLOGIES:-monolith services}"
flows="${FLOWS:-200}"
warmup="${WARMUP:-20}"
customers="${CUSTOMERS:-16}"
seconds="${LOAD_SECONDS:-20}"
service_log="${SERVICE_LOG:-warn}"
pg_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
nats_url="${NATS_URL:-nats://127.0.0.1:4222}"
shop="$root/examples/shop"
out="$root/target/bench-shop-flow"
client="$CARGO_TARGET_DIR/release/shop-flow-client"
contexts=(catalog cart ordering payments shipping)
base_port=18300

for tool in curl psql; do
    command -v "$tool" >/dev/null || { echo "bench-shop-flow: \`$tool\` is not on PATH" >&2; exit 2; }
done

fail() {
    echo "bench-shop-flow: FAILED: $*" >&2
    exit 1
}

# --- build -------------------------------------------------------------------------------
bin="${BIN_DIR:-$out/bin}"
mkdir -p "$bin"
bin="$(cd "$bin" && pwd)"
if [[ "${BUILD:-1}" != 0 ]]; then
    (cd "$shop" && cargo build --release --workspace --bins --all-features >&2)
    for binary in shop "${contexts[@]/#/shop-}"; do
        cp "$CARGO_TARGET_DIR/release/$binary" "$bin/"
    done
    echo "commit $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD 2>/dev/null ||
        echo ' (uncommitted changes in the tree)')" >"$bin/built-from"
    cargo build --release --manifest-path "$root/benches/shop-flow/Cargo.toml" >&2
fi
[[ -x "$client" && -x "$bin/shop" ]] || fail "not built (run without BUILD=0)"

# --- processes and databases, cleaned up on exit -------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/bench-shop-flow.XXXXXX")"
pids=()
databases=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for db in "${databases[@]}"; do
        psql "$pg_url" -qX -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# start NAME PORT ENV...: a binary of the shop, until it answers /health/ready.
start() {
    local name="$1" port="$2"
    shift 2
    # exec: the pid kept is the binary's, which the cleanup stops.
    (cd "$work" && exec env HTTP_ADDR="127.0.0.1:$port" RUST_LOG="$service_log" "$@" \
        "$bin/$name" >"$out/$name-$port.log" 2>&1) &
    local pid=$!
    pids+=("$pid")
    for _ in $(seq 1 300); do
        # Ours, not another process on the port.
        kill -0 "$pid" 2>/dev/null || break
        curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && return
        sleep 0.1
    done
    cat "$out/$name-$port.log" >&2
    fail "$name did not become ready"
}

stop_all() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=()
}

# Field $1 (`name=value`) of the line $2.
field() {
    sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}

rows=()
hop_rows=()
# measure TOPOLOGY ADDRESS-ARGS...: both client modes; appends to the report.
measure() {
    local topology="$1" line
    shift
    echo "--- $topology: $flows flows, one customer" >&2
    line="$("$client" latency "$@" --flows "$flows" --warmup "$warmup")" || fail "latency on $topology"
    echo "$line" >&2
    report "$topology" "$line"
    echo "--- $topology: $customers customers for ${seconds}s" >&2
    line="$("$client" load "$@" --customers "$customers" --seconds "$seconds")" || fail "load on $topology"
    echo "$line" >&2
    report "$topology" "$line"
}

report() {
    local topology="$1" line="$2"
    rows+=("| $topology | $(field customers "$line") | $(field flows "$line") | **$(field p50_ms "$line")** | **$(field p99_ms "$line")** | $(field flows_per_sec "$line") |")
    hop_rows+=("| $topology | $(field customers "$line") | $(field placed_p50_ms "$line") | $(field requested_p50_ms "$line") | $(field capture_p50_ms "$line") | $(field paid_p50_ms "$line") | $(field prepared_p50_ms "$line") | $(field address_dispatch_p50_ms "$line") | $(field shipped_p50_ms "$line") |")
}

load="$(cut -d' ' -f1-3 /proc/loadavg)"
for topology in $topologies; do
    case "$topology" in
        monolith)
            start shop "$base_port"
            measure monolith --addr "127.0.0.1:$base_port"
            stop_all
            ;;
        services)
            args=()
            port=$((base_port + 1))
            for context in "${contexts[@]}"; do
                db="bench_shop_flow_$$_$context"
                psql "$pg_url" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db" >/dev/null
                databases+=("$db")
                start "shop-$context" "$port" DATABASE_URL="${pg_url%/*}/$db" BUS_URL="$nats_url" \
                    BUS_NAMESPACE="bench-shop-flow-$$"
                args+=(--"$context" "127.0.0.1:$port")
                port=$((port + 1))
            done
            measure services "${args[@]}"
            stop_all
            ;;
        *) fail "unknown topology \`$topology\` (monolith, services)" ;;
    esac
done

cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
echo "- machine: $(nproc) cores${cpu:+ ($cpu)}, $(uname -sr); load average at start: $load, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $(rustc --version); release profile; $(psql -XtAc 'SHOW server_version' "$pg_url" 2>/dev/null | sed 's/^/PostgreSQL /'); NATS at $nats_url"
echo "- shop built from: $(cat "$bin/built-from" 2>/dev/null || echo unknown)"
echo "- disk for SQLite: $(df --output=source,fstype "$work" | tail -n1 | tr -s ' ')"
echo "- one customer: $flows flows after $warmup untimed; many: $customers customers for ${seconds}s"
echo
echo "### Checkout to order shipped (ms)"
echo
echo "| topology | customers at once | flows | p50 | p99 | flows/s |"
echo "|---|--:|--:|--:|--:|--:|"
printf '%s\n' "${rows[@]}"
echo
echo "### Where a flow's time goes (p50 of each hop, ms)"
echo
echo "| topology | customers | checkout → placed | placed → requested | capture | captured → paid | paid → prepared | address + dispatch | dispatched → shipped |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|"
printf '%s\n' "${hop_rows[@]}"
