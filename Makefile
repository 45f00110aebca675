# dxpulse developer entry points. `make up` runs the pipeline locally, `make test` runs the suite.
# Both create .venv and install the pinned dependencies (constraints.txt) on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install up test bench lint format lock clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install dxpulse with its test extras (pinned)

up: $(STAMP) ## Run the main job on the embedded default (local Kafka + chDB), live view; Ctrl-C stops
	$(BIN)/dxpulse up $(UP_ARGS)

test: $(STAMP) lint ## Lint, type-check and run every test (starts a real Kafka broker)
	$(BIN)/python -m pytest

bench: $(STAMP) ## Run every benchmark (about 25 min) and append the figures to bench/RESULTS.md
	$(BIN)/python -m bench --record $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock: ## Re-resolve the newest allowed versions into constraints.txt (then run make test)
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet -e '.[test]'
	{ echo '# Exact versions dxpulse is tested with (pip constraints; see README "Upgrading dependencies").'; \
	  echo '# Regenerate with: make lock'; \
	  .venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^dxpulse'; } > constraints.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
