# LEO/NPD teaching kit: build the book and run the tests.
#
#   make book   create .venv if needed, install the locked packages, build the
#               HTML book (every notebook executed) into _build/html/
#   make test   same bootstrap, then run the whole test suite
#   make browser-test
#               open the built book (make book first) in headless Chromium and
#               check every page; screenshots go to _build/screenshots/
#   make chromium
#               install Debian's chromium if it is missing (needs root; CI)
#   make exemplar-data
#               generate the larger synthetic data set the advanced exemplars
#               read by default (seeded; skipped when it is up to date for
#               this generator version, seed and scale); book and test run it
#   make test-pandas22
#               the test suite (minus the book and notebook tests) in a second
#               environment, .venv-pandas22, built from requirements/lock-pandas22.txt
#               (pandas 2.2, NumPy 2.0, pyarrow 16: the oldest the ranges allow)
#   make venv   only the bootstrap (idempotent; quick when up to date)
#   make lock   regenerate requirements/lock.txt from pyproject.toml
#   make clean  remove _build/
#
# Needs only python3 (3.11+) and make; everything else comes from PyPI.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LOCK := requirements/lock.txt
STAMP := $(VENV)/.leokit-lock.sha256

# Network guard (tests/netguard/sitecustomize.py): on PYTHONPATH, it makes
# every Python process -- pytest, jupyter-book and the Jupyter kernels they
# start -- refuse connections to anything but this machine's loopback.
NETGUARD := $(CURDIR)/tests/netguard
GUARDED := PYTHONPATH="$(NETGUARD)$${PYTHONPATH:+:$$PYTHONPATH}"

# Jupyter Book flags: re-execute everything, any warning is an error, report
# all warnings before failing. tests/ reads this line, keep it on one line.
JB_FLAGS := --all -W -n --keep-going

# Hook run (under the network guard) before every book build, e.g. to write
# generated tables that chapters include. Empty for now.
BOOK_PREBUILD :=

PYTEST_ARGS ?=

# The larger synthetic data set of the advanced exemplars (contextual offers:
# an informative regression discontinuity needs about 20,000 pupils per
# cohort; the committed data_synthetic/ has 2,500). Generated once into a
# stable path under _build/ and reused while its truth.json records the same
# generator version, seed, scale and cohorts (python -m leokit generate
# --reuse). The notebooks' default data_dir and tests/exemplars read these
# three lines: keep each on one line.
EXEMPLAR_DATA := _build/data/synthetic_20000
EXEMPLAR_SEED := 20261129
EXEMPLAR_SCALE := 20000

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_ROOT_USER_ACTION := ignore

.PHONY: help venv venv-pandas22 exemplar-data exemplar-outputs book test test-pandas22 browser-test chromium lock clean distclean

help:
	@echo "make book   - build the HTML book into _build/html (creates .venv if missing)"
	@echo "make test   - run the full test suite (creates .venv if missing)"
	@echo "make browser-test - check the built book in headless Chromium (after make book)"
	@echo "make chromium - install Debian's chromium if missing (root; used by CI)"
	@echo "make exemplar-data - generate (once) the larger synthetic data of the advanced exemplars"
	@echo "make exemplar-outputs - re-execute the exemplar notebooks in place (then commit them)"
	@echo "make test-pandas22 - run the tests (minus book/notebooks) on pandas 2.2 in .venv-pandas22"
	@echo "make venv   - create/update .venv from $(LOCK)"
	@echo "make lock   - regenerate $(LOCK) from pyproject.toml"
	@echo "make clean  - remove _build/"

# The stamp holds a hash of the lock file and pyproject.toml; when both are
# unchanged and .venv/bin/python exists, nothing is reinstalled.
venv:
	@want=$$(cat $(LOCK) pyproject.toml | sha256sum | cut -d' ' -f1); \
	if [ -x $(PY) ] && [ "$$(cat $(STAMP) 2>/dev/null)" = "$$want" ]; then \
	  echo "$(VENV) is up to date with $(LOCK)"; exit 0; fi; \
	if [ ! -x $(PY) ]; then \
	  echo "Creating $(VENV) with $$($(PYTHON) --version)"; \
	  $(PYTHON) -m venv $(VENV); fi; \
	$(PY) -m pip install --quiet "$$(grep '^pip==' $(LOCK))"; \
	$(PY) -m pip install --quiet -r $(LOCK); \
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .; \
	$(PY) -m pip check; \
	echo "$$want" > $(STAMP); \
	echo "$(VENV) ready"

# The second environment: pandas 2.2 with the oldest NumPy and pyarrow pyproject.toml allows, from its own
# lock, in its own venv (same stamp rule as venv). Its tests are the suite minus the book and notebook tests
# (the executed notebooks' stored outputs are those of the main lock's versions).
VENV22 := .venv-pandas22
PY22 := $(VENV22)/bin/python
LOCK22 := requirements/lock-pandas22.txt
STAMP22 := $(VENV22)/.leokit-lock.sha256
PYTEST22_MARKS := not notebook and not book and not browser

venv-pandas22:
	@want=$$(cat $(LOCK22) pyproject.toml | sha256sum | cut -d' ' -f1); \
	if [ -x $(PY22) ] && [ "$$(cat $(STAMP22) 2>/dev/null)" = "$$want" ]; then \
	  echo "$(VENV22) is up to date with $(LOCK22)"; exit 0; fi; \
	if [ ! -x $(PY22) ]; then \
	  echo "Creating $(VENV22) with $$($(PYTHON) --version)"; \
	  $(PYTHON) -m venv $(VENV22); fi; \
	$(PY22) -m pip install --quiet "$$(grep '^pip==' $(LOCK22))"; \
	$(PY22) -m pip install --quiet -r $(LOCK22); \
	$(PY22) -m pip install --quiet --no-deps --no-build-isolation -e .; \
	$(PY22) -m pip check; \
	echo "$$want" > $(STAMP22); \
	echo "$(VENV22) ready"

# Measured on 2 (shared) cores: about 2.5 min to build .venv-pandas22 the first time, about 10 min of tests.
test-pandas22: venv-pandas22 venv exemplar-data
	$(GUARDED) $(PY22) -c 'import numpy, pandas, pyarrow; print("pandas", pandas.__version__, "numpy", numpy.__version__, "pyarrow", pyarrow.__version__)'
	$(GUARDED) LEOKIT_LOCK=$(LOCK22) $(PY22) -m pytest -p no:cacheprovider -m "$(PYTEST22_MARKS)" $(PYTEST_ARGS)

# About 35 s on 2 cores the first time; a no-op while up to date.
exemplar-data: venv
	$(GUARDED) $(PY) -m leokit generate --out $(EXEMPLAR_DATA) --seed $(EXEMPLAR_SEED) --overwrite \
	  --scale $(EXEMPLAR_SCALE) --cohorts 12 --no-progress --reuse

# Re-execute every exemplar notebook in place (in its own folder, under the
# network guard) and store its outputs: run after a change to leokit or the
# data, then commit the notebooks (strict nbval compares the stored outputs).
# One notebook: make exemplar-outputs EXEMPLARS=exemplars/NAME.ipynb
# The cells' execution timestamps are removed, so an unchanged notebook
# re-executes to the same bytes.
EXEMPLARS ?= $(wildcard exemplars/*.ipynb)
exemplar-outputs: venv exemplar-data
	@for nb in $(EXEMPLARS); do \
	  echo "executing $$nb"; \
	  $(GUARDED) $(VENV)/bin/jupyter execute --inplace --timeout=600 --kernel_name=python3 "$$nb" || exit 1; \
	  $(VENV)/bin/python -c 'import sys, nbformat; nb = nbformat.read(sys.argv[1], as_version=4); [c.metadata.pop("execution", None) for c in nb.cells]; nbformat.write(nb, sys.argv[1])' "$$nb" || exit 1; \
	done

book: venv exemplar-data
	$(if $(strip $(BOOK_PREBUILD)),$(GUARDED) $(BOOK_PREBUILD))
	$(GUARDED) $(VENV)/bin/jupyter-book build $(JB_FLAGS) .
	@echo "Book built: open _build/html/index.html"

test: venv exemplar-data
	$(GUARDED) $(PY) -m pytest $(PYTEST_ARGS)

# The browser test needs the built book, so it is not part of `make test`
# (there it is skipped with the reason). Here a missing book or a missing
# chromium is a failure, not a skip.
browser-test: venv exemplar-data
	@test -f _build/html/book/intro.html || { echo "no built book: run 'make book' first" >&2; exit 1; }
	$(GUARDED) LEOKIT_BOOK_HTML="$(CURDIR)/_build/html" LEOKIT_REQUIRE_BROWSER_TEST=1 \
	  LEOKIT_SCREENSHOTS="$(CURDIR)/_build/screenshots" \
	  $(PY) -m pytest -p no:cacheprovider tests/test_book_browser.py $(PYTEST_ARGS)

# Debian's chromium for the browser test (about 40 s; needs root, as on CI).
chromium:
	@if command -v chromium >/dev/null 2>&1; then echo "chromium is installed"; else \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi

# Resolve pyproject.toml's ranges (all extras) in a scratch venv and freeze
# the exact versions, including pip/setuptools/wheel, into $(LOCK).
lock:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --quiet --upgrade pip setuptools wheel; \
	"$$tmp/venv/bin/python" -m pip install --quiet -e '.[analysis,dev]'; \
	{ echo "# Exact versions of every package in the kit's environment."; \
	  echo "# Generated by 'make lock' from pyproject.toml (all extras) in a scratch venv,"; \
	  echo "# with $$("$$tmp/venv/bin/python" --version) on $$(uname -s) $$(uname -m). Do not edit by hand."; \
	  echo "# Installed by 'make venv' (then 'pip install --no-deps -e .' for leokit)."; \
	  "$$tmp/venv/bin/python" -m pip freeze --all --exclude-editable; } > $(LOCK).tmp; \
	mv $(LOCK).tmp $(LOCK); \
	echo "Wrote $(LOCK) ($$(grep -c '==' $(LOCK)) packages)"

clean:
	rm -rf _build

distclean: clean
	rm -rf $(VENV) $(VENV22)
