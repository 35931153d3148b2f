#!/usr/bin/env bash
# Parse + validate time of two generated 1,000-aggregate models (ddd-model's `load`), release,
# side by side: a plain one and one whose every aggregate has a lifecycle, guards, `sets`, an
# `@key` and a named type. The generator's budget is < 1 s for the whole `ddd generate`,
# rendering included.
# Current figures and method: docs/benchmarks/model.md.
#
#   scripts/bench-model.sh              # 1,000 aggregates, 21 rounds
#   scripts/bench-model.sh 5000 11      # 5,000 aggregates, 11 rounds
#
# Env: CARGO_TARGET_DIR (default: <repo>/target).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
cargo bench --manifest-path "$root/Cargo.toml" -p ddd-model --bench load --no-run >&2
echo "- machine: $(nproc) cores${cpu:+ ($cpu)}, $(uname -sr); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $(rustc --version)"
echo "- command: \`scripts/bench-model.sh${*:+ $*}\`"
echo
cargo bench --manifest-path "$root/Cargo.toml" -p ddd-model --bench load -- "$@" 2>/dev/null
