# The README's commands: `make run` installs and starts the server, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup run test lint bench clean

setup: $(VENV)/.installed
setup: web

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@if [ -f tests/interop/package.json ]; then cd tests/interop && npm ci --silent --no-audit --no-fund; fi
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

# The web app (web/, served at /): built when its sources changed, where npm exists; without npm
# the API still runs and / says how to build the app.
WEB_BUILT := src/cowrite/webapp/static/.built
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json

.PHONY: web
web:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) -s --no-print-directory $(WEB_BUILT); \
	else echo "note: npm not found: the web app is not built (make web once Node.js 20 is installed)"; fi

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --silent --no-audit --no-fund
	touch $@

$(WEB_BUILT): web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run build --silent
	touch $@
