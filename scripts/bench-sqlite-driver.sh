#!/usr/bin/env bash
# Which SQLite driver ddd-sqlite uses, by measurement: rusqlite on a writer thread vs
# sqlx-sqlite, the same group-committed appends (synchronous=FULL, WAL) and the same loads.
# Current figures and method: docs/benchmarks/sqlite-driver.md.
#
#   scripts/bench-sqlite-driver.sh                 # 20000 appends, 20000 loads
#   scripts/bench-sqlite-driver.sh 50000 50000
#
# Builds benches/sqlite-driver (its own cargo workspace) in release. The database files go
# to TMPDIR: put it on the disk you care about (a tmpfs makes fsync free).
# Env: CARGO_TARGET_DIR (default: <repo>/target).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest="$root/benches/sqlite-driver/Cargo.toml"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

cargo build --release --manifest-path "$manifest" >&2
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); TMPDIR on $(df --output=source,fstype "${TMPDIR:-/tmp}" | tail -n1)"
"$CARGO_TARGET_DIR/release/ddd-bench-sqlite-driver" "$@"
