#!/usr/bin/env bash
# In-memory command path: ddd-core `Repository` (without and with guards) vs cqrs-es 0.5 vs
# hand-written. Current figures and method: docs/benchmarks/command-path.md.
#
# Builds benches/command-path (its own cargo workspace, never built by the main workspace or
# CI) in release and runs every contender interleaved in one process; prints a markdown report.
#
#   scripts/bench-command-path.sh                      # C=10 and C=50, 5 rounds
#   scripts/bench-command-path.sh --commands 10 --rounds 9 --min-round-ms 500
#   FEATURES=fast-rng scripts/bench-command-path.sh    # experiment: uuid's thread-local RNG
#   INSTRUCTIONS=1 scripts/bench-command-path.sh       # then instructions per command, ours
#                                                      # without and with guards (valgrind)
#
# Env: CARGO_TARGET_DIR (default: <repo>/target, shared with the main workspace), FEATURES,
# INSTRUCTIONS (1: also count instructions with valgrind's callgrind: what the guards add,
# free of the machine's noise; C=10 and C=50, about a minute).
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

# Instructions per command, counted by callgrind: one pass of the workload is the difference
# between a run of 3 passes and a run of 1 (the setup, the same in both, cancels out).
if [[ "${INSTRUCTIONS:-}" == 1 ]]; then
    command -v valgrind >/dev/null || { echo "bench-command-path: INSTRUCTIONS=1 needs valgrind" >&2; exit 2; }
    instructions() { # CONTENDER C PASSES: the run's instruction count
        local out
        out="$(mktemp)"
        valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" --only "$1" --commands "$2" \
            --rounds "$3" --warmup 0 >/dev/null 2>&1
        sed -n 's/^summary: //p' "$out"
        rm -f "$out"
    }
    echo
    echo "### Instructions per command (callgrind), ours without and with guards"
    echo
    echo "| C | ours | ours with guards | added by the guards |"
    echo "|--:|--:|--:|--:|"
    for c in 10 50; do
        commands=$((1000 * (c + 1)))
        plain=$((($(instructions ours "$c" 3) - $(instructions ours "$c" 1)) / 2))
        guarded=$((($(instructions ours-guards "$c" 3) - $(instructions ours-guards "$c" 1)) / 2))
        awk -v c="$c" -v n="$commands" -v p="$plain" -v g="$guarded" 'BEGIN {
            printf "| %d | %.0f | %.0f | %+.0f (%+.2f %%) |\n", c, p / n, g / n, (g - p) / n, 100 * (g - p) / p
        }'
    done
fi
