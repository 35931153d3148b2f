#!/usr/bin/env bash
# Views: catch-up and queries of ddd-sqlite's and ddd-postgres's `ViewStore` against the same
# work done with the raw client (rusqlite, sqlx). Current figures and method:
# docs/benchmarks/views.md.
#
# Builds benches/views/sqlite and benches/views/postgres in release: cargo workspaces of their
# own, never built by the main workspace or CI. Each binary runs its contenders interleaved in
# one process; the script prints one markdown report.
#
#   scripts/bench-views.sh                          # both, 3 rounds after 1 warm-up
#   scripts/bench-views.sh --rounds 5               # args go to both binaries
#   SQLITE_ARGS=skip PG_ARGS="--only query" scripts/bench-views.sh
#
# Args given to the script go to both binaries (--events, --streams, --rows, --batch, --rounds,
# --warmup, --queries, --pages, --only catch-up,query). Env: DATABASE_URL (PostgreSQL; default
# postgres://postgres@127.0.0.1:5432/test; the benchmark creates and drops schemas
# `vbench_<pid>_*`), TMPDIR (the SQLite files: a real disk, not a tmpfs), SQLITE_ARGS /
# PG_ARGS (extra args per binary; `skip` skips it), CARGO_TARGET_DIR (default:
# <repo>/target), BUILD=0 (run the binaries already built, so that nothing compiles beside
# the measurement).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
sqlite_manifest="$root/benches/views/sqlite/Cargo.toml"
pg_manifest="$root/benches/views/postgres/Cargo.toml"

if [[ "${BUILD:-1}" != 0 ]]; then
    [[ "${SQLITE_ARGS:-}" == skip ]] || cargo build --release --manifest-path "$sqlite_manifest" >&2
    [[ "${PG_ARGS:-}" == skip ]] || cargo build --release --manifest-path "$pg_manifest" >&2
fi

cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
echo "## Views: SQLite and PostgreSQL"
echo
echo "- machine: $(nproc) cores${cpu:+ ($cpu)}, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $(rustc --version); release profile"
echo "- disk for SQLite: $(df --output=source,fstype "${TMPDIR:-/tmp}" | tail -n1 | tr -s ' ')"
echo "- command: \`scripts/bench-views.sh${*:+ $*}\`${SQLITE_ARGS:+ SQLITE_ARGS=\"$SQLITE_ARGS\"}${PG_ARGS:+ PG_ARGS=\"$PG_ARGS\"}"

# Progress goes to stderr, the report to stdout.
if [[ "${SQLITE_ARGS:-}" != skip ]]; then
    # shellcheck disable=SC2086 # SQLITE_ARGS is a list of flags
    "$CARGO_TARGET_DIR/release/ddd-bench-views-sqlite" "$@" ${SQLITE_ARGS:-}
fi
if [[ "${PG_ARGS:-}" != skip ]]; then
    # shellcheck disable=SC2086 # PG_ARGS is a list of flags
    "$CARGO_TARGET_DIR/release/ddd-bench-views-postgres" "$@" ${PG_ARGS:-}
fi
