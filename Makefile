# unpaired — set-up and entry points. `make demo` and `make test` work from nothing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := flite espeak-ng dict-freedict-eng-fra dict-freedict-fra-eng \
	dict-freedict-eng-spa dict-freedict-spa-eng dict-freedict-deu-eng dict-freedict-eng-deu
# Only for the PostgreSQL-backed server and its integration test (skipped when absent).
SERVER_PACKAGES := postgresql

# Prefect state stays inside the project; no telemetry; the UI binds to loopback.
export PREFECT_HOME := $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_LOCAL_STORAGE_PATH := $(CURDIR)/data/prefect-results
export PREFECT_SERVER_API_HOST := 127.0.0.1
# The temporary server a command starts waits 20 s by default; a loaded 2-core machine needs more.
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120
# Deployed flow runs send a heartbeat every 30 s; `make deploy` marks silent ones Crashed.
export PREFECT_FLOWS_HEARTBEAT_FREQUENCY ?= 30

PAIR ?= en-fr
PRESET ?= quick
# The server listens on loopback; another interface needs PREFECT_SERVER_API_AUTH_STRING set.
SERVER_HOST ?= 127.0.0.1
# Where deploy/worker find the server started by `make server`.
SERVER_URL ?= http://127.0.0.1:4200/api
PG_DIR := $(CURDIR)/.prefect/postgres
PG_PORT ?= 5433

.PHONY: setup system server-system demo test bench server server-postgres deploy worker ui-check clean

setup: system $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Debian packages the pipelines call (speech synthesis, phonemes, dictionaries).
system:
	@$(MAKE) --no-print-directory _apt PACKAGES="$(SYSTEM_PACKAGES)" REQUIRED=1

# PostgreSQL: needed by `make server-postgres`; for `make test` only when it can be installed.
server-system:
	@$(MAKE) --no-print-directory _apt PACKAGES="$(SERVER_PACKAGES)" REQUIRED=0

_apt:
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "missing system packages:" $$missing; \
	    echo "install them with: sudo apt-get install -y" $$missing "(or run make as root)"; \
	    if [ "$(REQUIRED)" = 1 ]; then exit 1; else exit 0; fi; \
	  fi; \
	  echo "installing system packages:" $$missing; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; } \
	    || { echo "could not install:" $$missing; [ "$(REQUIRED)" != 1 ]; }; \
	fi

test: setup server-system
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=15

demo: setup
	$(BIN)/unpaired demo

bench: setup
	$(BIN)/unpaired bench --pair $(PAIR) --preset $(PRESET) --out data/reports/bench-$(PAIR)-$(PRESET).json

server: setup _server-guard
	$(BIN)/prefect server start --host $(SERVER_HOST)

_server-guard:
	@if [ "$(SERVER_HOST)" != 127.0.0.1 ] && [ -z "$$PREFECT_SERVER_API_AUTH_STRING" ]; then \
	  echo "error: SERVER_HOST=$(SERVER_HOST) exposes the server: set PREFECT_SERVER_API_AUTH_STRING='user:secret'"; exit 1; fi

# The same server on a PostgreSQL cluster kept in .prefect/postgres (for several users and workers).
server-postgres: setup server-system _server-guard
	@bindir=$$(dirname $$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)); \
	run=""; if [ "$$(id -u)" = 0 ]; then run="runuser -u postgres --"; mkdir -p $(PG_DIR); chown postgres $(PG_DIR); fi; \
	if [ ! -f $(PG_DIR)/PG_VERSION ]; then $$run $$bindir/initdb -D $(PG_DIR) -U prefect -A trust -E UTF8 >/dev/null; fi; \
	$$run $$bindir/pg_ctl -D $(PG_DIR) -l $(PG_DIR)/server.log -w -o "-h 127.0.0.1 -p $(PG_PORT) -k $(PG_DIR)" status >/dev/null \
	  || $$run $$bindir/pg_ctl -D $(PG_DIR) -l $(PG_DIR)/server.log -w -o "-h 127.0.0.1 -p $(PG_PORT) -k $(PG_DIR)" start; \
	$$bindir/createdb -h 127.0.0.1 -p $(PG_PORT) -U prefect prefect 2>/dev/null || true
	PREFECT_API_DATABASE_CONNECTION_URL=postgresql+asyncpg://prefect@127.0.0.1:$(PG_PORT)/prefect \
	  $(BIN)/prefect server start --host $(SERVER_HOST)

# Register the deployments of prefect.yaml with the server, with the work pool and the `gpu`
# limit (one slot per CUDA device, at least one).
deploy: setup
	@export PREFECT_API_URL=$(SERVER_URL); \
	$(BIN)/prefect work-pool inspect unpaired >/dev/null 2>&1 || $(BIN)/prefect work-pool create unpaired --type process; \
	slots=$$($(BIN)/python -c "import torch; print(max(1, torch.cuda.device_count()))"); \
	$(BIN)/prefect global-concurrency-limit inspect gpu >/dev/null 2>&1 \
	  && $(BIN)/prefect global-concurrency-limit update gpu --limit $$slots \
	  || $(BIN)/prefect global-concurrency-limit create gpu --limit $$slots; \
	$(BIN)/prefect --no-prompt deploy --all && \
	$(BIN)/python scripts/automations.py

# Open the latest run and every report in headless Chromium (plots must render); screenshots in data/reports/ui/.
ui-check: setup
	@$(MAKE) --no-print-directory _apt PACKAGES=chromium REQUIRED=1
	$(BIN)/pip install --quiet -e '.[test,ui]'
	$(BIN)/python scripts/ui_check.py --server $(SERVER_URL:/api=) --out data/reports/ui

worker: setup
	PREFECT_API_URL=$(SERVER_URL) $(BIN)/prefect worker start --pool unpaired --type process

clean:
	rm -rf data/store/tmp
