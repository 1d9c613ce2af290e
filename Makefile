# Plenary: `make run` serves the app with demo data; `make test` lints (ruff) and runs the whole test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install install-test run lint test translations messages db demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Debian packages: Pango for PDF reports; for the tests also Chromium and pdftotext.
RUN_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0
TEST_PACKAGES := $(RUN_PACKAGES) chromium poppler-utils

install: $(BIN)/python
	.ci/install-packages $(RUN_PACKAGES)
	$(BIN)/pip install --quiet -e .
	$(MAKE) --no-print-directory translations

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(MAKE) --no-print-directory translations
	.ci/install-packages $(TEST_PACKAGES)

translations:
	$(BIN)/pybabel compile -d forum/translations

# After adding or changing user-facing strings: refresh the catalogues, then translate.
messages:
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 -k plural_forms:1,2 --no-location -o forum/translations/messages.pot .
	$(BIN)/pybabel update -w 100 -i forum/translations/messages.pot -d forum/translations

db:
	$(FLASK) db upgrade

demo: db
	$(FLASK) demo --host $(HOST) --port $(PORT)

run: install demo
	$(BIN)/gunicorn --worker-class gevent --workers 1 --bind $(HOST):$(PORT) --access-logfile - wsgi:app

# Lint (pyflakes, pycodestyle, import order, bugbear; configured in pyproject.toml) first:
# it takes a second, the tests minutes.
lint:
	$(BIN)/ruff check .

test: install-test
	$(BIN)/ruff check .
	$(BIN)/pytest

clean:
	rm -rf $(VENV) instance/*.db* test-artifacts
