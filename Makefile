# Syrlas: `make run` and `make test` are the two commands; both build what they need first.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
.DEFAULT_GOAL := run

PYTHON ?= python3
# Rasa 3.6 needs Python 3.10; override with `make PYTHON_NLU=/path/to/python3.10`.
PYTHON_NLU ?= $(shell pyenv prefix 3.10.13 2>/dev/null || echo /usr/bin)/bin/python3.10
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Slow things (the Rasa environment, trained models) are cached outside the checkout,
# so a fresh clone on the same machine reuses them.
SYRLAS_CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/syrlas
export SYRLAS_CACHE_DIR

VENV := .venv
NLU_VENV := .venv-nlu
BIN := $(VENV)/bin
NLU_KEY = $(shell cat nlu-requirements.lock | sha256sum | cut -c1-16)-$(shell $(PYTHON_NLU) -c 'import platform; print(platform.python_version())' 2>/dev/null)
NLU_CACHED = $(SYRLAS_CACHE_DIR)/nlu-venv/$(NLU_KEY)
PO_FILES := $(wildcard locales/*/LC_MESSAGES/syrlas.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: setup run test lint bench nlu-env catalogs db model extract-messages lock clean

setup: $(BIN)/.installed nlu-env catalogs db model

$(BIN)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]' > $(VENV)/pip.log 2>&1 \
		|| { grep -v 'is ignored: it is neither' $(VENV)/pip.log; exit 1; }
	touch $@

# The Rasa environment is large (2.7 GB) and slow to install: build it once per lock file
# and Python version in the cache, and link it into the checkout.
nlu-env:
	@test -x "$(PYTHON_NLU)" || { echo "Python 3.10 not found at $(PYTHON_NLU): pass PYTHON_NLU=..." >&2; exit 1; }
	@if [ ! -f "$(NLU_CACHED)/.complete" ]; then \
		echo "building the Rasa NLU environment in $(NLU_CACHED) (a few minutes, once)"; \
		rm -rf "$(NLU_CACHED)" && mkdir -p "$(dir $(NLU_CACHED))" && \
		"$(PYTHON_NLU)" -m venv "$(NLU_CACHED)" && \
		"$(NLU_CACHED)/bin/pip" install --quiet -r nlu-requirements.lock > "$(NLU_CACHED)/pip.log" 2>&1 \
			|| { grep -v 'is ignored: it is neither' "$(NLU_CACHED)/pip.log"; exit 1; }; \
		touch "$(NLU_CACHED)/.complete"; \
	fi
	@ln -sfn "$(NLU_CACHED)" $(NLU_VENV)

catalogs: $(MO_FILES)

locales/%/LC_MESSAGES/syrlas.mo: locales/%/LC_MESSAGES/syrlas.po $(BIN)/.installed
	$(BIN)/pybabel compile --statistics -D syrlas -i $< -o $@

db: $(BIN)/.installed
	$(BIN)/syrlas db upgrade

model: $(BIN)/.installed nlu-env
	$(BIN)/syrlas train

run: setup
	@if [ -n "$$SYRLAS_TELEGRAM_TOKEN" ] || grep -qs '^SYRLAS_TELEGRAM_TOKEN=.\+' .env; then \
		exec $(BIN)/syrlas run; \
	else \
		exec $(BIN)/syrlas chat; \
	fi

# pytest exits 5 when it collected no test: that is a failure of the suite, not a pass.
test: setup
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check --quiet bot tests bench
	$(BIN)/syrlas kb check
	@$(BIN)/pytest $(PYTEST_ARGS); code=$$?; \
	if [ $$code -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$code

lint: $(BIN)/.installed
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench

bench: setup
	$(BIN)/python bench/nlu_bench.py
	PYTHONPATH=. $(BIN)/python bench/telegram_bench.py

extract-messages: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k gettext -k ngettext:1,2 --no-location --sort-output \
		--project Syrlas -o locales/syrlas.pot bot
	$(BIN)/pybabel update -D syrlas -i locales/syrlas.pot -d locales --no-fuzzy-matching

lock:
	rm -rf /tmp/syrlas-lock && $(PYTHON) -m venv /tmp/syrlas-lock && \
	/tmp/syrlas-lock/bin/pip install --quiet -e '.[dev]' && \
	{ echo "# The bot's environment, fully pinned; used as constraints by make setup. Regenerate: make lock"; \
	  /tmp/syrlas-lock/bin/pip freeze --exclude-editable; } > requirements.lock

clean:
	rm -rf $(VENV) $(NLU_VENV) locales/*/LC_MESSAGES/*.mo
