# Two commands do all the set-up on a fresh machine (README.md):
#   make run    create .venv, install, migrate SQLite, load the demo, serve on 127.0.0.1:8000
#   make test   install what is missing, lint, check, and run every test
#               (PostgreSQL when DATABASE_URL is set, SQLite otherwise)
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# One test worker per core; a module's tests stay on one worker (they share state built
# once per module). `make test PYTEST_ARGS=` runs them in one process.
PYTEST_ARGS ?= -n auto --dist loadfile

# Production settings for the deploy check: no DEBUG, a real-looking key and services.
# The database URL is never connected to: `check` does not touch the database.
# Development settings for the static checks: a fresh clone has no .env yet.
DEV_ENV := DEBUG=$${DEBUG:-true}

DEPLOY_ENV := DEBUG=false \
	SECRET_KEY=deploy-check-$$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9') \
	ALLOWED_HOSTS=services.jiefangbei.example.cn \
	DATABASE_URL=postgres://marketplace@db.invalid:5432/marketplace \
	EMAIL_URL=smtp+tls://mailer:secret@mail.invalid:587 \
	CACHE_URL=redis://cache.invalid:6379/1 \
	BID_ENCRYPTION_KEYS=$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') \
	STATIC_MANIFEST=true

.PHONY: run test bootstrap lint format check messages worker bench lock clean screenshots

bootstrap: $(STAMP)

$(STAMP): pyproject.toml requirements/constraints.txt scripts/bootstrap.sh
	@bash scripts/bootstrap.sh

.env:
	@printf 'DEBUG=true\nSECRET_KEY=%s\n' "$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env
	@echo "Wrote .env for a local run (DEBUG=true). Production sets real environment variables."

run: $(STAMP) .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/ with a task worker and the scheduler (Ctrl-C stops all)."
	@$(PY) manage.py db_worker --interval 1 & worker=$$!; \
	$(PY) manage.py scheduler > /dev/null & scheduler=$$!; \
	trap 'kill $$worker $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

worker: $(STAMP)
	$(PY) manage.py db_worker

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(DEV_ENV) $(PY) -m mypy

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

check: $(STAMP)
	$(DEV_ENV) $(PY) manage.py makemigrations --check --dry-run
	$(DEV_ENV) $(PY) manage.py check
	$(DEPLOY_ENV) $(PY) manage.py check --deploy --fail-level WARNING

test: lint check
	$(PY) -m pytest $(PYTEST_ARGS)

messages: $(STAMP)
	$(PY) manage.py makemessages -l zh_Hans --add-location file --no-obsolete \
		--ignore '.venv/*' --ignore 'tests/*' --ignore 'staticfiles/*'
	$(PY) manage.py compilemessages -l zh_Hans --ignore '.venv/*'

# The README's pictures: the browser journeys (tests/e2e) save theirs into docs/screenshots/,
# the gallery last (its pictures, on the demo data, carry the names the README uses).
E2E_JOURNEYS := $(filter-out tests/e2e/test_gallery.py,$(sort $(wildcard tests/e2e/test_*.py)))
screenshots: $(STAMP)
	E2E_SCREENSHOT_DIR=docs/screenshots $(PY) -m pytest -q $(E2E_JOURNEYS) tests/e2e/test_gallery.py

bench: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[bench]' -c requirements/constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps 'recordlinkage>=0.16,<0.17' 'jellyfish>=1.3,<2'
	$(PY) -m pytest tests/bench -o python_files='bench_*.py' -s -q $(PYTEST_ARGS)

# Upgrade within the pyproject.toml ranges and record the exact versions.
lock:
	rm -rf .lock-venv && python3 -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade '.[dev]'
	.lock-venv/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements/constraints.txt
	rm -rf .lock-venv
	@echo "requirements/constraints.txt updated; run make test before committing it."

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .mypy_cache
