PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo lint test test-fast bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/counterpoint demo

# Layers (import-linter contracts), style and typing of src/; `make test` runs it first.
lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check src
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

# The pure unit layer only: seconds, for the edit-test loop.
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests/unit

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build dist src/*.egg-info
