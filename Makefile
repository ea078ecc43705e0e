# Every command installs what it needs into .venv first, so a fresh clone needs only python3, pip and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint format hooks bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## run: the service on the offline demo config (Ctrl-C stops it)
run: install
	$(BIN)/watcher --config demo.yaml run

## test: the whole test suite
test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check watcher tests bench
	$(BIN)/ruff format --check watcher tests bench
	$(BIN)/mypy watcher

format: install
	$(BIN)/ruff format watcher tests bench
	$(BIN)/ruff check --fix watcher tests bench

## hooks: run ruff (check --fix, format) on the staged files before every commit
hooks: install
	$(BIN)/pre-commit install

## bench: every benchmark; prints the tables and writes bench/README.md
bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) build *.egg-info
