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
	@echo "make test-lowest  the edge tests at the lowest dependency versions allowed"
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
# The edge and frame tests at the lowest dependency versions pyproject.toml allows.
LOWEST := websockets==14.0 h11==0.14.0
LOW_VENV := .venv-low
EDGE_TESTS := tests/server/test_edge.py tests/server/test_frames.py tests/server/test_edge_http.py \
	tests/test_upgrade_malformed_authorization.py

$(LOW_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(LOW_VENV)
	$(LOW_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOW_VENV)/bin/python -m pip install --quiet -e '.[test]' $(LOWEST)
	touch $@

test-lowest: $(LOW_VENV)/.installed
	$(LOW_VENV)/bin/python -m pytest -q $(EDGE_TESTS)

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff mypy
	$(BIN)/ruff check xentara_ws tests benchmarks examples
	$(BIN)/mypy --strict xentara_ws

clean:
	rm -rf $(VENV) $(LOW_VENV) build *.egg-info .pytest_cache .hypothesis
