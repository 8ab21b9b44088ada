# Two commands a newcomer needs: `make run` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
PIP := $(BIN)/pip install --quiet --disable-pip-version-check

.PHONY: run test lint bench screenshots assets sounds messages clean

# `make run` installs what the service needs; the test and lint tools come with `make test`.
$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[hotkeys]'
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
	$(BIN)/python bench/bench_growth.py
	$(BIN)/python bench/bench_overlays.py
	$(BIN)/python bench/bench_obs.py
	$(BIN)/python bench/bench_focus_obs.py

screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

assets: $(STAMP)
	$(BIN)/python scripts/compress_static.py

# The sound cues the package ships, synthesised (nothing downloaded); the same bytes every run.
sounds: $(STAMP)
	$(BIN)/python scripts/make_sounds.py

# After changing a user-facing text: extract every message into the template and merge it into
# each language's catalog (new ones come untranslated; tests/test_i18n.py says which are missing).
LOCALES := overlay/i18n/locales
messages: $(STAMP)
	$(BIN)/pybabel -q extract -F overlay/i18n/babel.cfg -k lang -k plural:1,2 --no-wrap --sort-by-file \
		--project study-overlay --copyright-holder study-overlay --omit-header -o $(LOCALES)/messages.pot .
	for code in it es; do \
		if [ -f $(LOCALES)/$$code/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel -q update --no-wrap --no-fuzzy-matching --ignore-obsolete -l $$code \
				-i $(LOCALES)/messages.pot -d $(LOCALES); \
		else \
			$(BIN)/pybabel -q init --no-wrap -l $$code -i $(LOCALES)/messages.pot -d $(LOCALES); \
		fi; \
	done
