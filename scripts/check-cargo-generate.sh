#!/usr/bin/env bash
# Proves that templates/cargo-generate starts a service with `cargo generate`: installs a
# cargo-generate that builds on this toolchain (0.23.x; newer ones need Rust 1.96+) into
# target/tools, generates a service, builds and tests it. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
tools="$root/target/tools"
if [ ! -x "$tools/bin/cargo-generate" ]; then
  cargo install cargo-generate --version "~0.23" --locked --root "$tools"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
start=$(date +%s.%N)
"$tools/bin/cargo-generate" generate --path "$root/templates/cargo-generate" \
  --name demo-service --define ddd_path="$root" --destination "$work" --silent --vcs none
end=$(date +%s.%N)
echo "cargo generate: $(echo "$end - $start" | bc) s"
cd "$work/demo-service"
cp "$root/Cargo.lock" .
export CARGO_TARGET_DIR="${DDD_GENERATED_TARGET_DIR:-$root/target/gen-projects}"
cargo clippy --all-targets -- -D warnings
cargo test
echo "templates/cargo-generate: ok"
