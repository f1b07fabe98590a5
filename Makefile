# The project's commands. Each one sets itself up: a fresh machine needs Python 3.11, pip and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_SCALE ?= demo
# Your own DAGSTER_HOME (e.g. deploy/postgres) and storage folder win over these defaults.
export DAGSTER_HOME ?= $(CURDIR)
export BLUEPRINT_DAGSTER_STORAGE ?= $(CURDIR)/data/dagster

.PHONY: install demo demo-postgres test test-fast lint ui bench clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: python3.11 not found (set PYTHON=...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

## demo: generate a small sample ending today, build every asset on DuckDB, print a summary, and
## record the demo's settings for `make ui` (DEMO_SETTINGS)
DEMO_LANDING := $(CURDIR)/data/landing
DEMO_WAREHOUSE := duckdb:///$(CURDIR)/data/warehouse.duckdb
DEMO_CONFIG := $(CURDIR)/examples/config
DEMO_SETTINGS ?= data/demo.env
demo: $(STAMP)
	$(BIN)/blueprint generate --scale $(DEMO_SCALE) --seed 7 --out $(DEMO_LANDING) --force
	@$(MAKE) --no-print-directory demo-settings
	$(BIN)/blueprint run --landing $(DEMO_LANDING) --warehouse $(DEMO_WAREHOUSE) --config $(DEMO_CONFIG)

## demo-settings: the demo's landing, warehouse and config, and its sensors and schedules on, as
## shell lines `make ui` reads; a variable already set in your environment wins over each line.
.PHONY: demo-settings
demo-settings:
	@mkdir -p $(dir $(DEMO_SETTINGS))
	@printf '%s\n' \
	  '# Written by `make demo`, read by `make ui`; a variable set in the environment wins.' \
	  "export BLUEPRINT_LANDING_DIR=\"\$${BLUEPRINT_LANDING_DIR-$(DEMO_LANDING)}\"" \
	  "export BLUEPRINT_WAREHOUSE_URL=\"\$${BLUEPRINT_WAREHOUSE_URL-$(DEMO_WAREHOUSE)}\"" \
	  "export BLUEPRINT_CONFIG_DIR=\"\$${BLUEPRINT_CONFIG_DIR-$(DEMO_CONFIG)}\"" \
	  "export BLUEPRINT_AUTOMATION=\"\$${BLUEPRINT_AUTOMATION-on}\"" > $(DEMO_SETTINGS)

## demo-postgres: the same build in production mode (docs/production.md): warehouse and Dagster
## storage in PostgreSQL, a process per step (multiprocess executor). Databases are created if missing.
PG_HOST ?= 127.0.0.1
PG_USER ?= postgres
PG_PASSWORD ?=
PG_SERVER := postgresql+psycopg2://$(PG_USER)$(if $(PG_PASSWORD),:$(PG_PASSWORD))@$(PG_HOST):5432
demo-postgres: $(STAMP)
	rm -f $(DEMO_SETTINGS)  # `make ui` takes this build's settings from the line its summary prints
	$(BIN)/python -m blueprint_pipeline.runtime.postgres_setup $(PG_SERVER) blueprint_warehouse blueprint_dagster
	$(BIN)/blueprint generate --scale $(DEMO_SCALE) --seed 7 --out data/landing --force
	DAGSTER_HOME=$(CURDIR)/deploy/postgres DAGSTER_PG_HOST=$(PG_HOST) DAGSTER_PG_USERNAME=$(PG_USER) \
	DAGSTER_PG_PASSWORD=$(PG_PASSWORD) DAGSTER_PG_DB=blueprint_dagster \
	$(BIN)/blueprint run --landing data/landing --warehouse $(PG_SERVER)/blueprint_warehouse \
	  --config examples/config --executor multiprocess

## test: the whole suite (PostgreSQL tests skip when no server answers, unless BLUEPRINT_REQUIRE_POSTGRES=1).
## Four workers on two cores: the long tests wait on subprocesses, sensors and Spark's scheduling
## much of the time (CI at af07471 with three: 52 min of CPU in 47 min of wall time, cores idle 44%).
## Files are handed out longest first, in conftest.py's LONG_FILES order (not xdist's by test count).
## Test folders go to tmpfs when there is one (one per checkout): the builds' SQLite event logs and
## DuckDB files sync to disk at every commit (a tiny build: 22 s on disk, 19 s on tmpfs).
## --durations=25: the slowest tests, at the end of the log (where CI time goes).
TEST_TMP ?= $(if $(wildcard /dev/shm/.),/dev/shm/blueprint-tests-$(shell echo '$(CURDIR)' | cksum | cut -d' ' -f1))
test: $(STAMP)
	$(BIN)/pytest -q -n 4 --dist loadfile --no-loadscope-reorder --durations=25 $(if $(TEST_TMP),--basetemp=$(TEST_TMP))

## test-fast: the inner loop: every test but the long files (conftest.LONG_FILES, marked slow), on
## DuckDB and PostgreSQL alike; a few minutes. `make test` (and CI) runs everything.
test-fast: $(STAMP)
	$(BIN)/pytest -q -n 3 --dist loadfile --no-loadscope-reorder -m "not slow" $(if $(TEST_TMP),--basetemp=$(TEST_TMP))

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## ui: the Dagster UI (and its daemon) on http://127.0.0.1:3000 over the same instance and warehouse;
## after `make demo`, with the demo's settings (DEMO_SETTINGS: its config, sensors and schedules on)
UI_PORT ?= 3000
ui: $(STAMP)
	$(if $(wildcard $(DEMO_SETTINGS)),. $(abspath $(DEMO_SETTINGS)) && )$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(UI_PORT)

## bench: generate a sample (SCALE=tiny|demo|small|medium|large|xlarge, COMPRESS=1 for .csv.gz files),
## build it, report time and memory (docs/benchmarks.md)
bench: $(STAMP)
	$(BIN)/blueprint bench --scale $(or $(SCALE),small) --fresh $(or $(FRESH),10000) $(if $(COMPRESS),--compress)

clean:
	rm -rf data .pytest_cache storage deploy/postgres/storage
