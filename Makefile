# citydata — every target sets up what it needs; a second run reuses what exists.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOT ?= python3
VENV        := .venv
PY          := $(abspath $(VENV)/bin/python)
STAMP       := $(VENV)/.installed
# Spark's Python workers and `airflow standalone` child processes must find this environment.
export PATH            := $(abspath $(VENV)/bin):$(PATH)
export PYSPARK_PYTHON  := $(PY)
export PYSPARK_DRIVER_PYTHON := $(PY)
export AIRFLOW_HOME    ?= $(abspath .airflow)
export CITYDATA_HOME   ?= $(abspath .)

.PHONY: help demo demo-airflow run-day airflow portal browser postgres test test-fast lint setup java venv bench-lakehouse bench-simulate bench-ingest bench-legal-entity bench-platform bench-small-day bench-release bench-scale clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

demo: setup ## set everything up, simulate a 2,000-resident city and run days 1 and 2 end to end (run-day)
	$(PY) -m citydata.cli demo $(DEMO_ARGS)

demo-airflow: setup ## the same days as the Airflow 3 DAG run_day (airflow dags test run_day)
	$(PY) -m citydata.cli demo --airflow $(DEMO_ARGS)

run-day: setup ## one day end to end: make run-day DAY=data/simulated/day-001 (ingest -> dbt -> gate -> release -> export)
	@test -n "$(DAY)" || { echo "usage: make run-day DAY=<day folder, e.g. data/simulated/day-001>"; exit 2; }
	$(PY) -m citydata.cli run-day --day-folder $(DAY)

portal: setup ## build the open-data portal of the current release and serve it on 127.0.0.1:8090 (Ctrl-C stops)
	$(PY) -m citydata.cli portal build $(PORTAL_ARGS)
	$(PY) -m citydata.cli portal serve $(PORTAL_ARGS)

airflow: setup ## start Airflow 3 (standalone, SQLite) with the project's DAGs; prints URL and login; Ctrl-C stops
	$(PY) -m citydata.cli airflow

.PHONY: cluster cluster-stop
cluster: setup ## start a Spark standalone master + 2 workers on 127.0.0.1 (.cluster/); prints the master URL and web UI
	$(PY) -m citydata.cli cluster start

cluster-stop: ## stop the Spark standalone cluster started by make cluster (no JVM left)
	$(PY) -m citydata.cli cluster stop

.PHONY: sql sql-readonly
sql: sql-readonly ## Spark SQL over JDBC on the lakehouse views (127.0.0.1:10000, read-only); Ctrl-C stops
	$(PY) -m citydata.cli sql serve $(SQL_ARGS)

sql-readonly: setup ## compile the SQL endpoint's read-only Spark extension (once per source version, into .venv/var)
	@$(PY) -c "from citydata.sql import extension_classpath; print('read-only SQL extension:', extension_classpath())"

test: setup lint browser postgres ## set everything up, lint, and run every test (unit, integration, e2e)
	$(PY) -m pytest -q --durations=30 tests

lint: setup ## ruff over the whole tree (configuration in pyproject.toml)
	$(PY) -m ruff check .

test-fast: setup ## unit tests only (no Spark): seconds
	$(PY) -m pytest -q -m "unit" tests

setup: java venv ## Java 17 + virtual environment with the locked packages

# Debian's Chromium + its WebDriver drive the portal's browser test; the CJK fonts render its Chinese text.
BROWSER_PACKAGES := chromium chromium-driver fonts-noto-cjk

browser: ## install headless Chromium, chromedriver and CJK fonts with apt if missing (the portal's browser test)
	@missing=$$(for p in $(BROWSER_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing with apt: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@/usr/bin/chromium --version 2>/dev/null && /usr/bin/chromedriver --version | head -1  # (the Debian wrapper warns on stderr)

# Debian's PostgreSQL server (initdb, pg_ctl, postgres in /usr/lib/postgresql/<version>/bin) for Airflow on
# PostgreSQL: citydata.airflow_postgres runs it on a free port under the project's home, never as a system service.
PG_SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

postgres: ## install PostgreSQL's server programs with apt if initdb/pg_ctl are missing (Airflow on PostgreSQL, its test)
	@if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
	  echo "initdb/pg_ctl not found in /usr/lib/postgresql/*/bin: installing postgresql with apt"; \
	  $(PG_SUDO) apt-get update -qq && $(PG_SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; \
	fi
	@"$$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/pg_ctl" --version

java: ## install Java 17 with apt if no java is on PATH
	@if ! command -v java >/dev/null 2>&1; then \
	  echo "java not found: installing openjdk-17-jre-headless with apt"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; \
	fi
	@java -version 2>&1 | head -1

venv: $(STAMP) ## create .venv from requirements.lock (only when the lock or pyproject changed)

$(STAMP): requirements.lock pyproject.toml
	@# a venv cut off while being created has a python but no pip: make it again
	@$(PY) -m pip --version >/dev/null 2>&1 || $(PYTHON_BOOT) -m venv --clear $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m pip check
	@touch $@

bench-lakehouse: setup ## Delta layer vs plain Parquet: write, read, pruned read (rows/s, ratios)
	$(PY) benchmarks/bench_lakehouse.py

bench-simulate: setup ## generate a 1,000,000-resident city: time and size
	$(PY) benchmarks/bench_simulate.py

bench-ingest: setup ## ingest a 1,000,000-resident city, day 1 then day 2: rows/s per stage, day-2/day-1 ratio
	$(PY) benchmarks/bench_ingest.py $(BENCH_ARGS)

bench-legal-entity: setup ## the legal-entity sources land and reach silver (days 1, 2, rerun): XLSX readers compared, the silver step's phases and Spark jobs
	$(PY) benchmarks/bench_legal_entity.py $(BENCH_ARGS)

bench-platform: setup ## run-day on a 1,000,000-resident city, day 1 then day 2: every stage's s and rows/s, day-2/day-1
	$(PY) benchmarks/bench_platform.py $(BENCH_ARGS)

bench-small-day: setup ## citydata run-day on a 2,000-resident city, days 1 and 2, each a process timed start to exit (target < 60 s)
	$(PY) benchmarks/bench_small_day.py $(BENCH_ARGS)

bench-release: setup ## gate, release, export and portal times on a 1,000,000-resident city (day 1 built first)
	$(PY) benchmarks/bench_release.py $(BENCH_ARGS)

bench-scale: setup ## run-day at 100,000, 500,000 and 1,000,000 residents: fit time and memory, extrapolate to 20 M into docs/scale.md
	$(PY) benchmarks/bench_scale.py $(BENCH_ARGS)

clean: ## remove generated data (keeps .venv)
	rm -rf lakehouse data exports .airflow/*.db spark-warehouse metastore_db
