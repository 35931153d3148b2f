#!/usr/bin/env bash
# Compile cost of the derives: 100 aggregates written with ddd-core's derives vs the same 100
# aggregates with hand-written impls of the same traits.
# Current figures and method: docs/benchmarks/compile-cost.md.
#
# Generates two throwaway crates under target/compile-cost/ (not committed; see
# scripts/compile-cost-gen.py), builds their dependencies once, then times clean debug builds
# of just the generated crate (`cargo clean -p <crate>` + `cargo build -p <crate>`),
# alternating derived / handwritten, and prints a markdown table.
#
#   scripts/bench-compile-cost.sh
#   ROUNDS=5 COUNT=100 scripts/bench-compile-cost.sh
#   CARGO_CMD=check scripts/bench-compile-cost.sh     # `cargo check` instead of `cargo build`
#
# Env: ROUNDS (3), COUNT (100 aggregates), CARGO_CMD (build). The crates get their own target
# dir (target/compile-cost/target) so no other build holds the cargo lock while we time.
# Builds are non-incremental (CARGO_INCREMENTAL=0) so every timed build is a full one.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/target/compile-cost"
rounds="${ROUNDS:-3}"
count="${COUNT:-100}"
cmd="${CARGO_CMD:-build}"
export CARGO_TARGET_DIR="$out/target"
export CARGO_INCREMENTAL=0
manifest="$out/Cargo.toml"

python3 "$root/scripts/compile-cost-gen.py" --out "$out" --count "$count" \
    --ddd-core "$root/ddd-core" --seed-lock "$root/Cargo.lock"

crates=(compile-cost-derived compile-cost-handwritten)

# Dependencies (ddd-core, ddd-macros, serde, uuid, ...) once; then each crate once, so that a
# failure to compile shows up here and not in the middle of the timings.
echo "building dependencies and both crates once..." >&2
for crate in compile-cost-handwritten compile-cost-derived; do
    if ! log="$(cargo "$cmd" --manifest-path "$manifest" -p "$crate" 2>&1)"; then
        echo "$log" | grep -E '^(error|warning: unused)' -A12 | head -n 80 >&2
        echo >&2
        echo "FAILED: \`$crate\` does not compile (for compile-cost-derived: are the derives of ddd-macros implemented yet?)." >&2
        echo "The generated crates are in $out." >&2
        exit 1
    fi
done

# Wall time, and CPU time (user + sys of cargo and rustc, all threads), which other load on a
# shared machine disturbs much less than wall time.
TIMEFORMAT='%R %U %S'
timing="$(mktemp)"
trap 'rm -f "$timing"' EXIT
declare -A wall cpu
for ((round = 1; round <= rounds; round++)); do
    # Alternate which crate goes first so neither always runs on a warmer machine.
    if ((round % 2)); then order=("${crates[@]}"); else order=("${crates[1]}" "${crates[0]}"); fi
    for crate in "${order[@]}"; do
        cargo clean --manifest-path "$manifest" -p "$crate" --quiet 2>/dev/null || true
        { time cargo "$cmd" --manifest-path "$manifest" -p "$crate" --quiet 2>/dev/null; } 2>"$timing"
        read -r real user sys <"$timing"
        cpu_seconds="$(python3 -c "print(f'{$user + $sys:.2f}')")"
        wall[$crate]="${wall[$crate]:-} $real"
        cpu[$crate]="${cpu[$crate]:-} $cpu_seconds"
        echo "round $round: $crate wall ${real}s, cpu ${cpu_seconds}s" >&2
    done
done

median() { python3 -c 'import statistics, sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.2f}")' "$@"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
verdict() { python3 -c "print('met' if $1 / $2 <= 1.2 else '**missed**')"; }
# shellcheck disable=SC2086 # word splitting of the time lists is intended
{
    d_wall="$(median ${wall[compile-cost-derived]})"
    h_wall="$(median ${wall[compile-cost-handwritten]})"
    d_cpu="$(median ${cpu[compile-cost-derived]})"
    h_cpu="$(median ${cpu[compile-cost-handwritten]})"
}
lines() { wc -l <"$out/$1/src/lib.rs" | tr -d ' '; }
cpu_model="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"

echo "## Compile cost of the derives"
echo
echo "- machine: $(nproc) cores${cpu_model:+ ($cpu_model)}, $(uname -sr); load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $(rustc --version); debug profile, \`CARGO_INCREMENTAL=0\`, \`cargo $cmd\` of the generated crate only (dependencies prebuilt), $rounds rounds alternating"
echo "- command: \`ROUNDS=$rounds COUNT=$count CARGO_CMD=$cmd scripts/bench-compile-cost.sh\`"
echo
echo "| crate ($count aggregates) | source lines | wall s (median) | CPU s (median) | wall, all runs | CPU, all runs |"
echo "|---|---:|---:|---:|---|---|"
echo "| derived (\`#[derive(Aggregate, DomainEvent, Command)]\`) | $(lines derived) | $d_wall | $d_cpu |${wall[compile-cost-derived]} |${cpu[compile-cost-derived]} |"
echo "| hand-written impls | $(lines handwritten) | $h_wall | $h_cpu |${wall[compile-cost-handwritten]} |${cpu[compile-cost-handwritten]} |"
echo
# Rounds pair one derived and one hand-written build run back to back; their ratios are less
# affected by load that drifts over the whole run than the ratio of medians.
paired() {
    python3 - "$1" "$2" <<'PY'
import statistics, sys
d = [float(x) for x in sys.argv[1].split()]
h = [float(x) for x in sys.argv[2].split()]
r = [a / b for a, b in zip(d, h)]
print(f"median {statistics.median(r):.2f}× (per round: {', '.join(f'{x:.2f}' for x in r)})")
PY
}
echo "per-round paired ratios: wall $(paired "${wall[compile-cost-derived]}" "${wall[compile-cost-handwritten]}"); CPU $(paired "${cpu[compile-cost-derived]}" "${cpu[compile-cost-handwritten]}")"
echo
echo "derived / hand-written: wall **$(ratio "$d_wall" "$h_wall")×** (target ≤ 1.2×: $(verdict "$d_wall" "$h_wall")), CPU **$(ratio "$d_cpu" "$h_cpu")×** ($(verdict "$d_cpu" "$h_cpu"))"
