# online-feedback — the commands people run. `make help` lists them.
#
# Prerequisites: a Rust toolchain (rustup) and Python 3. Everything else is installed
# here, pinned, into project-local places on first use:
#   .venv/              moto (the local DynamoDB and SQS)      tools/requirements-moto.txt
#   .tools/sam/         SAM CLI, cfn-lint, cargo-lambda (+zig)  tools/requirements-sam.txt
#   .tools/checkov/     checkov                                 tools/requirements-checkov.txt
#   .tools/cfn-guard/   cfn-guard, built with cargo install
#   .tools/browser/     Playwright and pytest for the browser tests  tools/requirements-browser.txt
#   .tools/schemathesis/ Schemathesis, the API against openapi.yaml  tools/requirements-schemathesis.txt
#   chromium            Debian's package, with apt-get (as root; otherwise it says what to run)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
MOTO_SERVER := $(VENV)/bin/moto_server
TOOLS := .tools
SAM := $(TOOLS)/sam/bin/sam
CFN_LINT := $(TOOLS)/sam/bin/cfn-lint
CHECKOV := $(TOOLS)/checkov/bin/checkov
CFN_GUARD_VERSION := 3.2.1
CFN_GUARD := $(TOOLS)/cfn-guard/bin/cfn-guard
BROWSER_PYTEST := $(TOOLS)/browser/bin/pytest
# ops/tests/dev/schemathesis.rs runs it (cargo test, below) and fails when it is missing.
SCHEMATHESIS := $(TOOLS)/schemathesis/bin/st
TRANSLATED := target/template.translated.json
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
# make demo: the port, and any other feedback-ops dev flags (DEMO_FLAGS="--concurrency 4").
PORT ?= 3000
# make bench: how long the memory-under-load benchmark runs.
BENCH_MEMORY_MINUTES ?= 10
DEMO_FLAGS ?=

# A pinned Python tool set in its own virtual environment (its target is a file the
# install creates): $(call python-venv,WHAT,DIR,NAME) installs
# tools/requirements-NAME.txt, with versions fixed by tools/NAME-constraints.txt.
define python-venv
@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3"; exit 1; }
@echo "==> installing $(1) into $(2) (first run only)"
$(PYTHON) -m venv $(2)
$(2)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements-$(3).txt -c tools/$(3)-constraints.txt
@touch $@
endef

# Each progress line starts with the seconds since the first make of this run began
# (a sub-make inherits the start), so a CI log shows where the time goes.
ifndef MAKE_STARTED_AT
MAKE_STARTED_AT := $(shell date +%s)
endif
export MAKE_STARTED_AT
ELAPSED = [$$(( $$(date +%s) - $(MAKE_STARTED_AT) ))s]

# The template checks and sam build work offline, but the SAM CLI wants a region.
export AWS_DEFAULT_REGION ?= eu-west-1
export SAM_CLI_TELEMETRY := 0

.PHONY: help test lint fmt check-toolchain build-functions check-template build bench demo clean-tools browser-test check-chromium

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

test: check-toolchain $(MOTO_SERVER) $(SCHEMATHESIS) lint check-template build-functions ## Format, lints, docs, template checks, unit, integration and browser tests.
	@echo "==> $(ELAPSED) cargo test (integration tests start moto from $(MOTO_SERVER))"
	cargo test --workspace --locked
	@echo "==> $(ELAPSED) feedback-ops deps check (the dependency tags against the template's wiring)"
	@# The binary build-functions made: `cargo run -p feedback-ops` alone would unify
	@# features differently and compile the AWS SDK a second time.
	$(TARGET_DIR)/debug/feedback-ops deps check
	@echo "==> $(ELAPSED) feedback-ops release classify (what the last commit would release, and how)"
	$(TARGET_DIR)/debug/feedback-ops release classify --base HEAD~1
	@$(MAKE) --no-print-directory browser-test

browser-test: check-chromium $(BROWSER_PYTEST) build-functions ## The feedback page and the ops console in headless Chromium; screenshots in target/screenshots/.
	@echo "==> $(ELAPSED) browser tests (headless Chromium, driven by Playwright)"
	$(BROWSER_PYTEST) tools/browser -q -p no:cacheprovider

check-chromium:
	@command -v chromium >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "==> installing Debian's chromium for the browser tests (first run only)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else \
			echo "the browser tests need Chromium: run 'sudo apt-get install chromium'"; exit 1; \
		fi; }

lint: check-toolchain ## cargo fmt --check, clippy with warnings denied, rustdoc with warnings denied.
	@echo "==> $(ELAPSED) cargo fmt --check"
	cargo fmt --all --check
	@echo "==> $(ELAPSED) cargo clippy"
	cargo clippy --workspace --all-targets --locked -- -D warnings
	@echo "==> $(ELAPSED) cargo doc"
	RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
	@echo "==> $(ELAPSED) cargo package: the ops kit is complete without this workspace"
	cargo package -p ops-wire -p ops-kit --no-verify --allow-dirty --locked --quiet

fmt: ## Format the code.
	cargo fmt --all

build-functions: ## Build the function binaries (debug) that the Runtime API tests run.
	@echo "==> $(ELAPSED) cargo build --bins"
	cargo build --workspace --bins --locked

check-toolchain:
	@command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup (https://rustup.rs)"; exit 1; }
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

check-template: $(SAM) $(CHECKOV) $(CFN_GUARD) ## template.yaml: sam validate --lint, cfn-lint, cfn-guard (policies/), checkov.
	@echo "==> $(ELAPSED) sam validate --lint"
	$(SAM) validate --lint
	@echo "==> $(ELAPSED) cfn-lint"
	$(CFN_LINT) template.yaml
	@echo "==> $(ELAPSED) cfn-guard on the SAM-translated template"
	@mkdir -p $(dir $(TRANSLATED))
	$(TOOLS)/sam/bin/python tools/sam-translate.py template.yaml > $(TRANSLATED)
	@# Every rule must PASS on the real template: a rule that SKIPs checked nothing.
	@summary=$$($(CFN_GUARD) validate --rules policies --data $(TRANSLATED) --show-summary all) || { echo "$$summary"; exit 1; }; \
		echo "$$summary"; \
		if echo "$$summary" | grep -qE ' (SKIP|FAIL)$$'; then echo "a cfn-guard rule did not pass (see above)"; exit 1; fi
	@for rules in policies/*.guard; do \
		tests=policies/tests/$$(basename $$rules .guard).yaml; \
		echo "$(CFN_GUARD) test --rules-file $$rules --test-data $$tests"; \
		$(CFN_GUARD) test --rules-file $$rules --test-data $$tests || exit 1; \
	done
	@echo "==> $(ELAPSED) checkov"
	$(CHECKOV) --skip-download --quiet --compact --framework cloudformation -f template.yaml

build: check-toolchain $(SAM) ## sam build: the arm64 binaries a deployer ships, with cargo-lambda from .tools.
	@rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
	@echo "==> $(ELAPSED) sam build (release, arm64; the first build takes several minutes)"
	PATH="$(abspath $(TOOLS)/sam/bin):$$PATH" $(SAM) build --beta-features
	@echo "==> $(ELAPSED) function sizes (zipped, as Lambda receives them)"
	$(PYTHON) tools/function-sizes.py .aws-sam/build

$(SAM): tools/requirements-sam.txt tools/sam-constraints.txt
	$(call python-venv,the SAM CLI with cfn-lint and cargo-lambda,$(TOOLS)/sam,sam)

$(CHECKOV): tools/requirements-checkov.txt tools/checkov-constraints.txt
	$(call python-venv,checkov,$(TOOLS)/checkov,checkov)

$(CFN_GUARD):
	@echo "==> $(ELAPSED) building cfn-guard $(CFN_GUARD_VERSION) into $(TOOLS)/cfn-guard (first run only, about 4 minutes)"
	cargo install cfn-guard --version $(CFN_GUARD_VERSION) --locked --root $(TOOLS)/cfn-guard

$(BROWSER_PYTEST): tools/requirements-browser.txt tools/browser-constraints.txt
	$(call python-venv,Playwright and pytest,$(TOOLS)/browser,browser)

$(SCHEMATHESIS): tools/requirements-schemathesis.txt tools/schemathesis-constraints.txt
	$(call python-venv,Schemathesis,$(TOOLS)/schemathesis,schemathesis)

$(MOTO_SERVER): tools/requirements-moto.txt tools/moto-constraints.txt
	$(call python-venv,moto,$(VENV),moto)

bench: check-toolchain $(MOTO_SERVER) $(SAM) ## Benchmarks, not part of make test: the ops kit's cost per invocation, init time, deployable size, post -> listed latency, the cost model, memory under load.
	@echo "==> $(ELAPSED) building release binaries for the init benchmark (the first build takes several minutes)"
	cargo build --release --bins -p feedback-bench -p add-comments
	@echo "==> $(ELAPSED) per-invocation cost of the ops kit (logs and metrics go to /dev/null)"
	OPS_KIT_METRICS_NAMESPACE=Bench cargo bench -p feedback-bench --bench ops_layer > /dev/null
	@echo "==> $(ELAPSED) init time"
	cargo bench -p feedback-bench --bench init_time
	@echo "==> $(ELAPSED) deployable size: each profile's arm64 zips, init and warm duration against opt-level 3 (the first run builds four profiles: tens of minutes)"
	PATH="$(abspath $(TOOLS)/sam/bin):$$PATH" cargo bench -p feedback-bench --bench deployables
	@echo "==> $(ELAPSED) end to end on the local stack: post -> listed, 100 comments (demo-profile binaries, as make demo runs them)"
	cargo build --workspace --bins --locked --profile demo
	$(PYTHON) tools/e2e-latency.py $(TARGET_DIR)/demo/feedback-ops $(TARGET_DIR)/demo 100
	@echo "==> $(ELAPSED) cost model: one million comments priced from 1,000 measured on the local stack (demo-profile binaries)"
	$(PYTHON) tools/cost-model.py $(TARGET_DIR)/demo/feedback-ops $(TARGET_DIR)/demo 1000
	@echo "==> $(ELAPSED) memory under load with one fixed trace header, $(BENCH_MEMORY_MINUTES) minutes (BENCH_MEMORY_MINUTES=60 for an hour)"
	$(PYTHON) tools/memory-under-load.py $(TARGET_DIR)/demo/feedback-ops $(TARGET_DIR)/demo $(BENCH_MEMORY_MINUTES)

demo: check-toolchain $(MOTO_SERVER) ## The local stack on http://127.0.0.1:3000 (PORT=n to change): functions, API Gateway, SQS, X-Ray, ops API.
	@echo "==> $(ELAPSED) building feedback-ops and the function binaries, optimised (cargo profile demo; the first build takes several minutes, a rebuild seconds)"
	cargo build --workspace --bins --locked --profile demo
	$(TARGET_DIR)/demo/feedback-ops dev --port $(PORT) --bin-dir $(TARGET_DIR)/demo $(DEMO_FLAGS)

clean-tools: ## Remove the project's installed tools (reinstalled on next use).
	rm -rf $(VENV) $(TOOLS)
