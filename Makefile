# Two commands for a fresh machine with Python 3.11, pip and make:
#   make demo   sets up .venv and runs `thbmonitor demo` on the synthetic world (out/demo/)
#   make test   sets up .venv (and headless Chromium for the browser tests, and PostgreSQL for the
#               registry's) and runs every check
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out/demo

.PHONY: setup demo test lint browser postgres bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/thbmonitor demo --out $(OUT)

# Debian's chromium (and its driver, for the registry's Selenium test), for the tests that
# open pages in a headless browser.
# Without root the browser tests skip (outside CI) and say why; in CI they fail.
browser:
	@{ command -v chromium && command -v chromedriver; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else \
	    echo "chromium or chromium-driver is not installed and this user cannot apt-get it"; fi; }

# Debian's PostgreSQL for the registry's tests (nothing is done when one runs at 127.0.0.1:5432)
postgres:
	@tools/postgres-for-tests.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: $(STAMP) browser postgres lint
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) out build *.egg-info
