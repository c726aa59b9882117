# shopmetrics — one entry point for people and CI.  `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
EXTRAS := polars,duckdb,spark,plot,excel
CONSTRAINTS := requirements/constraints.txt
OUT    ?= demo-output

.PHONY: help install demo test lint types pytest numeric docs examples bench clean browser-deps java-deps coverage-sim screenshots

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml $(CONSTRAINTS)
	$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e ".[$(EXTRAS)]" --group dev
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install shopmetrics with its extras and dev tools

demo: $(STAMP) ## Build the demo store and write its weekly report
	$(BIN)/shopmetrics demo --out $(OUT)

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP) ## mypy --strict on src/
	$(BIN)/mypy

browser-deps: ## Headless Chromium for the report's browser test (Debian package; needs root)
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
		echo "installing chromium (apt-get) for the HTML report browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

screenshots: $(STAMP) browser-deps ## Render the en and zh demo reports to PNG in docs/img/ (headless Chromium)
	@fc-list | grep -qi "wqy\|noto sans cjk" || { \
		echo "installing fonts-wqy-microhei (apt-get) so that the zh report shows its characters"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null; }
	$(PY) tests/render_screenshots.py docs/img

java-deps: ## Java 17 for the PySpark tests (Debian package; needs root)
	@command -v java >/dev/null 2>&1 || { \
		echo "installing openjdk-17-jre-headless (apt-get) for the PySpark tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

pytest: $(STAMP) browser-deps java-deps ## Tests, doctests of src/ and of the Markdown guides, with coverage
	$(BIN)/coverage run -m pytest tests src/shopmetrics docs README.md -q
	$(BIN)/coverage report

# A second floating-point configuration: one BLAS thread and another OpenBLAS kernel
# (Prescott: SSE3, runs on every x86-64; ARMV8 on arm64). Printed numbers that hold only
# on one CPU fail here.
OTHER_BLAS := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_CORETYPE=$(if $(filter aarch64 arm64,$(shell uname -m)),ARMV8,Prescott)
NUMERIC_TESTS := tests/test_clv.py tests/test_dsr.py tests/test_attribution.py tests/test_anomaly.py tests/test_stat_tests.py tests/test_ab.py

numeric: $(STAMP) ## Numeric doctests and the model tests again under a second BLAS configuration
	$(OTHER_BLAS) $(BIN)/pytest docs README.md src/shopmetrics $(NUMERIC_TESTS) -q -p no:cacheprovider -m "not spark and not browser"

docs: $(STAMP) ## Build the docs site (strict: warnings fail)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

examples: $(STAMP) ## Run the example scripts on the demo store
	@set -e; tmp=$$(mktemp -d); for f in examples/*.py; do echo "== $$f"; $(PY) $$f "$$tmp" > /dev/null; done; rm -rf "$$tmp"

test: lint types pytest numeric docs examples ## Everything CI runs: lint, types, tests, doctests (also under a second BLAS), docs, examples

coverage-sim: $(STAMP) ## The large coverage simulation: a table of coverage per interval and false positives per test
	SHOPMETRICS_COVERAGE_SIM=1 $(BIN)/pytest tests/coverage -m slow_coverage -q -p no:cacheprovider

bench: $(STAMP) ## Benchmarks against hand-written DuckDB / polars / pandas (1M events; see benchmarks/README.md)
	$(PY) benchmarks/run.py $(BENCH_ARGS)

clean: ## Remove the virtualenv and build output
	rm -rf $(VENV) site $(OUT) .pytest_cache .mypy_cache .ruff_cache .coverage
