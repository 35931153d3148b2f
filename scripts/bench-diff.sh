#!/usr/bin/env bash
# Wall time of `ddd diff OLD NEW` on two models of N aggregates (default 1,000): OLD written by
# scripts/make-model.py (the behaviour model), NEW by scripts/evolve-model.py from it (every
# aggregate changed: 4,100 changes for 1,000 aggregates, 1,100 of them breaking). Cases, run
# interleaved round by round: the diff in each format, a model against itself (two loads, no
# change), and `ddd check` of OLD (one load) to show what reading the models costs. Release
# build; every run's time, then the median and the best. Budget: < 1 s for 1,000 aggregates.
# Page: docs/benchmarks/diff.md.
#
# Usage: scripts/bench-diff.sh [aggregates] [runs]      (defaults: 1000 11)
# Env: CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
aggregates="${1:-1000}"
runs="${2:-11}"
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
cargo build --release -p ddd-cli --quiet
ddd="$target/release/ddd"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 scripts/make-model.py "$aggregates" > "$work/old.ddd"
python3 scripts/evolve-model.py < "$work/old.ddd" > "$work/new.ddd"

labels=(
  "diff, human"
  "diff, json"
  "diff of a model with itself"
  "check of one model"
)
commands=(
  "$ddd diff old.ddd new.ddd"
  "$ddd diff --format json old.ddd new.ddd"
  "$ddd diff old.ddd old.ddd"
  "$ddd check old.ddd"
)
# Exit statuses each case must have: 7 is the breaking changes' one.
expected=(7 7 0 0)

cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
echo "- machine: $(nproc) cores${cpu:+ ($cpu)}, $(uname -sr); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- commit: $(git rev-parse --short HEAD); $(rustc --version)"
echo "- models: $aggregates aggregates, $(wc -l < "$work/old.ddd") and $(wc -l < "$work/new.ddd") lines, $(( $(wc -c < "$work/old.ddd") / 1024 )) KiB each"
(cd "$work" && "$ddd" diff old.ddd new.ddd 2>/dev/null | tail -n1 | sed 's/^/- the diff: /') || true
echo

declare -a times
for ((i = 0; i < ${#labels[@]}; i++)); do times[i]=""; done
for run in $(seq "$runs"); do
  for ((i = 0; i < ${#labels[@]}; i++)); do
    start=$(date +%s.%N)
    # shellcheck disable=SC2086 # the command line is split on purpose
    status=0; (cd "$work" && ${commands[i]} > /dev/null 2>&1) || status=$?
    end=$(date +%s.%N)
    if [ "$status" != "${expected[i]}" ]; then
      echo "\`${commands[i]}\` exited $status, expected ${expected[i]}" >&2
      exit 1
    fi
    times[i]="${times[i]} $(echo "$end - $start" | bc)"
  done
  echo "round $run/$runs:$(for ((i = 0; i < ${#labels[@]}; i++)); do printf ' %.3f' ${times[i]##* }; done)" >&2
done

median_of() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
best_of() { printf '%s\n' "$@" | sort -n | head -n1; }
echo "| case ($aggregates aggregates) | median | best |"
echo "|---|---:|---:|"
for ((i = 0; i < ${#labels[@]}; i++)); do
  # shellcheck disable=SC2086 # one time per word
  printf '| %s | %.3f s | %.3f s |\n' "${labels[i]}" "$(median_of ${times[i]})" "$(best_of ${times[i]})"
done
