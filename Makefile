# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CODE := $(wildcard kiosk_server display_client ticket_printer hardware_sim tests benchmarks)

.PHONY: demo test lint typecheck pytest bench screenshots constraints clean

# constraints.txt pins every package to the versions the suite last passed with,
# so a release upstream cannot break a fresh clone; refresh it on purpose
# (`make constraints`) after a green run on newer versions.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hallq demo --data-dir data/demo

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Refresh the README's screenshots from the browser tests (tests only write test-artifacts/).
screenshots: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider -m browser
	for f in docs/screenshots/*.png; do \
	  n=$$(basename $$f); [ -f test-artifacts/screenshots/$$n ] && cp test-artifacts/screenshots/$$n $$f || true; \
	done

constraints:
	$(BIN)/pip install -q --upgrade -e '.[test]'
	$(BIN)/pip freeze --exclude-editable > constraints.txt

clean:
	rm -rf $(VENV) data test-artifacts
