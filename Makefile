# sakura-street: `make run` runs the pipeline on the embedded defaults, `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: help install browser-check run demo test test-live lint format docs docs-build server stop clean

help:
	@echo "make run        start the local Prefect server + deployments and run collect-and-train on the defaults"
	@echo "make demo       the same pipeline offline, on a local synthetic image source (a few minutes on a CPU)"
	@echo "make test       run the whole test suite (needs chromium + chromium-driver)"
	@echo "make test-live  run only the tests that need the real internet"
	@echo "make lint       ruff check + format check;  make format  fixes both"
	@echo "make docs       serve the docs site on http://127.0.0.1:8000 (mkdocs);  make docs-build  builds it strictly"
	@echo "make server     start the local Prefect server (port: SAKURA_PREFECT_PORT, default 4200)"
	@echo "make stop       stop what make server / make run / make demo started"

# Creates .venv when missing and installs the project into it; redone only when pyproject.toml changes.
$(STAMP): pyproject.toml
	@echo "installing the project and its dependencies into $(VENV) (torch, torchvision, prefect, selenium, ...:"
	@echo "about 6 GB; 2-4 minutes on a fresh machine, seconds when they are already there)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -e '.[dev]'
	@touch $(STAMP)
	@echo "installed: $(BIN)/sakura, $(BIN)/prefect, $(BIN)/pytest"

# The browser tests need Chromium and ChromeDriver: say once what to install instead of failing test after test.
browser-check:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || test -n "$$SAKURA_CHROMIUM" || \
	  { echo "make test needs Chromium and ChromeDriver: sudo apt-get install -y chromium chromium-driver" \
	    "(or set SAKURA_CHROMIUM and SAKURA_CHROMEDRIVER to the binaries)"; exit 1; }
	@command -v chromedriver >/dev/null 2>&1 || test -n "$$SAKURA_CHROMEDRIVER" || \
	  { echo "make test needs ChromeDriver: sudo apt-get install -y chromium-driver (or set SAKURA_CHROMEDRIVER)"; exit 1; }

install: $(STAMP)

test: $(STAMP) browser-check
	$(BIN)/pytest

test-live: $(STAMP)
	$(BIN)/pytest -m network --run-network

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

docs-build: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

server: $(STAMP)
	@$(BIN)/sakura server start

stop: $(STAMP)
	@$(BIN)/sakura server stop

run: $(STAMP)
	@$(BIN)/sakura run

demo: $(STAMP)
	@$(BIN)/sakura run --demo

clean:
	rm -rf build dist site *.egg-info .pytest_cache .ruff_cache
