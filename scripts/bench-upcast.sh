#!/usr/bin/env bash
# What one upcast step costs when an aggregate of old events is loaded: 2,000 events written
# as v1 and upcast to v2 on decode against 2,000 written as v2, through `Repository::load` on
# SQLite and through decoding alone. Method and figures: docs/benchmarks/upcast.md.
#
# Builds benches/upcast (its own cargo workspace, never built by the main workspace or CI) in
# release and prints a markdown table.
#
#   scripts/bench-upcast.sh                                 # 2,000 events, 15 rounds of 20 loads
#   scripts/bench-upcast.sh --events 10000 --rounds 9 --loads 5
#
# Env: CARGO_TARGET_DIR (default: <repo>/target, shared with the main workspace).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest="$root/benches/upcast/Cargo.toml"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

cargo build --release --locked --manifest-path "$manifest" >&2
bin="$CARGO_TARGET_DIR/release/ddd-bench-upcast"

cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
echo "## Loading old events through an upcaster"
echo
echo "- machine: $(nproc) cores${cpu:+ ($cpu)}, $(uname -sr); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $(rustc --version); release profile; tokio current-thread runtime"
echo "- commit: $(git -C "$root" rev-parse --short HEAD)"
echo "- command: \`scripts/bench-upcast.sh${*:+ $*}\`"
echo
"$bin" "$@"
