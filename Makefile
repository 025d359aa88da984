# carnk-ld tasks. `make build` and `make test` work on a fresh machine with only Python 3.11:
# they create .venv and install the project and its test dependencies into it.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help build check test test-fast fuzz lint clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH (or run make PYTHON=python3)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

build: $(STAMP)  ## build the release into build/
	$(BIN)/carnk-ld build

check: $(STAMP)  ## run every gate without writing a release
	$(BIN)/carnk-ld check

test: $(STAMP)  ## lint and run the whole test suite
	$(BIN)/ruff check carnk_ld tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest

test-fast: $(STAMP)  ## lint and run the tests not marked slow, on up to 4 cores (about two minutes on 2)
	$(BIN)/ruff check carnk_ld tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -m "not slow" -n auto --maxprocesses 4

FUZZ_EXAMPLES ?= 2000
fuzz: $(STAMP)  ## nightly, not in test: FUZZ_EXAMPLES files into each of 6 input readers (under a minute; stopped at 1 h)
	CARNK_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) timeout 3600 $(BIN)/python -m pytest tests/test_fuzz.py -k readers \
		-p no:cacheprovider --hypothesis-show-statistics --hypothesis-seed=$$(date +%s)

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/ruff check carnk_ld tests benchmarks
	$(BIN)/mypy

clean:  ## remove the virtual environment and caches (not the committed release)
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
