#!/usr/bin/env bash
# Walks the shop's whole flow against a running shop, over HTTP: a product, a cart with
# items, the checkout, the order Ordering places for it (a policy, over the bus), the payment
# Payments requests, its capture, the shipment Shipping prepares, an address, the dispatch,
# the order shipped; then the views (the customer's orders, their totals). Every step prints
# what it sent and what came back; the first unexpected answer stops the walk with the
# request and the response. A step that waits on the bus gives up after WAIT_SECS with the
# warnings and errors of the logs of the contexts involved.
#
#   scripts/shop-flow.sh                       # the monolith of scripts/run-shop.sh
#   SHOP_URL=http://127.0.0.1:9000 scripts/shop-flow.sh
#   CATALOG_URL=… CART_URL=… ORDERING_URL=… PAYMENTS_URL=… SHIPPING_URL=… scripts/shop-flow.sh
#                                              # the services, each at its own address
#
# SHOP_LOGS: the log files to show when a wait runs out, by context as `Context=FILE`
# (`Ordering=ordering.log`), or one file for all (default examples/shop/data/shop.log).
# QUIET=1 prints only the steps' names and the result.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "error: $tool is needed (apt-get install $tool)" >&2; exit 2; }
done

shop="${SHOP_URL:-http://127.0.0.1:8080}"
catalog="${CATALOG_URL:-$shop}"
cart_url="${CART_URL:-$shop}"
ordering="${ORDERING_URL:-$shop}"
payments="${PAYMENTS_URL:-$shop}"
shipping="${SHIPPING_URL:-$shop}"
wait_secs="${WAIT_SECS:-10}"
logs="${SHOP_LOGS:-examples/shop/data/shop.log}"
quiet="${QUIET:-}"

customer=$(cat /proc/sys/kernel/random/uuid)
response=$(mktemp)
headers=$(mktemp)
trap 'rm -f "$response" "$headers"' EXIT
started=$(date +%s%N)
steps=0

say() { [[ -n $quiet ]] || printf '%s\n' "$*"; }

step() {
  steps=$((steps + 1))
  printf '\n[%d] %s\n' "$steps" "$*"
}

# send METHOD URL [JSON]: the request, printed, then the answer: $status and $body.
send() {
  local method=$1 url=$2 json=${3:-}
  request="$method $url${json:+ $json}"
  say "  -> $request"
  : >"$response"
  local args=(-s -o "$response" -D "$headers" -w '%{http_code}' -X "$method" "$url")
  [[ -z $json ]] || args+=(-H 'content-type: application/json' -d "$json")
  status=$(curl "${args[@]}") || status="no answer (curl exit $?)"
  body=$(cat "$response")
  say "  <- $status $body"
}

fail() {
  printf '\nFAILED at step %d: %s\n  request:  %s\n  response: %s %s\n' \
    "$steps" "$1" "$request" "$status" "$body" >&2
  exit 1
}

# expect CODE: the last answer had status CODE.
expect() {
  [[ $status == "$1" ]] || fail "expected $1"
}

# field FILTER: a jq filter over the last answer's body.
field() { jq -er "$1" <<<"$body" 2>/dev/null || fail "no $1 in the answer"; }

# wait_for WHAT URL FILTER CONTEXT...: GETs URL until FILTER holds on the body (the bus
# carries the step between contexts); prints only the last round trip. A row not there yet
# (404) is waited for; any other answer but 200 stops the walk at once.
wait_for() {
  local what=$1 url=$2 filter=$3
  shift 3
  local deadline=$(($(date +%s%N) + wait_secs * 1000000000)) saved_quiet=$quiet
  quiet=1
  while :; do
    send GET "$url"
    if [[ $status == 200 ]] && jq -e "$filter" <<<"$body" >/dev/null 2>&1; then
      quiet=$saved_quiet
      say "  -> $request"
      say "  <- $status $body"
      return
    fi
    if [[ $status != 200 && $status != 404 ]]; then
      quiet=$saved_quiet
      fail "waiting for $what: an answer other than 200 or 404"
    fi
    if (($(date +%s%N) > deadline)); then
      quiet=$saved_quiet
      show_logs "$@"
      fail "$what did not happen within ${wait_secs}s"
    fi
    sleep 0.05
  done
}

# show_logs CONTEXT...: the warnings and errors (a policy that gave up, a dead letter) in
# the logs of the contexts a waiting step depends on.
show_logs() {
  local shown=0 entry file
  for entry in $logs; do
    if [[ $entry == *=* ]]; then
      local context=${entry%%=*}
      file=${entry#*=}
      [[ " $* " == *" $context "* ]] || continue
    else
      file=$entry
    fi
    [[ -f $file ]] || continue
    shown=1
    printf '\n  warnings and errors in %s (the last 20):\n' "$file" >&2
    grep -E 'WARN|ERROR|dead' "$file" | tail -n 20 | sed 's/^/    /' >&2 || echo "    (none)" >&2
  done
  ((shown)) || printf '\n  (no log of %s found; set SHOP_LOGS)\n' "$*" >&2
}

money() { printf '{"amount_cents": %d, "currency": "EUR"}' "$1"; }

step "Catalog: a product"
send POST "$catalog/products" "{\"name\": \"Tea\", \"price\": $(money 450)}"
expect 201
tea=$(field .id)
send POST "$catalog/products" "{\"name\": \"Jam\", \"price\": $(money 320)}"
expect 201
jam=$(field .id)

step "Cart: a cart for customer $customer"
send POST "$cart_url/shopping-carts" "{\"customer\": \"$customer\"}"
expect 201
cart=$(field .id)

step "Cart: two teas and a jam"
send POST "$cart_url/shopping-carts/$cart/add-item" \
  "{\"product\": \"$tea\", \"quantity\": 2, \"unit_price\": $(money 450)}"
expect 200
send POST "$cart_url/shopping-carts/$cart/add-item" \
  "{\"product\": \"$jam\", \"quantity\": 1, \"unit_price\": $(money 320)}"
expect 200

step "Cart: checkout"
send POST "$cart_url/shopping-carts/$cart/check-out" '{}'
expect 200

step "Ordering: the order placed for the cart (Cart -> Ordering, the order's total)"
wait_for "the order" "$ordering/order-summaries?customer=$customer" \
  '.items | length == 1 and .[0].status == "Placed" and .[0].total.amount_cents == 1220' \
  Cart Ordering
order=$(field '.items[0].id')

step "Payments: the payment requested for the order (Ordering -> Payments)"
wait_for "the payment request" "$payments/payment-boards?order=$order" \
  '.items | length == 1 and .[0].status == "Requested" and .[0].amount.amount_cents == 1220' \
  Ordering Payments
payment=$(field '.items[0].id')

step "Payments: the payment captured"
send POST "$payments/payments/$payment/capture" '{}'
expect 200

step "Ordering: the order paid (Payments -> Ordering)"
wait_for "the order's payment" "$ordering/order-summaries/$order" '.status == "Paid"' \
  Payments Ordering

step "Shipping: the shipment prepared for the paid order (Ordering -> Shipping)"
wait_for "the shipment" "$shipping/shipment-boards?order=$order" '.items | length == 1' \
  Ordering Shipping
shipment=$(field '.items[0].id')

step "Shipping: an address"
send POST "$shipping/shipments/$shipment/set-address" \
  '{"address": {"street": "1 Long Lane", "city": "Leeds", "zip": "LS1 4AP"}}'
expect 200

step "Shipping: dispatched"
send POST "$shipping/shipments/$shipment/dispatch" "{\"dispatched_at\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}"
expect 200

step "Ordering: the order shipped (Shipping -> Ordering)"
wait_for "the order's shipping" "$ordering/order-summaries/$order" '.status == "Shipped"' \
  Shipping Ordering

step "Views: the customer's orders, newest first"
send GET "$ordering/order-summaries?customer=$customer&sort=-placed_at"
expect 200
[[ $(field '.items | map(.status) | join(",")') == Shipped ]] || fail "one shipped order expected"

step "Views: the customer's totals"
send GET "$ordering/customer-totals/$customer"
expect 200
[[ $(field '"\(.orders) \(.spent_cents)"') == "1 1220" ]] || fail "1 order worth 1220 cents expected"

elapsed=$((($(date +%s%N) - started) / 1000000))
printf '\nthe whole flow took %d steps and %d ms: order %s shipped\n' "$steps" "$elapsed" "$order"
