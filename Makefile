PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint clean fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/xentara-ws serve $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

fuzz: $(STAMP)
	XENTARA_FUZZ_EXAMPLES=$${XENTARA_FUZZ_EXAMPLES:-5000} $(BIN)/python -m pytest -q tests/test_hardening_fuzz.py $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet asyncua uvloop
	$(BIN)/python benchmarks/run_all.py

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff mypy
	$(BIN)/ruff check xentara_ws tests benchmarks examples
	$(BIN)/mypy --strict xentara_ws

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
