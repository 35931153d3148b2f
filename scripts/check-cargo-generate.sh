#!/usr/bin/env bash
# Proves that templates/service (the template of `ddd new`) starts a service with
# cargo-generate too: generates one, then builds it with no warnings, clippy -D warnings,
# fmt --check and its tests; prints how long `cargo generate` took. Not part of CI: it
# needs cargo-generate, which it does not install (0.23.x builds on Rust 1.95, newer
# releases need a newer toolchain):
#   cargo install cargo-generate --version '~0.23' --locked --root DIR
# then put DIR/bin on PATH or set CARGO_GENERATE=DIR/bin/cargo-generate.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
cg="${CARGO_GENERATE:-$(command -v cargo-generate || true)}"
if [ -z "$cg" ] || [ ! -x "$cg" ]; then
  echo "check-cargo-generate: skipped, cargo-generate not found (see the comment at the top of $0)"
  exit 0
fi
"$cg" --version
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
start=$(date +%s.%N)
"$cg" generate --path "$root/templates/service" --name demo-service \
  --define ddd_path="$root" --destination "$work" --silent --vcs none
end=$(date +%s.%N)
printf 'cargo generate: %.3f s\n' "$(echo "$end - $start" | bc)"
cd "$work/demo-service"
test ! -e cargo-generate.toml
cp "$root/Cargo.lock" .
export CARGO_TARGET_DIR="${DDD_GENERATED_TARGET_DIR:-$root/target/gen-projects}"
# clippy -D warnings denies the compiler's warnings too.
cargo clippy --all-targets -- -D warnings
cargo fmt --check
cargo test
echo "templates/service with cargo-generate: ok"
