# Runbook. A fresh machine needs two commands: `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
RVENV := .venv-rasa
APP := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)

.PHONY: setup browser run test train knowledge stats bench clean

setup: $(VENV)/.installed $(RVENV)/.installed browser

# Debian's chromium + a CJK font + playwright (pinned in app.lock) for the widget browser test
browser: $(VENV)/.installed
	bash scripts/install_browser.sh

# Modern environment: knowledge store, rules, tickets, API, action server, tests.
$(VENV)/.installed: requirements/app.lock
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip==24.2
	$(VENV)/bin/pip install -q -r requirements/app.lock
	# pkuseg ships its model in the sdist and needs numpy at build time
	$(VENV)/bin/pip install -q --no-build-isolation pkuseg==0.0.25
	touch $@

# Pinned environment for the Rasa server (rasa 3.6 declares <3.11; its deps are pinned for 3.11).
$(RVENV)/.installed: requirements/rasa.lock
	$(PY) -m venv $(RVENV)
	$(RVENV)/bin/pip install -q --upgrade pip==24.2
	$(RVENV)/bin/pip install -q -r requirements/rasa.lock
	$(RVENV)/bin/pip install -q --no-deps --ignore-requires-python rasa==3.6.21 rasa-sdk==3.6.2
	$(RVENV)/bin/pip install -q --no-build-isolation pkuseg==0.0.25
	touch $@

train: setup knowledge
	bash scripts/train.sh

knowledge: $(VENV)/.installed
	$(APP) -m knowledge build

stats: $(VENV)/.installed
	$(APP) -m knowledge stats

run: setup
	bash scripts/run.sh

test: setup
	bash scripts/test.sh

# Every benchmark, each rewriting its own block of docs/performance.md (about 30 minutes on 2 cores).
bench: train
	$(APP) -m bench.knowledge_scale
	$(APP) -m bench.chat_load
	$(APP) -m bench.nlu_speed --train

clean:
	rm -rf var models results
