# sakura-street: `make run` runs the pipeline on the embedded defaults, `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: help install run demo test test-live lint format server stop clean

help:
	@echo "make run        start the local Prefect server + deployments and run collect-and-train on the defaults"
	@echo "make demo       the same pipeline offline, on a local synthetic image source (a few minutes on a CPU)"
	@echo "make test       run the whole test suite (needs chromium + chromium-driver)"
	@echo "make test-live  run only the tests that need the real internet"
	@echo "make lint       ruff check + format check;  make format  fixes both"
	@echo "make server     start the local Prefect server (port: SAKURA_PREFECT_PORT, default 4200)"
	@echo "make stop       stop what make server / make run / make demo started"

# Creates .venv when missing and installs the project into it; redone only when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/pytest

test-live: $(STAMP)
	$(BIN)/pytest -m network --run-network

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

server: $(STAMP)
	@$(BIN)/sakura server start

stop: $(STAMP)
	@$(BIN)/sakura server stop

run: $(STAMP)
	@$(BIN)/sakura run

demo: $(STAMP)
	@$(BIN)/sakura run --demo

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache
