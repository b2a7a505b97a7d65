# Yiwang: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_VERSION := 0.13.8
# uv from PATH, else the copy `make install` puts in a project-local virtual environment.
UV_VENV := .local/uv-venv
UV := $(shell command -v uv 2>/dev/null || echo $(UV_VENV)/bin/uv)
PY := $(UV) run --frozen

.PHONY: help install run demo up down test test-unit test-stack lint contracts contracts-check fuzz bench bench-bundles bench-gateway bench-library bench-all stack-start stack-stop k8s-tools

help:
	@echo "make run        standalone: every service in one process on :8000 (PORT to override)"
	@echo "make test       lint, contracts and all tests on real Kafka, PostgreSQL and Redis"
	@echo "make demo       both bundle journeys step by step on a platform of its own (MODE=distributed: against make up)"
	@echo "make up / down  distributed: real Kafka, PostgreSQL, Redis and one process per service"
	@echo "make contracts  regenerate contracts/openapi and contracts/events from the code"
	@echo "make fuzz       schema fuzzing of every contract through the gateway (standalone; minutes)"
	@echo "make bench      event-pipeline benchmark on the real stack"
	@echo "make bench-library  county population ingest and look-ups at scale (real stack)"
	@echo "make bench-bundles  bundle submissions through the gateway to supervision (real stack)"
	@echo "make bench-gateway  gateway vs direct vs nginx on the real stack (wrk)"
	@echo "make bench-all  every benchmark, then one table of figures against their targets"

# Python 3.11 and the locked dependencies; uv, if missing, from the Python package index
# into .local/uv-venv (Debian's Python refuses a system-wide pip install, PEP 668).
install:
	@$(UV) --version >/dev/null 2>&1 || bash deploy/local/uv.sh "$(UV_VERSION)" "$(UV_VENV)"
	@$(UV) sync --frozen --quiet

run: install
	@$(PY) python -m yiwang_standalone

# Both 一件事 journeys through the gateway, printed step by step (MODE=distributed: against `make up`).
MODE ?= standalone
demo: install
	@YIWANG_LOG_LEVEL=WARNING $(PY) python tools/demo.py --mode $(MODE)

stack-start:
	@bash deploy/local/stack.sh start

stack-stop:
	@bash deploy/local/stack.sh stop

# Remembers whether it started the servers, so that `make down` stops only what it started.
up: install
	@mkdir -p .local/run
	@bash deploy/local/stack.sh status >/dev/null 2>&1 || touch .local/run/stack-started-by-up
	@bash deploy/local/stack.sh start
	@$(PY) python tools/distributed.py up

down:
	@if [ -d .venv ]; then $(PY) python tools/distributed.py down; fi
	@if [ -f .local/run/stack-started-by-up ]; then bash deploy/local/stack.sh stop && rm -f .local/run/stack-started-by-up; fi

lint: install
	@$(PY) ruff check .
	@$(PY) ruff format --check .
	@$(PY) mypy

contracts: install
	@$(PY) python tools/contracts.py

contracts-check: install
	@$(PY) python tools/contracts.py --check

# EXAMPLES per operation (default 100); prints requests, 5xx and contract violations per contract.
fuzz: install
	@$(PY) python tools/fuzz.py --examples $${EXAMPLES:-100}

# kustomize and KEDA's CRDs, for the checks of deploy/k8s (no cluster needed).
k8s-tools:
	@bash deploy/local/k8s-tools.sh

# Everything, on the real stack; stops the servers it started, pass or fail.
test: install lint k8s-tools
	@started=$$(bash deploy/local/stack.sh status >/dev/null 2>&1 && echo no || echo yes); \
	bash deploy/local/stack.sh start || exit 1; \
	eval "$$(bash deploy/local/stack.sh env)"; \
	export YIWANG_TEST_POSTGRES_URL="$$YIWANG_POSTGRES_URL" YIWANG_TEST_KAFKA="$$YIWANG_KAFKA_BOOTSTRAP" \
	       YIWANG_TEST_REDIS_URL="$$YIWANG_REDIS_URL" YIWANG_TEST_REQUIRE_STACK=1; \
	$(PY) pytest -m "not fault" && $(PY) pytest -m fault; rc=$$?; \
	if [ "$$started" = yes ]; then bash deploy/local/stack.sh stop; fi; \
	exit $$rc

bench: install stack-start
	@eval "$$(bash deploy/local/stack.sh env)"; $(PY) python bench/event_pipeline.py

bench-bundles: install stack-start
	@eval "$$(bash deploy/local/stack.sh env)"; $(PY) python bench/bundle_submissions.py

bench-gateway: install stack-start
	@bash deploy/local/bench-tools.sh
	@eval "$$(bash deploy/local/stack.sh env)"; $(PY) python bench/gateway_proxy.py

bench-library: install stack-start
	@eval "$$(bash deploy/local/stack.sh env)"; $(PY) python bench/population_library.py

bench-all: install stack-start
	@bash deploy/local/bench-tools.sh
	@eval "$$(bash deploy/local/stack.sh env)"; $(PY) python bench/all.py
