# Everyday commands. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench evaluate clean system-deps rasa-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/triagebot serve --host $(HOST) --port $(PORT)

# Debian packages the tests need, installed when missing and root: a real PostgreSQL
# server, Chromium for the browser tests (Playwright drives /usr/bin/chromium; we never
# run `playwright install`, which downloads browsers), CJK fonts for Chinese screenshots, and
# nginx and Redis for compose.yaml's scale-out set-up (tests/test_scale_out.py).
DEBIAN_NEEDS := $(if $(wildcard /usr/lib/postgresql/*/bin/initdb),,postgresql) $(if $(wildcard /usr/bin/chromium),,chromium) $(if $(wildcard /usr/share/fonts/opentype/noto/NotoSansCJK*),,fonts-noto-cjk) $(if $(wildcard /usr/sbin/nginx),,nginx) $(if $(wildcard /usr/bin/redis-server),,redis-server)
system-deps:
	@if [ -n "$(strip $(DEBIAN_NEEDS))" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing $(strip $(DEBIAN_NEEDS)) (Debian) for the tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_NEEDS) >/dev/null; \
	  else \
	    echo "missing Debian packages: run 'sudo apt-get install $(strip $(DEBIAN_NEEDS))'" >&2; exit 1; \
	  fi; \
	fi

test: $(STAMP) system-deps
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The load benchmark (bench/load.py) needs the `bench` extra (locust, psutil: kept out of
# `test`, locust pulls in gevent) and PostgreSQL, Redis and nginx (system-deps).
bench: $(STAMP) system-deps
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.triage_core
	$(BIN)/python -m bench.rest_channel
	$(BIN)/python -m bench.dashboard
	$(BIN)/python -m bench.alert_delivery
	$(BIN)/python -m bench.load

# The project as a Rasa user runs it: Rasa Open Source 3.6 in its own environment (it pulls
# TensorFlow, so not in `make test` or .ci/run; about 2 GB and a few minutes the first time).
# It declares Python < 3.11 but runs on 3.11 installed without its metadata's checks
# (tools/rasa-requirements.txt lists its dependencies for 3.11).
RASA_VENV := .venv-rasa
RASA_STAMP := $(RASA_VENV)/.installed
$(RASA_STAMP): tools/rasa-requirements.txt
	$(PYTHON) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install --quiet --upgrade pip
	$(RASA_VENV)/bin/pip install --quiet --ignore-requires-python --no-deps rasa==3.6.21 rasa-sdk==3.6.2
	$(RASA_VENV)/bin/pip install --quiet -r tools/rasa-requirements.txt
	touch $@

rasa-check: $(STAMP) $(RASA_STAMP)
	$(BIN)/python -m tools.rasa_check --rasa $(RASA_VENV)/bin/rasa

evaluate: $(STAMP)
	@for f in labelled/*/*.jsonl tests/data/*/*.jsonl ../shared/dev-set/messages-en.jsonl; do \
	  [ -f "$$f" ] && $(BIN)/triagebot evaluate "$$f" | head -3; \
	done

clean:
	rm -rf $(VENV) $(RASA_VENV) .pytest_cache .ruff_cache
