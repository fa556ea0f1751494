# CaseRoom developer commands. A fresh machine needs python3 (3.11+), node + npm, Java 17+, make.
#   make start   install everything, then serve CaseRoom on 127.0.0.1 (data in .caseroom/; demo data if empty)
#   make test    install everything, then lint, type-check and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
PORT ?= 8000
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true

.PHONY: setup start test lint typecheck webcheck browser unit synth bench openapi schemas clean

setup: $(VENV)/.installed web/dist/index.html

# The web app (web/): its own npm project; the typed API client is generated from openapi.json
# on every build, so an incompatible API change fails the build and `make webcheck`.
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json
web/node_modules/.installed: web/package-lock.json
	npm ci --prefix web --no-audit --no-fund --silent
	touch $@

web/dist/index.html: web/node_modules/.installed openapi.json $(WEB_SOURCES)
	npm run --prefix web --silent build

webcheck: web/node_modules/.installed
	npm run --prefix web --silent gen:api
	npm run --prefix web --silent typecheck

# The browser tests drive Debian's chromium (CI runs as root on Debian bookworm). Without it they fail.
browser:
	@command -v chromium >/dev/null || { test "$$(id -u)" = 0 && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || { echo "chromium is missing: apt-get install -y chromium" >&2; exit 1; }

# Reinstalls only when a lock file changes. Hash-checked installs from requirements.lock.
$(VENV)/.installed: requirements.lock package-lock.json pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	npm ci --no-audit --no-fund --silent
	touch $@

start: setup
	$(BIN)/python -m local start --port $(PORT) --seed

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy layers/caseroom/python/caseroom functions infra local client bench

unit: setup
	$(BIN)/python -m pytest tests/unit tests/integration -q

test: lint typecheck webcheck browser
	$(BIN)/python -m pytest -q

synth: setup
	npx cdk synth --quiet --no-notices

bench: setup
	$(BIN)/python -m bench

openapi: setup
	$(BIN)/python -m caseroom.api_docs > openapi.json
	$(BIN)/python -m caseroom.event_catalog events/schemas

clean:
	rm -rf $(VENV) node_modules web/node_modules web/dist cdk.out .pytest_cache .mypy_cache .ruff_cache
