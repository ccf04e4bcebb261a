# The entry points people need: run, test, bench, lint.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
E2E_CACHE ?= $(HOME)/.cache/mem0-e2e
export MEM0_E2E_CACHE := $(E2E_CACHE)

.PHONY: help install install-test run test test-fast e2e-deps bench bench-retrieval bench-perf bench-soak lint fmt clean

help:
	@echo "make run        start the service on the embedded default (SQLite, on-disk vectors, bundled model)"
	@echo "make test       install everything the tests need and run every test (PostgreSQL, n8n, Flowise included)"
	@echo "make test-fast  the in-process API tier on both backends (no subprocesses, no n8n/Flowise, no 20k-memory scale tests)"
	@echo "make bench      run the benchmarks and refresh bench/results"
	@echo "make lint       static checks: ruff on all Python, mypy on the service"
	@echo "make fmt        apply ruff's fixes and import order"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python service/pyproject.toml
	$(BIN)/pip install --quiet -e ./service
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed tests/requirements.txt $(wildcard langchain_adapter/pyproject.toml)
	$(BIN)/pip install --quiet -r tests/requirements.txt
	if [ -f langchain_adapter/pyproject.toml ]; then $(BIN)/pip install --quiet -e './langchain_adapter[test]'; fi
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(BIN)/mem0-service serve

e2e-deps:
	@for script in tests/n8n/install_n8n.sh tests/flowise/install_flowise.sh tests/platform/install_mem0ai_js.sh \
		tests/mcp/install_inspector.sh tests/ui/install_chromium.sh; do \
		if [ -f $$script ]; then bash $$script || exit 1; fi; \
	done

test: install-test e2e-deps
	$(BIN)/pytest

test-fast: install-test
	$(BIN)/pytest tests/inprocess -m "not scale"

bench: bench-retrieval bench-perf bench-soak

$(VENV)/.installed-bench: $(VENV)/.installed-test bench/requirements.txt
	$(BIN)/pip install --quiet -r bench/requirements.txt
	touch $@

bench-retrieval: $(VENV)/.installed-bench
	$(BIN)/python -m bench.retrieval

bench-perf: $(VENV)/.installed-bench
	$(BIN)/python -m bench.perf

bench-soak: $(VENV)/.installed-bench
	$(BIN)/python -m bench.soak

PY_SOURCES := service langchain_adapter tests bench

$(VENV)/.installed-lint: $(VENV)/.installed-test Makefile
	$(BIN)/pip install --quiet ruff==0.17.6 mypy==2.4.1 types-tqdm==4.70.0.20261106
	touch $@

lint: $(VENV)/.installed-lint
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/mypy --config-file service/pyproject.toml service/mem0_service

fmt: $(VENV)/.installed-lint
	$(BIN)/ruff check --fix --select I,F401,UP,RUF100 $(PY_SOURCES)

clean:
	rm -rf $(VENV) data .pytest_cache
