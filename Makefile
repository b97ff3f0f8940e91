# Two commands for a newcomer: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run install install-dev migrate seed test lint typecheck format bench lock reset clean services-check messages

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

# Installs, then scripts/run.py: starts the embedded PostgreSQL and Valkey (data under var/)
# unless DATABASE_URL / REDIS_URL name servers, migrates, seeds a demo shop when the database
# has none, says where to go and how to sign in, and runs web, worker and beat on PORT (8000).
# Ctrl-C stops them all, and the embedded servers.
run: install
	@$(PY) scripts/run.py

seed: migrate
	$(PY) manage.py seed_demo

services-check: install-dev
	@$(PY) scripts/check_services.py

# On the PostgreSQL and Redis at DATABASE_URL / REDIS_URL (default 127.0.0.1:5432 and :6379)
# when they answer, else on embedded ones started for the run under var/test/ (EMBEDDED=1:
# always embedded; EMBEDDED=0: never). See scripts/with_services.py.
test: install-dev
	@command -v chromium >/dev/null || scripts/ensure-chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) scripts/typecheck.py
	$(PY) scripts/with_services.py sh -c '\
	  DJANGO_SETTINGS_MODULE=postpurchase.settings.test $(PY) manage.py makemigrations --check --dry-run \
	  && $(VENV)/bin/pytest -q -n 2 --create-db'

# Collect translatable strings into locale/*/LC_MESSAGES/django.po, then compile them.
messages: install-dev
	$(PY) manage.py makemessages --all --no-location --no-wrap --ignore=.venv --ignore=bench --ignore=tests --ignore=var --ignore='*/migrations/*'
	$(PY) manage.py compilemessages --ignore=.venv --ignore=bench

lint: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	$(PY) scripts/typecheck.py

# mypy (settings in pyproject.toml) against mypy-baseline.txt: no file may gain an error. It needs
# no database or Redis. After fixing some, lower the baseline: `.venv/bin/python scripts/typecheck.py --update`.
typecheck: install-dev
	$(PY) scripts/typecheck.py

# Seeds its own database (pp_bench), loads 127.0.0.1 with wrk and writes docs/performance.md.
bench: install-dev services-check
	@command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(PY) bench/run.py

# Regenerate the lock files after changing pyproject.toml.
lock:
	$(PIP) install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml -o requirements/base.lock --python-version 3.11
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev -o requirements/dev.lock --python-version 3.11

# Drop the local data (the embedded servers' databases, the beat schedule, uploads): the next
# `make run` starts from a fresh demo. Stop `make run` first.
reset:
	@if [ -x $(PY) ]; then $(PY) scripts/embedded.py stop; fi
	rm -rf "$${VAR_DIR:-var}"

clean: reset
	rm -rf $(VENV)
