# `make serve` and `make test` are all a fresh machine needs (see README.md).
# `make serve` installs what serving needs (`pip install -e .`); `make test`, `make lint`,
# `make unit` and `make bench` add the test tools (`pip install -e '.[dev]'`). Each install
# runs again when pyproject.toml changes.
VENV ?= .venv
PY := $(VENV)/bin/python
SERVE_STAMP := $(VENV)/.installed-serve
DEV_STAMP := $(VENV)/.installed-dev

# The suite runs its test files on TEST_WORKERS processes (pytest-xdist, a file's tests
# together), each with a database of its own; the fuzz run last, on its own: schemathesis
# makes its tests as it goes, which xdist's workers cannot share out.
# Against a server given by SALESCORE_TEST_DATABASE_URL, one: the change feed holds back
# events while any older transaction runs on the server, whatever its database.
TEST_WORKERS ?= $(if $(SALESCORE_TEST_DATABASE_URL),1,2)
FUZZ := tests/api/test_fuzz.py

.PHONY: install install-dev serve test suite lint unit openapi bench clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(SERVE_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

# The dev install holds the serving one: it stands for both.
$(DEV_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(SERVE_STAMP)

install: $(SERVE_STAMP)

install-dev: $(DEV_STAMP)

serve: install
	$(VENV)/bin/salescore serve

lint: install-dev
	$(VENV)/bin/ruff check src tests bench migrations
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint suite

suite: install-dev
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --ignore $(FUZZ)
	$(PY) -m pytest $(FUZZ)

unit: install-dev
	$(PY) -m pytest tests/domain

openapi: install
	$(VENV)/bin/salescore openapi

bench: install-dev
	$(PY) -m bench

clean:
	rm -rf $(VENV) .salescore
