#!/usr/bin/env bash
# The outbox relay lease, measured (docs/benchmarks/relay-lease.md): publishes per committed
# event with one and three relays over one PostgreSQL database, and the takeover and the
# longest gap between publishes when the publishing relay is killed with SIGKILL.
# Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
# About a minute and a half once built.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test -p ddd-postgres --test relay_failover -- --ignored --exact relay_lease_measurement \
    --nocapture --test-threads=1 2>/dev/null | grep '^|'
