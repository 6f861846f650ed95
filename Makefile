# Landflow: `make run` sets up and serves the demo; `make test` sets up and runs every test.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
VENDOR := engine/web/static/vendor
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format install clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Browser assets (bpmn-js, Swagger UI) pinned in package-lock.json, copied into static/vendor.
$(VENDOR)/.built: package.json package-lock.json scripts/build-static.mjs
	command -v npm >/dev/null 2>&1 || bash scripts/install-system-deps.sh
	npm ci --ignore-scripts --no-audit --no-fund
	npm run build
	touch $@

install: $(VENV)/.installed $(VENDOR)/.built

run: install
	$(BIN)/landflow serve --demo --host $(HOST) --port $(PORT)

test: install
	bash scripts/install-system-deps.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports  # layer contracts (pyproject.toml); schemathesis and mypy gates run in pytest
	$(BIN)/pytest -q -n 2  # two workers: one per core; each has its own databases

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var .pytest_cache node_modules $(VENDOR)
