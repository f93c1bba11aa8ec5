# One command per job. Every target creates the virtual environment first if it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
STACK  ?= dev

.PHONY: venv test lint typecheck unit plan bench constraints clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

## The README's test command: lint, type check, then the unit tests.
test: lint typecheck unit

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest

## Offline plan of a stack: make plan [STACK=prod] [DIFF=dev] [JSON=plan.json]
plan: venv
	@$(BIN)/python -m offline.plan --stack $(STACK) $(if $(DIFF),--diff $(DIFF)) $(if $(JSON),--json $(JSON))

## How long `make plan` takes per stack (fresh interpreter per run), against its 3 s target.
bench: venv
	$(BIN)/python -m offline.bench

constraints: venv
	{ echo "# Exact versions of everything installed (direct and transitive), for reproducible environments."; \
	  echo "# Regenerate with: make constraints"; \
	  $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
