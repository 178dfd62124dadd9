# Quick start: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test

.PHONY: demo test lint bench bench-smoke bytecode clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# An editable install leaves the package uncompiled, and where PYTHONDONTWRITEBYTECODE is set (CI images, this
# project's machines) every start compiled ~45 modules from source again: ~80 ms before the first frame.
# compileall writes what an ordinary install would (__pycache__, ignored by git) and skips what is up to date.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q -j 0 __init__.py __main__.py console backends widgets themes

demo: bytecode
	$(BIN)/standardiste --demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q -n auto --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

bench: bytecode
	$(BIN)/python bench/store.py
	$(BIN)/python bench/workspace.py
	$(BIN)/python bench/peers.py
	$(BIN)/python bench/postgres.py
	$(BIN)/python bench/chatwoot_snapshot.py
	$(BIN)/python bench/zendesk_snapshot.py
	$(BIN)/python bench/asterisk_calls.py

bench-smoke: bytecode
	$(BIN)/python bench/store.py --smoke
	$(BIN)/python bench/workspace.py --smoke
	$(BIN)/python bench/mime_fuzz.py --smoke
	$(BIN)/python bench/postgres.py --smoke
	$(BIN)/python bench/chatwoot_snapshot.py --smoke
	$(BIN)/python bench/zendesk_snapshot.py --smoke
	$(BIN)/python bench/asterisk_calls.py --smoke

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
