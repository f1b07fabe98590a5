# The project's commands. Each one sets itself up: a fresh machine needs Python 3.11, pip and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_SCALE ?= demo
# Your own DAGSTER_HOME (e.g. deploy/postgres) and storage folder win over these defaults.
export DAGSTER_HOME ?= $(CURDIR)
export BLUEPRINT_DAGSTER_STORAGE ?= $(CURDIR)/data/dagster

.PHONY: install demo test lint ui bench clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: python3.11 not found (set PYTHON=...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

## demo: generate a small sample, build every asset on DuckDB, print a summary
demo: $(STAMP)
	$(BIN)/blueprint generate --scale $(DEMO_SCALE) --seed 7 --out data/landing --force
	$(BIN)/blueprint run --landing data/landing --warehouse duckdb:///$(CURDIR)/data/warehouse.duckdb --config examples/config

## test: the whole suite (PostgreSQL tests skip when no server answers, unless BLUEPRINT_REQUIRE_POSTGRES=1).
## Three workers on two cores: the long tests wait on subprocesses and sensors half the time.
## Test folders go to tmpfs when there is one (one per checkout): the builds' SQLite event logs and
## DuckDB files sync to disk at every commit (a tiny build: 22 s on disk, 19 s on tmpfs).
TEST_TMP ?= $(if $(wildcard /dev/shm/.),/dev/shm/blueprint-tests-$(shell echo '$(CURDIR)' | cksum | cut -d' ' -f1))
test: $(STAMP)
	$(BIN)/pytest -q -n 3 --dist loadfile $(if $(TEST_TMP),--basetemp=$(TEST_TMP))

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## ui: the Dagster UI on http://127.0.0.1:3000 over the same instance and warehouse
ui: $(STAMP)
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

bench: $(STAMP)
	$(BIN)/blueprint bench --scale $(or $(SCALE),small) --fresh $(or $(FRESH),10000)

clean:
	rm -rf data .pytest_cache storage deploy/postgres/storage
