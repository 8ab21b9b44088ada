# Two commands a newcomer needs: `make run` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
PIP := $(BIN)/pip install --quiet --disable-pip-version-check

.PHONY: run test lint bench screenshots assets clean

# `make run` installs what the service needs; the test and lint tools come with `make test`.
$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

$(STAMP): $(RUN_STAMP)
	$(PIP) -e '.[dev]'
	touch $@

run: $(RUN_STAMP)
	$(BIN)/study-overlay serve

test: $(STAMP) lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check overlay tests bench scripts
	$(BIN)/mypy overlay
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/bench_server.py
	$(BIN)/python bench/bench_cli.py
	$(BIN)/python bench/bench_dispatch.py
	$(BIN)/python bench/bench_overlays.py
	$(BIN)/python bench/bench_obs.py

screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

assets: $(STAMP)
	$(BIN)/python scripts/compress_static.py
