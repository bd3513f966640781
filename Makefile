PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-lowest bench lint clean

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
	$(BIN)/python -m pip install --quiet asyncua uvloop
	$(BIN)/python benchmarks/run_all.py

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff mypy
	$(BIN)/ruff check xentara_ws tests benchmarks examples
	$(BIN)/mypy --strict xentara_ws

clean:
	rm -rf $(VENV) $(LOW_VENV) build *.egg-info .pytest_cache .hypothesis
