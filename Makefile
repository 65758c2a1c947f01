# Speech QA: `make run` starts the app, `make test` runs every test. Both set themselves up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
# torch's CPU wheel; a bare torch requirement would pull a CUDA build of several GB
TORCH ?= torch==2.13.0

.PHONY: install install-st install-test run test bench bench-corpus clean-index

install: $(VENV)/.core

$(VENV)/.core: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -e .
	touch $@

install-st: $(VENV)/.st

$(VENV)/.st: $(VENV)/.core
	$(PIP) install "$(TORCH)"
	$(PIP) install -e ".[st]"
	touch $@

install-test: $(VENV)/.test

$(VENV)/.test: $(VENV)/.st
	$(PIP) install -e ".[st,test]"
	scripts/install-browser
	touch $@

run: install
	$(PY) app.py

test: install-test
	$(PY) -m pytest

bench: install
	$(PY) scripts/bench.py

# All shared speeches plus the seed: build, size, qa add of one more speech (about an hour of embedding)
bench-corpus: install
	$(PY) scripts/bench_corpus.py

clean-index:
	rm -rf index/builds index/CURRENT
