# The two commands a newcomer needs: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8008

.PHONY: run stack test lint format screenshots install install-dev migrate demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --noinput

# The demo app (its sites and the `demo` command) is installed only where DEMO is on.
demo: migrate
	DEMO=1 FETCH_ALLOW_PRIVATE=1 REFRESH_DEFAULT_INTERVAL=$${REFRESH_DEFAULT_INTERVAL:-6} $(BIN)/python manage.py demo --base-url http://$(HOST):$(PORT) --extra-studios --admin

# The port is checked first: a busy port stops `make run` before it migrates or prints the banner.
run: install
	@$(BIN)/python -c "import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); \
	s.bind(('$(HOST)', $(PORT)))" 2>/dev/null || { echo "Port $(PORT) on $(HOST) is already in use: stop what listens there, or choose another with make run PORT=8010." >&2; exit 1; }
	@$(MAKE) --no-print-directory demo HOST=$(HOST) PORT=$(PORT)
	DEMO=1 FETCH_ALLOW_PRIVATE=$${FETCH_ALLOW_PRIVATE:-1} $(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application

# A local deployment: two daphne, two RQ workers, the scheduler, Pushpin when installed, on the
# machine's PostgreSQL and Redis (README: Running at scale). Ctrl-C stops it.
stack: install-dev
	BIN=$(BIN) scripts/stack.sh

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Lint, format check, types, and the import rules (no circle; streaming imports nothing of the project).
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python scripts/check_imports.py

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Rewrites the README's screenshots (docs/screenshots/) from the browser tests; `make test` leaves them alone.
screenshots: install-dev
	SCREENSHOTS=1 $(BIN)/python -m pytest tests/browser $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm .test-db.sqlite3*
