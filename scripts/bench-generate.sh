#!/usr/bin/env bash
# Generation time of `ddd generate` for models of 10, 100 and 1,000 aggregates (made by
# scripts/make-model.py), formatting on (the default), side by side in one run with a
# baseline `ddd` built from an earlier revision (BASELINE, default: the last revision whose
# generator ran rustfmt over its output); then `ddd new` + the first `cargo build` of the new
# service against `cargo generate` (templates/service) + the same build. Release builds;
# every run's wall time is printed, then the best and the ratio. Page:
# docs/benchmarks/generate.md.
# Usage: scripts/bench-generate.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
runs="${1:-3}"
baseline="${BASELINE:-ffd726d}"
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -p ddd-cli --quiet
ddd="$target/release/ddd"
old_tree="$root/target/bench-baseline/src"
old="$root/target/bench-baseline/release/ddd"
if [ ! -x "$old" ] || [ "$(cat "$root/target/bench-baseline/rev" 2>/dev/null)" != "$baseline" ]; then
  rm -rf "$old_tree"
  git worktree prune
  git worktree add --detach -f "$old_tree" "$baseline" > /dev/null
  (cd "$old_tree" && CARGO_TARGET_DIR="$root/target/bench-baseline" cargo build --release -p ddd-cli --quiet)
  echo "$baseline" > "$root/target/bench-baseline/rev"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# time_runs OUT LABEL CMD...: runs CMD $runs times, each writing a directory OUT that did not
# exist before (a new name every run: ext4 makes writing right after `rm -rf` of the same
# tree slower and slower, which would measure the file system, not the generator); prints
# the times and the best, and leaves the best in $best.
best=""
time_runs() {
  local out="$1" label="$2"
  shift 2
  local times=()
  best=""
  for run in $(seq "$runs"); do
    local fresh="$out-$run" start end t
    start=$(date +%s.%N)
    "${@//@OUT@/$fresh}" > /dev/null 2>&1
    end=$(date +%s.%N)
    t=$(printf '%.3f' "$(echo "$end - $start" | bc)")
    times+=("$t")
    if [ -z "$best" ] || (( $(echo "$t < $best" | bc) )); then best=$t; fi
  done
  printf '%-44s %-24s best %s\n' "$label" "${times[*]}" "$best"
}

printf '%-44s %-24s %s\n' "" "runs (s, wall)" ""
for n in 10 100 1000; do
  python3 scripts/make-model.py "$n" > "$work/m$n.ddd"
  time_runs "$work/old$n" "$n aggregates, baseline $baseline (rustfmt)" \
    "$old" generate "$work/m$n.ddd" --out @OUT@ -q
  old_best=$best
  time_runs "$work/plain$n" "$n aggregates, baseline, no formatting" \
    "$old" generate "$work/m$n.ddd" --out @OUT@ -q --no-format
  plain_best=$best
  time_runs "$work/new$n" "$n aggregates, ddd (formatted in process)" \
    "$ddd" generate "$work/m$n.ddd" --out @OUT@ -q
  printf '%-44s %.2fx the baseline with rustfmt, %.2fx without formatting\n' "" \
    "$(echo "$best / $old_best" | bc -l)" "$(echo "$best / $plain_best" | bc -l)"
done

# One service, its first build in the shared generated-projects target directory (the
# dependencies are compiled once before, so both sides build only the service's crates).
cg="${CARGO_GENERATE:-$(command -v cargo-generate || true)}"
if [ -z "$cg" ] || [ ! -x "$cg" ]; then
  echo "cargo-generate not found: install it with cargo install cargo-generate --version '~0.23' --locked" >&2
  exit 1
fi
export CARGO_TARGET_DIR="$root/target/gen-projects"
build() { (cd "$1" && cargo build --workspace -q); }
"$ddd" new warmup --out "$work/warmup" > /dev/null && build "$work/warmup"
time_runs "$work/svc" "ddd new" "$ddd" new demo-service --out @OUT@
new_best=$best
cargo_generate() { # DIR: the service in DIR/demo-service
  mkdir -p "$1" && "$cg" generate --path templates/service --name demo-service \
    --define ddd_path="$root" --destination "$1" --silent --vcs none
}
time_runs "$work/cg" "cargo generate" cargo_generate @OUT@
cg_best=$best
printf '%-44s %.2fx cargo generate\n' "" "$(echo "$new_best / $cg_best" | bc -l)"
"$ddd" new demo-service --out "$work/svc" > /dev/null
touch_build() { local start end; start=$(date +%s.%N); build "$1"; end=$(date +%s.%N); printf '%-44s %.3f\n' "$2" "$(echo "$end - $start" | bc)"; }
touch_build "$work/svc" "first cargo build after ddd new"
cargo_generate "$work/cg"
cp Cargo.lock "$work/cg/demo-service/"
touch_build "$work/cg/demo-service" "first cargo build after cargo generate"
