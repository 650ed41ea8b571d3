# unpaired — set-up and entry points. `make demo` and `make test` work from nothing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := flite espeak-ng dict-freedict-eng-fra dict-freedict-fra-eng \
	dict-freedict-eng-spa dict-freedict-spa-eng dict-freedict-deu-eng dict-freedict-eng-deu

# Prefect state stays inside the project; no telemetry; the UI binds to loopback.
export PREFECT_HOME := $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_LOCAL_STORAGE_PATH := $(CURDIR)/data/prefect-results
export PREFECT_SERVER_API_HOST := 127.0.0.1

PAIR ?= en-fr
PRESET ?= quick

.PHONY: setup system demo test bench server clean

setup: system $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Debian packages the pipelines call (speech synthesis, phonemes, dictionaries).
system:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "error: missing system packages:" $$missing; \
	    echo "install them with: sudo apt-get install -y" $$missing "(or run make as root)"; exit 1; \
	  fi; \
	  echo "installing system packages:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

test: setup
	$(BIN)/python -m pytest -q

demo: setup
	$(BIN)/unpaired demo

bench: setup
	$(BIN)/unpaired bench --pair $(PAIR) --preset $(PRESET) --out data/reports/bench-$(PAIR)-$(PRESET).json

server: setup
	$(BIN)/prefect server start --host 127.0.0.1

clean:
	rm -rf data/store/tmp
