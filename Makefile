# Every target sets itself up from a machine that has only Python 3.11 and pip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The gp extra needs any PyTorch >= 2.2; this CPU build is the one the reference machines
# hold on disk, and installing it first keeps pip from choosing a multi-GB CUDA build.
TORCH ?= torch==2.13.0

.PHONY: test test-slow test-all lint demo bench schema clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet '$(TORCH)'
	$(BIN)/pip install --quiet -e '.[test,lint,pandas,search,gp]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/pytest -q -m "not slow"

# The slow tests alone (CI runs them after `make test`); exit 5 means none are marked.
test-slow: $(STAMP)
	$(BIN)/pytest -q -m slow || [ $$? -eq 5 ]

test-all: $(STAMP)
	$(BIN)/pytest -q

# ruff (lint and import order) over the code and its tests; mypy over batchrun/ (pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check batchrun tests bench
	$(BIN)/mypy

demo: $(STAMP)
	$(BIN)/batchrun apply manifests/quickstart.yaml --yes

bench: $(STAMP)
	$(BIN)/python -m bench

schema: $(STAMP)
	$(BIN)/batchrun schema > schemas/manifest.schema.json

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache
