# The README's commands: `make run` installs and starts the server, `make test` runs the tests.
# Installs come from the lock files in requirements/ (pinned, with hashes): `make run` takes the
# app profile only, `make setup`/`make test`/`make lint` add the dev tools. `make lock` rewrites
# the lock files after a dependency changes in pyproject.toml; until then installs stop with an
# error that says so.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --quiet

.PHONY: setup run test lint bench lock lock-upgrade clean

setup: $(VENV)/.installed
setup: web

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# app profile: what `cowrite serve` needs
$(VENV)/.installed-app: requirements/app.txt pyproject.toml | $(BIN)/python
	$(PYTHON) requirements/lock.py check
	$(PIP) install --require-hashes -r requirements/app.txt
	$(PIP) install --no-deps -e .
	touch $@

# dev profile: the app plus the test and lint tools
$(VENV)/.installed: $(VENV)/.installed-app requirements/dev.txt
	$(PIP) install --require-hashes -r requirements/dev.txt
	@if [ -f tests/interop/package.json ]; then cd tests/interop && npm ci --silent --no-audit --no-fund; fi
	@if [ -f tests/oidc/package.json ]; then cd tests/oidc && npm ci --silent --no-audit --no-fund; fi
	touch $@

run: $(VENV)/.installed-app web
	$(BIN)/cowrite serve

# Two phases, both part of `make test`. First the bulk of the suite on PYTEST_WORKERS
# pytest-xdist workers (each with its own databases, servers and ports; a module stays on one
# worker, so its shared server starts once). Then the tests marked `serial` in one process with
# the machine to themselves: they time stalls and losses under attack or a crash, which a second
# worker on the same two cores would push past their limits now and then. A phase that selects
# nothing (pytest's exit code 5, e.g. with ARGS naming one file) counts as passed; the second
# phase runs even when the first failed, and `make test` fails if either did. Both phases note
# their failed and errored tests (tests/support/failures.py), and the last lines name them all.
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest

test: setup
	@record=$$(mktemp -d); first=0; second=0; \
	COWRITE_TEST_FAILURES=$$record/first $(PYTEST) -n $(PYTEST_WORKERS) --dist loadscope -m "not serial" $(ARGS) || first=$$?; \
	[ $$first -eq 5 ] && first=0; \
	COWRITE_TEST_FAILURES=$$record/serial $(PYTEST) -p no:xdist -m serial $(ARGS) || second=$$?; \
	[ $$second -eq 5 ] && second=0; \
	echo "== make test: first phase exit $$first, serial phase exit $$second"; \
	for phase in first serial; do \
		[ -s $$record/$$phase ] && sed "s/^/$$phase phase: /" $$record/$$phase; \
	done; \
	rm -rf $$record; \
	[ $$first -eq 0 ] && [ $$second -eq 0 ]

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: setup
	$(BIN)/python -m bench $(ARGS)

# Rewrite requirements/*.txt from pyproject.toml, keeping the pins that still fit.
lock: | $(BIN)/python
	@test -x $(BIN)/uv || $(PIP) install "uv>=0.9"
	UV=$(BIN)/uv $(PYTHON) requirements/lock.py lock

# The same, moving every pin to the newest version pyproject.toml allows.
lock-upgrade: | $(BIN)/python
	@test -x $(BIN)/uv || $(PIP) install "uv>=0.9"
	UV=$(BIN)/uv $(PYTHON) requirements/lock.py lock --upgrade

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
