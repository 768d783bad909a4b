# Carteiro: `make run` to try it, `make test` to check everything.
# Both install what is missing first (and skip what is already there).

SHELL := /bin/bash
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: help run dev test test-rust test-postgres test-e2e test-deploy deb lint fmt deps clean wasm-size screenshots

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

run: ## Build (release) and serve http://127.0.0.1:3000 with data/carteiro.db (a new one gets demo data; DEMO=0 skips it)
	.ci/deps.sh --release
	cargo leptos build --release --split
	$${CARGO_TARGET_DIR:-target}/release/carteiro serve $(if $(filter 0,$(DEMO)),,--demo)

dev: ## Rebuild and restart on every change (debug build)
	.ci/deps.sh
	cargo leptos watch --split

test: ## Every test: Rust unit + integration (SQLite, then PostgreSQL), browser, deployment
	.ci/deps.sh --test --deb
	$(MAKE) --no-print-directory test-rust test-postgres test-e2e test-deploy
	@echo "make test: all suites passed"

test-rust: ## Unit and integration tests on SQLite
	cargo test -p mailflow -p app -p migrations -p server --features app/ssr

test-postgres: ## The integration tests again, on a throw-away PostgreSQL server
	@# The same features as test-rust, so its build is reused rather than redone.
	.ci/with-postgres.sh cargo test -p server --features app/ssr --test api --test ingest --test defence --test provision --test concurrency

test-e2e: ## Browser tests (Playwright in Debian's Chromium)
	.ci/e2e.sh

test-deploy: ## Install the Debian package (debug build) here, run a portal and a relay from it, purge it (root)
	.ci/deploy-test.sh

deb: ## The Debian package (release build): target/debian/carteiro_<version>-1_amd64.deb (under CARGO_TARGET_DIR)
	.ci/deb.sh

wasm-size: ## Build the release WASM and print its files' sizes
	.ci/wasm-size.sh

screenshots: ## Rewrite docs/screenshots/ (pt-BR pages of the e2e data, in Chromium)
	SCREENSHOTS=1 .ci/e2e.sh screenshots.spec.ts

lint: ## rustfmt and clippy, warnings are errors
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	cargo fmt --all -- --check
	@# The log domain stays pure: Cargo would let a database, web or runtime crate in unnoticed.
	@! cargo tree -p mailflow -e normal,build --prefix none | grep -E '^(sea-orm|sqlx|axum|hyper|tokio|leptos)' \
		|| { echo "mailflow must not depend on a database, web or async-runtime crate (see above)"; exit 1; }
	cargo clippy -p mailflow -p app -p migrations -p server --features app/ssr --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

fmt: ## Format the code
	cargo fmt --all

deps: ## Install the build tools only
	.ci/deps.sh

clean: ## Remove build output (not the database)
	cargo clean
