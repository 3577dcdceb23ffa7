# Two commands: `make run` serves the API on http://127.0.0.1:8000 with the seed story
# (and runs the webhook worker beside it);
# `make test` runs the whole suite. Both create and update .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/srs db upgrade
	$(BIN)/srs seed
	$(BIN)/srs keys bootstrap
	@# The webhook worker runs beside the server; Ctrl-C or SIGTERM stops both (gracefully),
	@# and the worker stops too when the server exits on its own.
	$(BIN)/srs worker & worker=$$!; \
	$(BIN)/srs serve --host $(HOST) --port $(PORT) & server=$$!; \
	trap 'kill -TERM $$server $$worker 2>/dev/null' INT TERM; \
	wait $$server; status=$$?; \
	kill -TERM $$worker 2>/dev/null; wait $$worker; wait $$server; exit $$status

test: install
	scripts/ensure-chromium
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis *.egg-info
