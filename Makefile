PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run

.DEFAULT_GOAL := help
.PHONY: help run test test-lowest bench lint clean fuzz

help:
	@echo "make run    serve the built-in demo over wss:// on port 8080 (creates .venv with the package alone)"
	@echo "make test   run the whole test suite (installs the test extras into .venv)"
	@echo "make lint   ruff and mypy --strict"
	@echo "make bench  the benchmarks (heavy: several minutes on every CPU)"
	@echo "make fuzz   the fuzz tests with 5000 examples each"
	@echo "make test-lowest  the whole suite at the lowest dependency versions pyproject.toml allows"
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

fuzz: $(STAMP)
	XENTARA_FUZZ_EXAMPLES=$${XENTARA_FUZZ_EXAMPLES:-5000} $(BIN)/python -m pytest -q tests/test_hardening_fuzz.py $(PYTEST_ARGS)
# The whole suite at the oldest versions pyproject.toml allows for every direct dependency (uv's lowest-direct
# resolution; pip cannot resolve to the lowest). uv comes from PyPI into the venv it then fills; the venv is
# rebuilt from scratch whenever pyproject.toml changes, so a lowered bound is installed too.
LOW_VENV := .venv-low
LOW_UV := $(LOW_VENV)/bin/uv

$(LOW_VENV)/.installed: pyproject.toml
	rm -rf $(LOW_VENV)
	$(PYTHON) -m venv $(LOW_VENV)
	$(LOW_VENV)/bin/python -m pip install --quiet 'uv>=0.5,<1'
	$(LOW_UV) pip install --quiet --python $(LOW_VENV)/bin/python --resolution lowest-direct -e '.[test]'
	touch $@

test-lowest: $(LOW_VENV)/.installed
	$(LOW_VENV)/bin/python -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff mypy
	$(BIN)/ruff check xentara_ws tests benchmarks examples
	$(BIN)/mypy --strict xentara_ws

clean:
	rm -rf $(VENV) $(LOW_VENV) build *.egg-info .pytest_cache .hypothesis
