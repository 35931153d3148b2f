#!/usr/bin/env bash
# The main job: the shop of examples/shop, regenerated from its model (the files a person
# wrote are never touched) and run as a modular monolith on the embedded default: one SQLite
# file per context under examples/shop/data, the in-process bus, HTTP on 127.0.0.1:8080
# (HTTP_ADDR to change). Once it answers, it says what to try; Ctrl-C stops it.
#
# Its log goes to the terminal and to examples/shop/data/shop.log, where
# scripts/shop-flow.sh looks when a step waits in vain.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
shop=examples/shop
addr="${HTTP_ADDR:-127.0.0.1:8080}"
url="http://$addr"

cargo run --quiet -p ddd-cli -- generate "$shop/shop.ddd" --out "$shop" --runtime path:../..
# Generated workspaces share one target dir (the test suite's too), so their common
# dependencies build once.
export CARGO_TARGET_DIR="${SHOP_TARGET_DIR:-$root/target/gen-projects}"
(cd "$shop" && cargo build --quiet -p shop)

mkdir -p "$shop/data"
log="$shop/data/shop.log"
cd "$shop"
HTTP_ADDR="$addr" "$CARGO_TARGET_DIR/debug/shop" > >(tee "$root/$log") 2>&1 &
server=$!
trap 'kill -INT "$server" 2>/dev/null; wait "$server"' INT TERM

for _ in $(seq 1 100); do
  if curl -fs "$url/health/ready" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$server" 2>/dev/null; then
    wait "$server"
    exit $?
  fi
  sleep 0.1
done

cat <<EOF

==> the shop answers at $url
    its API:            $url/openapi.json
    readiness:          $url/health/ready
    walk the whole flow (product, cart, checkout, order, payment, shipment, views) from
    another terminal:   scripts/shop-flow.sh
    or by hand:         the curl examples of README.md
    Ctrl-C stops it; its data stays in $shop/data.

EOF
wait "$server"
