#!/usr/bin/env bash
# Persistence: ddd-core `Repository` over ddd-postgres / ddd-sqlite vs cqrs-es 0.5 +
# postgres-es 0.5 (events only), pgbench (the server's limit) and raw rusqlite.
# Current figures and method: docs/benchmarks/persistence.md.
#
# Builds benches/persistence (PostgreSQL: S1 many accounts, S2 one hot account, S3 one command
# on a long stream; then S1 again on tables already holding 10,000 analyzed events, as a store
# in use) and benches/persistence/sqlite (SQLite appends, group commit) in release:
# two cargo workspaces of their own, never built by the main workspace or CI (postgres-es's
# sqlx 0.8 and ddd-sqlite's rusqlite cannot share a lock file). Each binary runs its
# contenders interleaved in one process; the script prints one markdown report.
#
#   scripts/bench-persistence.sh                       # everything, 5 rounds (about 4 minutes)
#   scripts/bench-persistence.sh --rounds 3            # fewer rounds
#   PG_ARGS="--only s3" SQLITE_ARGS=skip scripts/bench-persistence.sh
#
# Args given to the script go to both binaries (--rounds, --warmup). Env: DATABASE_URL
# (default postgres://postgres@127.0.0.1:5432/test; the benchmark creates and drops schemas
# `pbench_<pid>_*`), PGBENCH (default: pgbench on PATH, else PostgreSQL's bin directory),
# PG_ARGS / SQLITE_ARGS (extra args per binary; `skip` skips it), PREFILL (events in the
# tables for the store-in-use S1; default 10000, 0 skips that run), TMPDIR (the SQLite files: a
# real disk, not a tmpfs), CARGO_TARGET_DIR (default: <repo>/target), BUILD=0 (run the binaries
# already in CARGO_TARGET_DIR/release, so that nothing compiles beside the measurement).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
pg_manifest="$root/benches/persistence/Cargo.toml"
sqlite_manifest="$root/benches/persistence/sqlite/Cargo.toml"

if [[ -z "${PGBENCH:-}" ]]; then
    if command -v pgbench >/dev/null; then
        PGBENCH="$(command -v pgbench)"
    else
        PGBENCH="$(ls -d /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -n1)"
    fi
fi
export PGBENCH

if [[ "${BUILD:-1}" != 0 ]]; then
    [[ "${PG_ARGS:-}" == skip ]] || cargo build --release --locked --manifest-path "$pg_manifest" >&2
    [[ "${SQLITE_ARGS:-}" == skip ]] || cargo build --release --locked --manifest-path "$sqlite_manifest" >&2
fi

cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
echo "## Persistence: PostgreSQL and SQLite"
echo
echo "- machine: $(nproc) cores${cpu:+ ($cpu)}, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $(rustc --version); release profile; $("$PGBENCH" --version 2>/dev/null || echo 'pgbench: not found')"
echo "- disk for SQLite: $(df --output=source,fstype "${TMPDIR:-/tmp}" | tail -n1 | tr -s ' ')"
echo "- command: \`scripts/bench-persistence.sh${*:+ $*}\`${PG_ARGS:+ PG_ARGS=\"$PG_ARGS\"}${SQLITE_ARGS:+ SQLITE_ARGS=\"$SQLITE_ARGS\"}"

# Progress goes to stderr, the report to stdout.
if [[ "${PG_ARGS:-}" != skip ]]; then
    # shellcheck disable=SC2086 # PG_ARGS is a list of flags
    "$CARGO_TARGET_DIR/release/ddd-bench-persistence" "$@" ${PG_ARGS:-}
    if [[ "${PREFILL:-10000}" != 0 ]]; then
        # The header lines repeat the first run's; only the S1 section is new.
        # shellcheck disable=SC2086 # PG_ARGS is a list of flags
        "$CARGO_TARGET_DIR/release/ddd-bench-persistence" "$@" ${PG_ARGS:-} --only s1 --prefill "${PREFILL:-10000}" | sed -n '/^### S1/,$p'
    fi
fi
if [[ "${SQLITE_ARGS:-}" != skip ]]; then
    # shellcheck disable=SC2086 # SQLITE_ARGS is a list of flags
    "$CARGO_TARGET_DIR/release/ddd-bench-persistence-sqlite" "$@" ${SQLITE_ARGS:-}
fi
