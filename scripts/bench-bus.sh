#!/usr/bin/env bash
# Bus adapters vs raw clients: ddd-nats, ddd-rabbitmq, ddd-redis, ddd-kafka (on librdkafka's
# in-process mock cluster: there is no Kafka broker here) and ddd-core's in-process bus, each
# against the raw client (or a tokio channel) doing the same durable publish and manual-ack
# consume. Needs the local NATS (JetStream), RabbitMQ and Redis (NATS_URL, AMQP_URL,
# REDIS_URL or the defaults).
# Current figures and method: docs/benchmarks/bus.md.
#
# Builds benches/bus (its own cargo workspace, never built by the main workspace or CI) in
# release and runs every contender interleaved in one process; prints a markdown report.
#
#   scripts/bench-bus.sh                                   # 20,000 messages (2,000 on Kafka), 3 rounds (~2 min)
#   scripts/bench-bus.sh --messages 10000 --rounds 5
#   LOW_LOAD= scripts/bench-bus.sh --only nats-ours,nats-raw   # a subset, no low-load pass
#
# Two passes: the arguments' (default: batches of 1000, confirm window 256: throughput, and
# latency under a saturating load, so mostly queueing), then LOW_LOAD's (default: one message
# per publish call, 1000 messages: latency when the bus is not backed up). LOW_LOAD= skips it.
#
# Env: CARGO_TARGET_DIR (default: <repo>/target, shared with the main workspace), LOW_LOAD.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest="$root/benches/bus/Cargo.toml"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

cargo build --release --locked --manifest-path "$manifest" >&2
bin="$CARGO_TARGET_DIR/release/ddd-bench-bus"

versions() {
    local nats rabbit redis
    nats="$(nats-server --version 2>/dev/null | head -n1 | sed "s/^nats-server: //")"
    rabbit="$(rabbitmqctl version 2>/dev/null | head -n1)"
    redis="$(redis-server --version 2>/dev/null | sed -n 's/.*v=\([^ ]*\).*/\1/p')"
    echo "nats-server ${nats:-?}, RabbitMQ ${rabbit:-?}, Redis ${redis:-?}"
}

cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
echo "## Bus adapters vs raw clients"
echo
echo "- machine: $(nproc) cores${cpu:+ ($cpu)}, $(uname -sr); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- brokers (local, same machine): $(versions)"
echo "- $(rustc --version); release profile; tokio multi-thread runtime, 2 workers"
echo "- command: \`scripts/bench-bus.sh${*:+ $*}\`"
low_load="${LOW_LOAD---batch 1 --messages 1000 --memory-messages 20000}"
started=$SECONDS
echo
echo "### Throughput (and latency under saturating load)"
echo
"$bin" "$@"
if [[ -n "$low_load" ]]; then
    echo
    echo "### Latency at low load: \`$low_load\`"
    echo
    # shellcheck disable=SC2086 # word splitting of the argument list is intended
    "$bin" $low_load
fi
echo
echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg); run took $((SECONDS - started)) s"
