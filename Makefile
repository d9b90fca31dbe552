# The README's two commands: `make run` (the embedded default) and `make test` (everything CI runs).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: run test lint typecheck install system-deps schema schema-lint supergraph clean mutation

$(STAMP): pyproject.toml
	@scripts/system-deps.sh python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

run: $(STAMP)
	@scripts/system-deps.sh services
	$(BIN)/unityplan dev

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) lint typecheck
	@scripts/system-deps.sh services browser node
	@mkdir -p .run
	$(BIN)/unityplan services --state-dir .run > .run/services.env
	set -a && . ./.run/services.env && set +a && $(BIN)/pytest

$(BIN)/mutmut: $(STAMP)
	$(BIN)/pip install -q -e '.[dev,mutation]'

# Mutation testing of domain/ against the rule tests (by hand; minutes, not in CI). Prints the
# share of mutants killed per module; tests/mutation.md lists the survivors judged equivalent.
mutation: $(BIN)/mutmut
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	@$(BIN)/mutmut results --all true | awk '{ split($$1, name, "."); module = name[2]; \
	  total[module]++; if ($$NF == "killed" || $$NF == "timeout") killed[module]++ } \
	  END { for (m in total) printf "%-12s %4d/%-4d killed %5.1f%%\n", m, killed[m], total[m], \
	  100 * killed[m] / total[m] }' | sort

schema: $(STAMP)
	$(BIN)/unityplan schema > schema.graphql
	$(BIN)/unityplan schema --federation > schema.federation.graphql

# docker/supergraph.graphql (what compose's gateway serves), composed again from
# schema.federation.graphql with @apollo/composition (tests/schema/test_gateway.py checks it).
supergraph:
	@scripts/system-deps.sh node
	@test -d tests/schema/gateway/node_modules/@apollo/composition || (cd tests/schema/gateway && npm ci --no-audit --no-fund --silent)
	cd tests/schema/gateway && node compose.mjs --sdl ../../../schema.federation.graphql http://api:8000/graphql > ../../../docker/supergraph.graphql

# The schema lint alone (make test runs it as tests/schema/test_schema_lint.py): every gap with its line.
schema-lint:
	@scripts/system-deps.sh node
	@test -d tests/schema/schema-lint/node_modules/@graphql-eslint || (cd tests/schema/schema-lint && npm ci --no-audit --no-fund --silent)
	cd tests/schema/schema-lint && node lint.mjs ../../../schema.graphql

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache mutants
