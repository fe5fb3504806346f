# Preceptor: `make run` starts the whole suite on this machine, `make test` checks it.
# GNU make; the recipes need bash and, for `make test`, apt-get, PostgreSQL and RabbitMQ.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
INSTALLED := $(VENV)/.installed
VAR_DIR ?= var
TEST_WORKERS ?= 2
PYTEST_ARGS ?=
export VAR_DIR

.PHONY: help install run test bench lint fmt migrate dlq docs deploy-files clean browser wrk postgres rabbitmq

help:
	@echo "make run      start every service and worker (embedded defaults) under supervisord, print the site URL"
	@echo "make test     run the tests in TEST_WORKERS processes (starts PostgreSQL and RabbitMQ if needed)"
	@echo "make install  create .venv and install Preceptor with its dev tools"
	@echo "make lint     ruff check"
	@echo "make fmt      ruff format and ruff check --fix"
	@echo "make migrate  migrate every service's database"
	@echo "make dlq      list dead letters; make dlq REPLAY=<service> replays all of that service"
	@echo "make bench    run the benchmarks (installs wrk), rewrite docs/benchmarks.md (machine, date)"
	@echo "make docs     regenerate docs/events.md from the event catalogue"
	@echo "make deploy-files  regenerate deploy/rabbitmq/definitions.json and deploy/k8s from the code"
	@echo "make clean    remove var/ (embedded databases, broker folders, mail, generated secrets)"

# --- install: a virtualenv, reinstalled only when pyproject.toml changes ---------------------

install: $(INSTALLED)

DEBIAN_VENV_PACKAGE = $(shell $(PYTHON) -c 'import sys; print("python%d.%d-venv" % sys.version_info[:2])')

# Debian ships venv's pip bootstrap in a separate package (python3.X-venv): install it if missing.
$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "make: Preceptor needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1). Try make PYTHON=python3.11" >&2; exit 1; }
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { \
	  echo "make: installing $(DEBIAN_VENV_PACKAGE) (apt-get)"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEBIAN_VENV_PACKAGE); }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# --- run: the embedded default, one command -----------------------------------------------

run: install
	mkdir -p $(VAR_DIR)
	$(BIN)/python -m shared.cli migrate
	@echo
	@echo "  Preceptor is running at $${PUBLIC_URL:-http://127.0.0.1:$${WEB_PORT:-8000}}"
	@echo "  (mail lands in $(VAR_DIR)/mail; a process that dies is restarted; Ctrl-C stops every process)"
	@echo
	PATH="$(BIN):$$PATH" PYTHONUNBUFFERED=1 exec $(BIN)/python -m shared.devtools.supervise --procfile Procfile

# --- test: the tests against real PostgreSQL, RabbitMQ and Chromium -------------------------

test: install browser wrk postgres rabbitmq
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Chromium and fonts for the Playwright browser tests, from Debian, only when missing.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "make: installing Chromium and fonts for the browser tests (apt-get)"; \
	  apt-get update; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	    chromium fonts-liberation fonts-dejavu-core; \
	fi

# wrk, the HTTP load generator of the catalogue benchmark (and its smoke test), from Debian.
wrk:
	@if ! command -v wrk >/dev/null; then \
	  echo "make: installing wrk for the benchmarks (apt-get)"; \
	  apt-get update; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk; \
	fi

postgres:
	@if ! pg_isready -q -h 127.0.0.1 2>/dev/null; then \
	  command -v pg_ctlcluster >/dev/null \
	    || { echo "make: PostgreSQL is not reachable on 127.0.0.1:5432 and is not installed here" >&2; exit 1; }; \
	  echo "make: PostgreSQL is down; starting it"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | sort -V | tail -n 1) main start || true; \
	  for _ in $$(seq 60); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done; \
	  pg_isready -q -h 127.0.0.1 \
	    || { echo "make: PostgreSQL is still not reachable on 127.0.0.1:5432 after 60 s" >&2; exit 1; }; \
	fi

# A TCP check on the AMQP port: RabbitMQ opens it once the broker has booted.
rabbitmq:
	@if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then \
	  command -v rabbitmq-server >/dev/null \
	    || { echo "make: RabbitMQ is not reachable on 127.0.0.1:5672 and is not installed here" >&2; exit 1; }; \
	  echo "make: RabbitMQ is down; starting it"; \
	  rabbitmq-server -detached || true; \
	  for _ in $$(seq 60); do (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && break; sleep 1; done; \
	  (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null \
	    || { echo "make: RabbitMQ is still not reachable on 127.0.0.1:5672 after 60 s" >&2; exit 1; }; \
	fi

# --- everyday tools -------------------------------------------------------------------------

lint: install
	$(BIN)/ruff check .

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: install
	$(BIN)/python -m shared.cli migrate

dlq: install
ifdef REPLAY
	$(BIN)/python -m shared.cli dlq replay --service $(REPLAY)
else
	$(BIN)/python -m shared.cli dlq list
endif

bench: install wrk postgres rabbitmq
	$(BIN)/python -m benchmarks

docs: install
	$(BIN)/python -m shared.cli events-doc

# The RabbitMQ definitions (bus topology) and the Kubernetes manifests, generated from the code.
deploy-files: install
	$(BIN)/python -m shared.cli rabbitmq-definitions --output deploy/rabbitmq/definitions.json
	$(BIN)/python -m shared.cli k8s-manifests --output deploy/k8s

clean:
	rm -rf var/
