# The README's commands: `make run` installs and starts the server, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup run test lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@if [ -f tests/interop/package.json ]; then cd tests/interop && npm ci --silent --no-audit --no-fund; fi
	@if [ -f tests/oidc/package.json ]; then cd tests/oidc && npm ci --silent --no-audit --no-fund; fi
	touch $@

run: setup
	$(BIN)/cowrite serve

test: setup
	$(BIN)/pytest $(ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: setup
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) .cowrite .pytest_cache .mypy_cache .ruff_cache
