# Two commands do all the set-up: `make synth` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := synth

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk

# Quiet, credential-free runs: no Node end-of-life banners, no CLI notices or telemetry.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export NODE_NO_WARNINGS := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := true

CDK_FLAGS := --no-notices --no-version-reporting --quiet
CONFIG ?= config/example.yaml

.PHONY: setup synth test lint format schema diagram deploy-local preflight clean

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# Some machines' pip.conf names local indexes that may be absent: drop that noise, keep errors.
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
	@touch $@

node_modules/.installed: package.json package-lock.json
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(VENV)/.installed node_modules/.installed

# `make synth CONFIG=config/control-tower.yaml` synthesizes another config (default: the example).
synth: setup
	@rm -rf cdk.out
	@$(CDK) synth $(CDK_FLAGS) -c config=$(CONFIG) > /dev/null
	@$(PY) -m stacks.summary cdk.out

test: setup
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@$(PY) -m tests.lint_scripts
	@$(PY) -m pytest

lint: setup
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@$(PY) -m tests.lint_scripts

format: setup
	@$(PY) -m ruff check --fix .
	@$(PY) -m ruff format .

schema: setup
	@$(PY) -m stacks.config schema > config/schema.json
	@echo "wrote config/schema.json"

diagram: setup
	@$(PY) -m stacks.diagram --update-readme config/example.yaml

# Read-only checks of the live organization (credentials of the management account): exit 1 on a blocker.
preflight: setup
	@$(PY) -m stacks.preflight $(CONFIG) $(PREFLIGHT_FLAGS)

clean:
	rm -rf cdk.out .pytest_cache .ruff_cache

deploy-local: setup
	@$(PY) -m tests.integration.local_deploy config/single-account.yaml
