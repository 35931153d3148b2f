#!/usr/bin/env bash
# Generation time of `ddd generate` for models of 10, 100 and 1,000 aggregates (made by
# scripts/make-model.py), with and without rustfmt over the output. Release build.
# Usage: scripts/bench-generate.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -p ddd-cli --quiet
ddd="$target/release/ddd"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '%-11s %-10s %s\n' aggregates format "best of $runs (s)"
for n in 10 100 1000; do
  python3 scripts/make-model.py "$n" > "$work/m$n.ddd"
  for format in no yes; do
    flag=()
    [ "$format" = no ] && flag=(--no-format)
    best=""
    for _ in $(seq "$runs"); do
      rm -rf "$work/out"
      start=$(date +%s.%N)
      "$ddd" generate "$work/m$n.ddd" --out "$work/out" -q "${flag[@]}" > /dev/null
      end=$(date +%s.%N)
      t=$(echo "$end - $start" | bc)
      if [ -z "$best" ] || (( $(echo "$t < $best" | bc) )); then best=$t; fi
    done
    printf '%-11s %-10s %.3f\n' "$n" "$format" "$best"
  done
done
