# Two commands do all set-up: `make run` and `make test`. Both bootstrap .venv from a bare Python 3.11+.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench scheduler clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# `make run PORT=8010`: the server listens there, and in development the links in its texts say so too
run: $(STAMP)
	$(BIN)/dolbom serve --port $(PORT)

# one pytest worker per core (pytest-xdist): every test has its own database, ports and files already
test: $(STAMP)
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/dolbom bench --json var/bench.json --png var/bench.png

scheduler: $(STAMP)
	$(BIN)/dolbom scheduler

clean:
	rm -rf $(VENV) var .pytest_cache
