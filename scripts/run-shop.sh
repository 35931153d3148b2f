#!/usr/bin/env bash
# The main job: generate the shop model into target/shop and run it as a modular monolith on
# the embedded default (one SQLite file per context under target/shop/data, the in-process
# bus), serving HTTP on 127.0.0.1:8080 (HTTP_ADDR to change). Ctrl-C stops it.
#
#   scripts/run-shop.sh                 # models/shop.ddd
#   scripts/run-shop.sh my-model.ddd    # any model; OUT=dir to choose where it goes
set -euo pipefail
cd "$(dirname "$0")/.."

model="${1:-models/shop.ddd}"
out="${OUT:-target/shop}"
cargo run --quiet -p ddd-cli -- generate "$model" --out "$out" --force
# Generated workspaces share one target dir, so the second one builds in seconds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target/gen-projects}"
cd "$out"
exec cargo run
