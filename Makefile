# Two commands do all the set-up on a fresh machine (see README.md):
#   make preview   set up .venv, find or install Quarto, run `quarto preview`
#   make test      set up .venv, Quarto and a browser; render the site once into
#                  pytest's temp folder and run the whole test suite on it
# Other targets: make bench, make lint, make render, make clean.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

# Where the data is, decided here only: $DLBASICS_DATA if set, else the offline MNIST
# copy beside the checkout (../shared/mnist) when present, else unset (torchvision then
# downloads MNIST into ~/.cache/dlbasics). Tests, renders and benchmarks inherit it.
SHARED_MNIST := $(abspath ../shared/mnist)
ifeq ($(origin DLBASICS_DATA), undefined)
ifneq ($(wildcard $(SHARED_MNIST)/MNIST/raw),)
export DLBASICS_DATA := $(SHARED_MNIST)
endif
endif

# Browser for tests/test_browser.py: Debian's chromium if installed, else Playwright's own.
ifeq ($(origin DLBASICS_CHROMIUM), undefined)
ifneq ($(wildcard /usr/bin/chromium),)
export DLBASICS_CHROMIUM := /usr/bin/chromium
endif
endif

# Quarto: the one on PATH; else the offline kit beside the checkout
# (../shared/quarto-offline, installed into QUARTO_CACHE); else PyPI's quarto-cli
# (in .venv/bin). Both fallbacks are on PATH after the user's own directories.
# The version CI pins is in one file, .quarto-version (workflows and tests read it too).
QUARTO_VERSION := $(shell cat .quarto-version)
QUARTO_KIT   := $(abspath ../shared/quarto-offline)
QUARTO_CACHE ?= $(HOME)/.cache/quarto-offline
export PATH := $(abspath $(BIN)):$(PATH):$(QUARTO_CACHE)/bin
export QUARTO_PYTHON := $(abspath $(BIN)/python)

.PHONY: test preview render bench lint clean browser quarto

test: $(VENV)/.installed-test browser quarto
	$(BIN)/python -m pytest

preview: $(VENV)/.installed-notebook quarto
	quarto preview

render: $(VENV)/.installed-notebook quarto
	quarto render

bench: $(VENV)/.installed-test quarto
	$(BIN)/python bench/run.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# One stamp per extra: re-installs when pyproject.toml or the lock changes. Every
# version comes from the lock, constraints.txt (README: "Locked dependencies").
$(VENV)/.installed-%: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[$*]"
	touch $@

# A browser for the browser tests: keep DLBASICS_CHROMIUM if set, else Debian's
# chromium (installed with apt-get when we are root), else Playwright's bundled one.
browser:
	@if [ -n "$$DLBASICS_CHROMIUM" ] && [ -x "$$DLBASICS_CHROMIUM" ]; then exit 0; fi; \
	if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -q && apt-get install -y -q chromium) >/dev/null && exit 0; fi; \
	echo "No /usr/bin/chromium: installing Playwright's browser instead"; \
	$(BIN)/python -m playwright install chromium || { \
	  echo "ERROR: no browser for the browser tests. Install Debian's 'chromium' package" \
	       "or run '$(BIN)/python -m playwright install chromium', then re-run make test."; exit 1; }

quarto:
	@if command -v quarto >/dev/null; then \
	  [ "$$(quarto --version)" = "$(QUARTO_VERSION)" ] || echo "WARNING: quarto" \
	    "$$(quarto --version) is on PATH; CI and the tests use $(QUARTO_VERSION) (.quarto-version)"; \
	  exit 0; fi; \
	if [ -f "$(QUARTO_KIT)/quarto-$(QUARTO_VERSION)-sources.tar.xz" ]; then \
	  echo "Quarto not on PATH: installing the offline kit into $(QUARTO_CACHE) ..."; \
	  bash "$(QUARTO_KIT)/install.sh" "$(QUARTO_CACHE)" && command -v quarto >/dev/null && exit 0; \
	  echo "ERROR: $(QUARTO_KIT)/install.sh failed (it needs npm, xz and python3;"; \
	  echo "Debian: apt-get install -y npm xz-utils)."; exit 1; \
	fi; \
	echo "Quarto not found: trying 'pip install quarto-cli==$(QUARTO_VERSION)' ..."; \
	$(BIN)/python -m pip install --quiet quarto-cli==$(QUARTO_VERSION) && command -v quarto >/dev/null && exit 0; \
	echo ""; \
	echo "ERROR: Quarto is not installed and could not be installed from PyPI (quarto-cli"; \
	echo "downloads the Quarto binary at install time and needs internet)."; \
	echo "Install Quarto $(QUARTO_VERSION) from https://quarto.org/docs/get-started/ (or your package"; \
	echo "manager), make sure 'quarto' is on PATH, then run make again."; \
	exit 1

clean:
	rm -rf build _site .quarto .pytest_cache
