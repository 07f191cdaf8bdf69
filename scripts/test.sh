#!/usr/bin/env bash
# Runs the whole test suite: formatting, lints, unit, integration and
# real-capture tests. Installs or starts whatever the tests need first.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
    echo "cargo is required: install Rust from your distribution or rustup" >&2
    exit 1
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

# The store and console suites also run against PostgreSQL (127.0.0.1:5432,
# database `test`); start the local server if it is installed but stopped.
if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    if command -v pg_ctlcluster >/dev/null; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    fi
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked

# Browser tests of the console: headless Debian Chromium driven by
# playwright-core, against `palisade serve` over an analysed plant capture.
if [ ! -x /usr/bin/chromium ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
cargo build -p palisade --locked
work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
target/debug/palisade demo --no-serve --duration 120 --db "$work/console.db" --capture "$work/plant.pcap" >/dev/null 2>"$work/demo.log"
admin_password="browser-first-$RANDOM$RANDOM"
# The server's shell creates serve.out only once it runs; the loop below must not race it.
: >"$work/serve.out"
PALISADE_INITIAL_ADMIN_PASSWORD="$admin_password" target/debug/palisade serve --db "$work/console.db" --listen 127.0.0.1:0 \
    >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
url=""
for _ in $(seq 1 100); do
    url="$(sed -n 's/^Palisade console: //p' "$work/serve.out")"
    [ -n "$url" ] && break
    sleep 0.2
done
if [ -z "$url" ]; then
    echo "palisade serve did not start:" >&2
    cat "$work/serve.err" >&2
    exit 1
fi
mkdir -p test-output/browser
(cd tests/browser && PALISADE_URL="$url" PALISADE_ADMIN_PASSWORD="$admin_password" PALISADE_OUTPUT="$PWD/../../test-output/browser" npm test)
