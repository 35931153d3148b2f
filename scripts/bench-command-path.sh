#!/usr/bin/env bash
# In-memory command path: ddd-core `Repository` vs cqrs-es 0.5 vs hand-written.
# Current figures and method: docs/benchmarks/command-path.md.
#
# Builds benches/command-path (its own cargo workspace, never built by the main workspace or
# CI) in release and runs every contender interleaved in one process; prints a markdown report.
#
#   scripts/bench-command-path.sh                      # C=10 and C=50, 5 rounds
#   scripts/bench-command-path.sh --commands 10 --rounds 9
#   FEATURES=fast-rng scripts/bench-command-path.sh    # experiment: uuid's thread-local RNG
#
# Env: CARGO_TARGET_DIR (default: <repo>/target, shared with the main workspace), FEATURES.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest="$root/benches/command-path/Cargo.toml"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
features=()
if [[ -n "${FEATURES:-}" ]]; then
    features=(--features "$FEATURES")
fi

cargo build --release --locked --manifest-path "$manifest" "${features[@]}" >&2
bin="$CARGO_TARGET_DIR/release/ddd-bench-command-path"

cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
echo "## In-memory command path"
echo
echo "- machine: $(nproc) cores${cpu:+ ($cpu)}, $(uname -sr); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $(rustc --version); release profile; tokio current-thread runtime"
echo "- command: \`scripts/bench-command-path.sh${*:+ $*}\`${FEATURES:+ with FEATURES=$FEATURES}"

report="$(mktemp)"
trap 'rm -f "$report"' EXIT
# The report goes to stderr; stdout only carries cqrs-es MemStore's two println!s per command.
if ! "$bin" "$@" 2>"$report" >/dev/null; then
    cat "$report" >&2
    exit 1
fi
cat "$report"
