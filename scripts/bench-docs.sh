#!/usr/bin/env bash
# Time of `ddd docs` (the catalog site, API documents included) for the shop and for a
# generated 1,000-aggregate model (scripts/make-model.py: 100 contexts), and of the layout of
# a 100-context context map (ddd-docs' layout_bench example, on the tests' generated model
# with its relations and policies), release build. The budget of the site is < 2 s at
# 1,000 aggregates.
# Current figures and method: docs/benchmarks/docs-site.md.
#
#   scripts/bench-docs.sh          # 11 rounds of each
#   scripts/bench-docs.sh 21       # 21 rounds
#
# Env: CARGO_TARGET_DIR (default: <repo>/target).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
rounds="${1:-11}"
cargo build -q --release --manifest-path "$root/Cargo.toml" -p ddd-cli -p ddd-docs --bins --examples >&2
ddd="$CARGO_TARGET_DIR/release/ddd"
bench="$CARGO_TARGET_DIR/release/examples/layout_bench"
# In memory where there is a tmpfs: the figures are of making the site, not of the disk
# (six thousand files, 96 MB at 1,000 aggregates) on a machine whose disk others share.
work="$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 "$root/scripts/make-model.py" 1000 > "$work/big.ddd"
"$bench" --model 100 > "$work/map.ddd"

# The median and the fastest of $rounds runs of a command, in milliseconds.
time_ms() {
  local times=() start end
  for _ in $(seq "$rounds"); do
    start=$(date +%s%N)
    "$@" > /dev/null 2>&1
    end=$(date +%s%N)
    times+=($(((end - start) / 1000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ t[NR] = $1 } END { printf "median %.1f ms (fastest %.1f ms)", t[int((NR + 1) / 2)] / 1000, t[1] / 1000 }'
}

cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
echo "- machine: $(nproc) cores${cpu:+ ($cpu)}, $(uname -sr); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $(rustc --version); commit $(git -C "$root" rev-parse --short HEAD)"
echo "- command: \`scripts/bench-docs.sh${*:+ $*}\`, $rounds rounds each"
echo
echo "| what | time |"
echo "|---|---|"
echo "| \`ddd docs\` shop (5 contexts, 25 files) | $(time_ms "$ddd" docs "$root/examples/shop/shop.ddd" --out "$work/shop-site" -q) |"
echo "| \`ddd check\` 1,000 aggregates (reading and checking alone) | $(time_ms "$ddd" check "$work/big.ddd" -q) |"
echo "| \`ddd docs\` 1,000 aggregates (100 contexts) | $(time_ms "$ddd" docs "$work/big.ddd" --out "$work/big-site" -q) |"
echo "| \`ddd graph --format svg\` 100-context map | $(time_ms "$ddd" graph "$work/map.ddd" --format svg -q) |"
echo "| \`ddd graph --format mermaid\` 100-context map (no layout) | $(time_ms "$ddd" graph "$work/map.ddd" --format mermaid -q) |"
echo
echo "Layout alone: $("$bench" 100 "$rounds")"
echo "Site of 1,000 aggregates: $(find "$work/big-site" -type f | wc -l) files, $(du -sh "$work/big-site" | cut -f1)"
