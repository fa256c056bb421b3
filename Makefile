# `make serve` and `make test` are all a fresh machine needs (see README.md).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install serve test lint unit openapi bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

serve: install
	$(VENV)/bin/salescore serve

lint: install
	$(VENV)/bin/ruff check src tests bench migrations
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint
	$(PY) -m pytest

unit: install
	$(PY) -m pytest tests/domain

openapi: install
	$(VENV)/bin/salescore openapi

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) .salescore
