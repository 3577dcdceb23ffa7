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
	@# Migrations, the first admin key (printed once), the seed story (SRS_LOAD_SEED=false
	@# to leave it out): the container's entrypoint, here followed by the two processes.
	PATH="$(CURDIR)/$(BIN):$$PATH" SRS_LOAD_SEED=$${SRS_LOAD_SEED:-true} scripts/entrypoint true
	@# The webhook worker runs beside the server; Ctrl-C or SIGTERM stops both (at once:
	@# open event streams end with a retry hint), and the worker stops too when the server
	@# exits on its own.
	$(BIN)/srs worker & worker=$$!; \
	$(BIN)/srs serve --host $(HOST) --port $(PORT) & server=$$!; \
	trap 'kill -TERM $$server $$worker 2>/dev/null' INT TERM; \
	wait $$server; status=$$?; \
	if kill -0 $$server 2>/dev/null; then wait $$server; status=$$?; fi; \
	kill -TERM $$worker 2>/dev/null; wait $$worker; exit $$status

test: install
	scripts/ensure-chromium
	scripts/ensure-nginx
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# `make bench` (not part of `make test` or CI): the figures of BENCHMARKS.md, in about 15
# minutes; `make bench BENCH_ARGS=--quick` in about 3. Peers run in their own .venv-bench;
# PostgreSQL at BENCH_POSTGRES (default postgresql://postgres@127.0.0.1:5432), where the
# scripts create and drop scratch databases named srs_bench_*. JSON and profiles go to
# $(BENCH_OUT); the tables go to the terminal.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed-stamp
BENCH_OUT ?= artifacts/bench
BENCH_ARGS ?=

$(BENCH_STAMP): benchmarks/requirements.txt benchmarks/requirements-nodeps.txt
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -r benchmarks/requirements.txt
	$(BENCH_VENV)/bin/python -m pip install --quiet --no-deps -r benchmarks/requirements-nodeps.txt
	touch $(BENCH_STAMP)

bench: install $(BENCH_STAMP)
	command -v wrk >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	mkdir -p $(BENCH_OUT)
	@# The load average at the start is recorded with the figures: judge them only from a
	@# quiet machine (under 1).
	start=$$(date +%s); \
	echo "Started $$(date -u +%Y-%m-%dT%H:%M:%SZ); load average at the start: $$(cut -d' ' -f1-3 /proc/loadavg); $$(nproc) cores" > $(BENCH_OUT)/run.txt; \
	for script in fit import_file incremental api; do \
		$(BIN)/python benchmarks/$$script.py --json $(BENCH_ARGS) > $(BENCH_OUT)/$$script.json \
		|| exit 1; done; \
	$(BIN)/python benchmarks/profile_hot_paths.py --out $(BENCH_OUT) $(BENCH_ARGS) || exit 1; \
	echo "Took $$(( ($$(date +%s) - start) / 60 )) min; load average at the end: $$(cut -d' ' -f1-3 /proc/loadavg)" >> $(BENCH_OUT)/run.txt
	$(BIN)/python benchmarks/summary.py $(BENCH_OUT)

clean:
	rm -rf $(VENV) $(BENCH_VENV) instance .pytest_cache .hypothesis *.egg-info
