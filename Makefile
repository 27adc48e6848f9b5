# Everyday commands. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench evaluate clean system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/triagebot serve --host $(HOST) --port $(PORT)

# Debian packages the tests need (a real PostgreSQL server); installed when missing and root.
system-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing postgresql (Debian) for the database tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else \
	    echo "PostgreSQL is missing: run 'sudo apt-get install postgresql' (the tests start their own server)" >&2; exit 1; \
	  fi; \
	fi

test: $(STAMP) system-deps
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench.triage_core
	$(BIN)/python -m bench.rest_channel

evaluate: $(STAMP)
	@for f in nlu_data/en/labelled/*.jsonl tests/data/*/*.jsonl ../shared/dev-set/messages-en.jsonl; do \
	  [ -f "$$f" ] && $(BIN)/triagebot evaluate "$$f" | head -3; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
