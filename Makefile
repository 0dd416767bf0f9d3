# Prasmes: `make run` starts the platform on this machine, `make test` runs the whole suite.
# Both install what they need: a virtualenv from the pinned lock, the Kafka jars, PostgreSQL.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUS ?= embedded
PYTEST_ARGS ?=
SCALE ?= 1
SCENARIO_ARGS ?=
INSTALLED := $(VENV)/.installed

.PHONY: help install deps-system kafka-lib run scenario test test-fast lint format contracts lock messages bench statistics-rebuild clean

help:
	@echo "make run [BUS=kafka]   start the gateway and every service (embedded defaults, or Kafka + PostgreSQL)"
	@echo "make scenario [SCALE=1] drive the seed's population through the gateway on its own stack (var/scenario-SCALE),"
	@echo "                       then check the statistics dashboard against the seed's figures (about 30 min at 1)"
	@echo "make test              install, start Kafka and PostgreSQL where the environment names none, run all tests"
	@echo "make lint              ruff and mypy"
	@echo "make contracts         regenerate the JSON Schemas and the AsyncAPI document"
	@echo "make lock              re-pin requirements.lock from requirements.in"
	@echo "make bench             run every benchmark (about 35 minutes), write bench/out/*.json"
	@echo "make capacity          the capacity model: nodes per service for a national round, simulated (about 3 min)"
	@echo "make statistics-rebuild  rebuild the running platform's statistics from the first offsets of the topics"

# A stdlib venv bootstraps uv; uv installs the pinned lock (exact versions and hashes). The workspace's own
# packages (libs/* and every service of the registry, libs/runtime/src/prasmes_runtime/services.toml) are in it.
# Everything is compiled to bytecode once here: where PYTHONDONTWRITEBYTECODE is set (as on this project's machines)
# every process would otherwise compile what it imports from source at each start, 4.9 s of CPU for a service
# process against 1.4 s compiled, and a stack starts fourteen of them.
$(BIN)/uv:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip
	$(BIN)/python -m pip install -q --disable-pip-version-check uv

$(INSTALLED): $(BIN)/uv requirements.lock $(wildcard libs/*/pyproject.toml services/*/pyproject.toml) libs/runtime/src/prasmes_runtime/services.toml
	$(PYTHON) tools/workspace.py check-lock
	$(BIN)/uv pip install -q -p $(BIN)/python --compile-bytecode -r requirements.lock
	$(BIN)/python -m compileall -q -j 0 libs services tools >/dev/null
	touch $@

# The web pages' styles and scripts, built from GOV.UK Frontend (npm, pinned by services/web/package-lock.json) into
# services/web/src/web/static/build/ (git-ignored): nothing built is committed.
WEB_ASSETS := services/web/src/web/static/build/app.css
$(WEB_ASSETS): services/web/package-lock.json services/web/build.mjs services/web/src/web/styles/app.scss
	npm ci --prefix services/web --no-audit --no-fund --loglevel=error
	npm run --prefix services/web --silent build

# axe-core for the browser tests' accessibility checks (npm, pinned by libs/testing/package-lock.json).
AXE := libs/testing/node_modules/axe-core/axe.min.js
$(AXE): libs/testing/package.json libs/testing/package-lock.json
	npm ci --prefix libs/testing --no-audit --no-fund --loglevel=error
	touch $@  # npm dates what it installs to 1985: without this every make would install again

install: $(INSTALLED) $(WEB_ASSETS)

# PostgreSQL server binaries and Chromium for the browser tests (Debian packages), the Java runtime Kafka needs.
deps-system:
	bash deploy/postgres/ensure-installed.sh
	bash deploy/chromium/ensure-installed.sh
	@command -v java >/dev/null || (echo "Java 17+ is needed for the Kafka broker" && exit 1)
	@command -v mvn >/dev/null || (echo "Maven is needed to fetch the Kafka jars" && exit 1)

kafka-lib: $(INSTALLED)
	$(BIN)/python -c "from prasmes_testing.servers import ensure_kafka_jars; ensure_kafka_jars()"

run: install
	@if [ "$(BUS)" = "kafka" ]; then $(MAKE) --no-print-directory deps-system kafka-lib; fi
	$(BIN)/python -m prasmes_devtools.devstack --bus $(BUS)

# The seed scenario on a stack of its own (var/scenario-$(SCALE)); run again after an interruption to go on.
scenario: install
	$(BIN)/python -m prasmes_devtools.scenario --scale $(SCALE) $(SCENARIO_ARGS)

# The deployment checks' tools (tests/deploy), each pinned, in .tools/ (git-ignored): kustomize built from its Go
# module (about a minute on a clean machine), checkov in a venv of its own from deploy/k8s/checks.lock (its
# dependencies conflict with requirements.lock's; re-pin with `make checks-lock`).
GO ?= $(shell command -v go || echo /usr/local/go/bin/go)
KUSTOMIZE_VERSION := v5.8.2
KUSTOMIZE := .tools/bin/kustomize
CHECKOV := .tools/checkov/bin/checkov
$(KUSTOMIZE):  # tests/deploy fails when its version is not KUSTOMIZE_VERSION (then delete it and make again)
	GOBIN=$(CURDIR)/.tools/bin GOFLAGS=-buildvcs=false $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	touch $@

$(CHECKOV): deploy/k8s/checks.lock $(BIN)/uv
	test -x .tools/checkov/bin/python || $(PYTHON) -m venv --without-pip .tools/checkov
	$(BIN)/uv pip install -q -p .tools/checkov/bin/python -r deploy/k8s/checks.lock
	touch $@

.PHONY: deploy-tools checks-lock
deploy-tools: $(KUSTOMIZE) $(CHECKOV)

checks-lock: $(BIN)/uv
	$(BIN)/uv pip compile deploy/k8s/checks.in -o deploy/k8s/checks.lock --generate-hashes -p 3.11 -q

test: install deps-system kafka-lib $(AXE) $(KUSTOMIZE) $(CHECKOV)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	MYPYPATH=$$($(PYTHON) tools/workspace.py mypy-path) $(BIN)/mypy libs/*/src services/*/src
	$(BIN)/python tools/import_rules.py

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The web pages' messages: extracted from the templates and the marked strings, merged into each language's catalogue
# (then translate what is new in services/web/src/web/locale/lv/LC_MESSAGES/messages.po).
messages: $(INSTALLED)
	cd services/web && ../../$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --omit-header \
		-o src/web/locale/messages.pot . && ../../$(BIN)/pybabel update -i src/web/locale/messages.pot \
		-d src/web/locale --width 120 --ignore-obsolete --ignore-pot-creation-date --no-fuzzy-matching

contracts: $(INSTALLED)
	$(BIN)/prasmes-contracts generate

# requirements.in names the tools; the workspace's own packages come from libs/ and the service registry.
lock: $(BIN)/uv
	{ cat requirements.in; $(PYTHON) tools/workspace.py requirements; } | $(BIN)/uv pip compile - -o requirements.lock --generate-hashes -p 3.11 -q

bench: install deps-system kafka-lib deps-bench
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.hotpath
	$(BIN)/python -m bench.hotpath --bus kafka
	$(BIN)/python -m bench.surge
	$(BIN)/python -m bench.allocation
	$(BIN)/python -m bench.catalog_search --postgres
	$(BIN)/python -m bench.web_pages
	$(BIN)/python -m bench.web_staff_pages
	$(BIN)/python -m bench.deadline
	$(BIN)/python -m bench.deadline --postgres
	$(BIN)/python -m bench.survey_results
	$(BIN)/python -m bench.notifications_fanout
	$(BIN)/python -m bench.statistics_bench
	$(BIN)/python -m bench.replicas

.PHONY: bench-quick deps-bench capacity

# The capacity model (bench/capacity.py): nodes per service for a national budget round, and its simulation.
capacity: $(INSTALLED)
	$(BIN)/python -m bench.capacity

# The hot path's regression guard: embedded stack, wrk 5 s per figure, CPU per request (about a minute).
bench-quick: install deps-bench
	$(BIN)/python -m bench.quick

# wrk (Debian) drives the closed-loop benchmarks; py-spy profiles them; perf (optional) traces SQLite's busy waits.
deps-bench: $(INSTALLED)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	@test -x $(BIN)/py-spy  # pinned in requirements.lock
	@command -v perf >/dev/null || echo "perf not found: bench.hotpath skips the busy-wait trace (Debian: linux-perf)"

# The running platform's statistics read again from the first offsets (its settings from the environment, as the
# running service has them: DATABASE_URL, BUS, KAFKA_BOOTSTRAP_SERVERS; the embedded defaults otherwise).
statistics-rebuild: $(INSTALLED)
	$(BIN)/python -m prasmes_statistics.rebuild

clean:
	rm -rf $(VENV) var bench/out .pytest_cache .mypy_cache .ruff_cache services/web/node_modules \
		services/web/src/web/static/build libs/testing/node_modules .tools
