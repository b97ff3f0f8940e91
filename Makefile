# Two commands for a newcomer: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run install install-dev migrate seed test lint format bench lock clean services-check messages

$(VENV)/.installed: requirements/base.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements/base.lock
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements/dev.lock
	$(PIP) install --quiet -r requirements/dev.lock
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

# Installs, migrates, seeds a demo shop when the database has none, then starts web, worker
# and beat under one process manager (Ctrl-C stops all three).
run: migrate
	@mkdir -p var
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo --if-empty
	DEBUG=$${DEBUG:-1} $(VENV)/bin/honcho start -f Procfile.dev

seed: migrate
	$(PY) manage.py seed_demo

services-check: install-dev
	@$(PY) scripts/check_services.py

test: install-dev services-check
	@command -v chromium >/dev/null || scripts/ensure-chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SETTINGS_MODULE=postpurchase.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest -q -n 2 --create-db

# Collect translatable strings into locale/*/LC_MESSAGES/django.po, then compile them.
messages: install-dev
	$(PY) manage.py makemessages --all --no-location --no-wrap --ignore=.venv --ignore=bench --ignore=tests --ignore=var --ignore='*/migrations/*'
	$(PY) manage.py compilemessages --ignore=.venv --ignore=bench

lint: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Seeds its own database (pp_bench), loads 127.0.0.1 with wrk and writes docs/performance.md.
bench: install-dev services-check
	@command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(PY) bench/run.py

# Regenerate the lock files after changing pyproject.toml.
lock:
	$(PIP) install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml -o requirements/base.lock --python-version 3.11
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev -o requirements/dev.lock --python-version 3.11

clean:
	rm -rf $(VENV) var
