# Two commands do all the set-up on a fresh machine (see README.md):
#   make preview   set up .venv, find or install Quarto, run `quarto preview`
#   make test      set up .venv (+ a browser for the browser tests), run the whole test suite
# Other targets: make bench, make lint, make render, make clean.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

# The offline MNIST copy beside a checkout (../shared/mnist) is used when present;
# otherwise torchvision downloads MNIST into $DLBASICS_DATA (default ~/.cache/dlbasics).
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

.PHONY: test preview render bench lint clean browser quarto

test: $(VENV)/.installed-test browser
	$(BIN)/python -m pytest

preview: $(VENV)/.installed-notebook quarto
	QUARTO_PYTHON=$(abspath $(BIN)/python) PATH="$(abspath $(BIN)):$$PATH" quarto preview

render: $(VENV)/.installed-notebook quarto
	QUARTO_PYTHON=$(abspath $(BIN)/python) PATH="$(abspath $(BIN)):$$PATH" quarto render

bench: $(VENV)/.installed-test
	$(BIN)/python bench/run.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# One stamp per extra: re-installs when pyproject.toml changes.
$(VENV)/.installed-%: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$*]"
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

# Quarto: use the one on PATH; else try PyPI's quarto-cli (it downloads Quarto's binary,
# so it needs internet); else stop and say how to install it.
quarto:
	@command -v quarto >/dev/null && exit 0; \
	test -x $(BIN)/quarto && exit 0; \
	echo "Quarto not found: trying 'pip install quarto-cli' ..."; \
	$(BIN)/python -m pip install --quiet quarto-cli && test -x $(BIN)/quarto && exit 0; \
	echo ""; \
	echo "ERROR: Quarto is not installed and could not be installed from PyPI (quarto-cli"; \
	echo "downloads the Quarto binary at install time and needs internet)."; \
	echo "Install Quarto >= 1.6 from https://quarto.org/docs/get-started/ (or your package"; \
	echo "manager), make sure 'quarto' is on PATH, then run 'make preview' again."; \
	exit 1

clean:
	rm -rf build _site .quarto .pytest_cache
