# Two commands for a fresh machine:  make course  (open the course)   make test  (run every test)
SHELL := /bin/bash
PY ?= $(shell command -v /usr/bin/python3 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: course test test-fast bench check lint clean

# The venv is built from the system Python so that every user on a shared server can read it.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

course: $(STAMP)
	$(BIN)/course lab $(if $(NO_BROWSER),--no-browser)

check: $(STAMP)
	$(BIN)/course check

lint: $(STAMP)
	$(BIN)/ruff check course tests bench

test: $(STAMP)
	$(BIN)/ruff check course tests bench
	$(BIN)/course check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not browser and not hub" $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/course bench

clean:
	rm -rf workspace artifacts grading/release grading/submitted grading/autograded grading/feedback grading/source
