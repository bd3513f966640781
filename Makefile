PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run

.DEFAULT_GOAL := help
.PHONY: help run test bench lint clean

help:
	@echo "make run    serve the built-in demo over wss:// on port 8080 (creates .venv with the package alone)"
	@echo "make test   run the whole test suite (installs the test extras into .venv)"
	@echo "make lint   ruff and mypy --strict"
	@echo "make bench  the benchmarks (heavy: several minutes on every CPU)"
	@echo "make clean  remove .venv and build leftovers"
	@echo "Options: make run ARGS='--config DIR', make test PYTEST_ARGS='-k name', make bench BENCH_ARGS=--quick"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP) $(RUN_STAMP)

# Serving needs the package alone; uvloop (the `fast` extra) where the platform has it.
$(RUN_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[fast]' || $(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/xentara-ws serve $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff mypy
	$(BIN)/ruff check xentara_ws tests benchmarks examples
	$(BIN)/mypy --strict xentara_ws

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
