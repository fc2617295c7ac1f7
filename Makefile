# online-feedback — the commands people run. `make help` lists them.
#
# Prerequisites: a Rust toolchain (rustup) and Python 3. Everything else is installed
# here, pinned, into project-local places on first use:
#   .venv/   moto (the local DynamoDB and SQS), from tools/requirements-moto.txt

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
MOTO_SERVER := $(VENV)/bin/moto_server

.PHONY: help test lint fmt check-toolchain build-functions bench demo clean-venv

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

test: check-toolchain $(MOTO_SERVER) lint build-functions ## Everything CI checks: format, lints, docs, unit and integration tests.
	@echo "==> cargo test (integration tests start moto from $(MOTO_SERVER))"
	cargo test --workspace --locked

lint: check-toolchain ## cargo fmt --check, clippy with warnings denied, rustdoc with warnings denied.
	@echo "==> cargo fmt --check"
	cargo fmt --all --check
	@echo "==> cargo clippy"
	cargo clippy --workspace --all-targets --locked -- -D warnings
	@echo "==> cargo doc"
	RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

fmt: ## Format the code.
	cargo fmt --all

build-functions: ## Build the function binaries (debug) that the Runtime API tests run.
	@echo "==> cargo build --bins"
	cargo build --workspace --bins --locked

check-toolchain:
	@command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup (https://rustup.rs)"; exit 1; }
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

$(MOTO_SERVER): tools/requirements-moto.txt tools/moto-constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3"; exit 1; }
	@echo "==> installing moto into $(VENV) (first run only)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check \
		-r tools/requirements-moto.txt -c tools/moto-constraints.txt
	@touch $@

bench: check-toolchain ## Benchmarks, not part of make test: the ops kit's cost per invocation and init time.
	@echo "==> building release binaries for the init benchmark (the first build takes several minutes)"
	cargo build --release --bins -p feedback-bench -p add-comments
	@echo "==> per-invocation cost of the ops kit (logs and metrics go to /dev/null)"
	METRICS_NAMESPACE=Bench cargo bench -p feedback-bench --bench ops_layer > /dev/null
	@echo "==> init time"
	cargo bench -p feedback-bench --bench init_time

demo: ## The local live demo (arrives with the local-stack work; see README).
	@echo "make demo is not built yet: the local stack (feedback-ops dev) is the next piece of work."
	@echo "Until then, 'make test' runs every function against a local moto server."
	@exit 2

clean-venv: ## Remove the project's Python tools (reinstalled on next use).
	rm -rf $(VENV)
