# The habits, in one place. `make demo` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
INSTANCE ?= instance
export PORTAL_INSTANCE_DIR ?= $(abspath $(INSTANCE))

.PHONY: install demo serve test test-sqlite test-pg lint bench e2e system-deps translations compile-translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) compile-translations

# Each capability keeps its catalogue beside its code: portal/<capability>/translations.
compile-translations: $(STAMP)
	@for d in portal/*/translations audit/translations vendor_api/translations; do \
	  [ -d $$d ] && $(BIN)/pybabel compile -f -d $$d >/dev/null 2>&1 || true; done

translations: $(STAMP)
	$(BIN)/python -m portal.i18n extract

demo: install
	@mkdir -p $(INSTANCE)
	$(BIN)/agency-portal keys init
	$(BIN)/agency-portal db upgrade
	$(BIN)/agency-portal seed-demo --logins-file $(INSTANCE)/demo-logins.tsv
	@$(MAKE) --no-print-directory serve

# The portal (gunicorn, 2 processes) and its task consumer; Ctrl-C stops both.
serve: install
	@echo "Serving http://127.0.0.1:5000 (Ctrl-C to stop)"
	@$(BIN)/agency-portal demo-logins $(INSTANCE)/demo-logins.tsv
	@PORTAL_INSECURE_COOKIES=1 $(BIN)/huey_consumer portal.jobs.huey -w 2 -k thread -q & \
	  CONSUMER=$$!; trap "kill $$CONSUMER 2>/dev/null" EXIT INT TERM; \
	  PORTAL_INSECURE_COOKIES=1 $(BIN)/gunicorn -w 2 -b 127.0.0.1:5000 --access-logfile - 'portal.wsgi:app'

test: install lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test-pg: install
	PORTAL_TEST_DATABASE_URL=$${PORTAL_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres} \
	  $(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check portal audit vendor_api tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

e2e: install
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

# Chromium (browser tests), PostgreSQL, CJK fonts (PDFs), poppler (reading PDFs back).
system-deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	  chromium postgresql fonts-noto-cjk poppler-utils

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
