#!/usr/bin/env bash
# The whole test suite: services up, formatting, lints, then every test of the workspace
# (unit, conformance, trybuild UI, doc tests, examples). CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tests that need a service read its URL from these variables; the defaults are the
# services this project's machines run locally.
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
export NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"

# A CI run builds everything once: incremental caches would only double the disk it takes
# (the workspace and the projects its tests generate: about 25 GB more).
if [ "${CI:-}" = "true" ]; then
  export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
fi

host_port() { # URL -> host port
  local rest=${1#*://}; rest=${rest#*@}; rest=${rest%%/*}
  echo "${rest%%:*} ${rest##*:}"
}

answers() { # URL -> whether something listens at its host and port
  local host port
  read -r host port < <(host_port "$1")
  timeout 3 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

# The command that starts the local server behind a default URL, as README.md's "Services for
# the test suite" does; empty for a URL that points elsewhere or a server not installed.
start_command() { # URL -> command
  case "$1" in
    postgres://*@127.0.0.1:5432/*)
      [ -d /etc/postgresql ] && echo "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -n1) main start" ;;
    redis://127.0.0.1:6379)
      command -v redis-server >/dev/null && echo "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no --dir /var/lib/redis" ;;
    amqp://*@127.0.0.1:5672/*)
      command -v rabbitmq-server >/dev/null && echo "rabbitmq-server -detached" ;;
    nats://127.0.0.1:4222)
      command -v nats-server >/dev/null && echo "mkdir -p /var/lib/nats-server && setsid nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log </dev/null >/dev/null 2>&1 &" ;;
  esac
  return 0
}

# A machine that boots its services beside this script (CI does) may still be starting them,
# so each gets a moment to answer. One still down on its default local address is started
# with the README's command (a server stopped by an earlier run's outage test, say), and
# every service then gets SERVICES_WAIT_SECS to answer before the suite fails.
check_services() {
  local deadline=$((SECONDS + ${SERVICES_WAIT_SECS:-120})) started=0 down command
  while :; do
    down=()
    for url in "$DATABASE_URL" "$REDIS_URL" "$AMQP_URL" "$NATS_URL"; do
      answers "$url" || down+=("$url")
    done
    ((${#down[@]})) || return 0
    ((SECONDS < deadline)) || break
    if ((!started && SECONDS >= ${SERVICES_START_AFTER_SECS:-15})); then
      started=1
      for url in "${down[@]}"; do
        command="$(start_command "$url")"
        [ -n "$command" ] || continue
        echo "starting the local server for $url: $command" >&2
        bash -c "$command" >&2 || echo "warning: that command failed (exit $?)" >&2
      done
    fi
    echo "waiting for ${down[*]}" >&2
    sleep 2
  done
  echo "error: these services do not answer after ${SERVICES_WAIT_SECS:-120} s: ${down[*]}" >&2
  echo "start them (README.md, \"Services for the test suite\": the Debian packages and the commands) or point the URL variables elsewhere" >&2
  exit 1
}

step() { printf '\n==> %s\n' "$*"; }

# Tools the suite runs for real, installed once per machine (~/.cargo/bin survives).
install_tools() {
  if ! command -v cargo-generate >/dev/null 2>&1; then
    step "installing cargo-generate (0.23: the series that builds on this toolchain)"
    cargo install cargo-generate --version '~0.23' --locked
  fi
  # schemathesis, whose `st` holds the shop's HTTP surface to its OpenAPI document; in a
  # venv of its own, as Debian's Python refuses installs beside its packages (PEP 668).
  local venv="$HOME/.local/share/ddd-schemathesis"
  export PATH="$venv/bin:$PATH"
  if ! command -v st >/dev/null 2>&1; then
    step "installing schemathesis 4.32.5"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'schemathesis==4.32.5'
  fi
  # Chromium, in which the catalog site of `ddd docs` is opened (Debian's package).
  if [ ! -x /usr/bin/chromium ]; then
    step "installing chromium"
    apt-get update -q && apt-get install -y -q chromium
  fi
  # playwright-core drives that Chromium, and EventCatalog's linter checks the catalog
  # export; in a cache of their own, where ddd-cli's docs tests look for them.
  local node_cache="$HOME/.cache/ddd-docs-node"
  if [ ! -f "$node_cache/node_modules/playwright-core/package.json" ] \
    || [ ! -f "$node_cache/node_modules/@eventcatalog/linter/package.json" ]; then
    step "installing playwright-core 1.65.2 and @eventcatalog/linter 1.1.1"
    mkdir -p "$node_cache"
    npm install --no-audit --no-fund --prefix "$node_cache" playwright-core@1.65.2 @eventcatalog/linter@1.1.1
  fi
}

step "services"
check_services
install_tools
step "cargo fmt --check"
cargo fmt --all --check
step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
step "cargo test"
cargo test --workspace --all-features --locked --no-fail-fast
step "cargo-generate over templates/service"
scripts/check-cargo-generate.sh
