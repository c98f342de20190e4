# Mini-portail des aides: `make run` (demonstration), `make test` (whole suite).
# Both install what they need into .venv first (Python 3.11+, pip and venv required).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Security lint, configured in pyproject.toml ([tool.bandit]). Findings go to stdout; its log
# (stderr) repeats "nosec encountered" for every node of a justified statement, so the log is
# shown only when the run fails.
BANDIT = $(BIN)/bandit -q -r portail app.py forms -c pyproject.toml 2>/dev/null \
	|| $(BIN)/bandit -r portail app.py forms -c pyproject.toml

.PHONY: run test lint screenshots bench bench-admin bench-fill clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

run: $(BIN)/.installed
	$(BIN)/python -m portail.serve --host $(HOST) --port $(PORT)

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BANDIT)
	$(BIN)/pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BANDIT)

# The README's screenshots, taken by the browser tests that check each screen (Chromium needed).
screenshots: $(BIN)/.installed
	PORTAIL_SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest -q tests/browser/test_browser_screens.py

bench: $(BIN)/.installed
	$(BIN)/python bench/lookup_bench.py

bench-admin: $(BIN)/.installed
	$(BIN)/python bench/admin_bench.py

# Issue 11's target: last key or paste to all fields filled in Chromium (needs /usr/bin/chromium).
bench-fill: $(BIN)/.installed
	$(BIN)/python bench/fill_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
