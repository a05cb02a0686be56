# Atelier: `make run` serves the app on http://127.0.0.1:8501, `make test` runs the whole suite (CI calls it).
PY ?= python3
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
PORT ?= 8501

.PHONY: run test lint venv demo demo-large chromium benchmarks screenshots

run: $(STAMP)
	$(PYTHON) -m core demo --if-missing --train-models
	$(PYTHON) -m streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT)

# Lint first (seconds): a broken layer or an unused import fails before the 8-minute suite starts.
test: lint chromium
	@$(PYTHON) -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests (exit 5): that is a failure"; fi; exit $$status

# ruff (ruff.toml) and the import-layer contracts (.importlinter): pages -> ui -> services -> jobs -> models ...
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

venv: $(STAMP)

# The venv is rebuilt only when requirements.txt changes.
$(STAMP): requirements.txt
	@test -x $(PYTHON) || $(PY) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

demo: $(STAMP)
	$(PYTHON) -m core demo --if-missing

demo-large: $(STAMP)
	$(PYTHON) -m core demo --size large --out data/workspaces/demo-large --if-missing

# The browser tests drive Debian's Chromium; without root they skip (install it with sudo apt-get install -y chromium).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium) || \
			echo "could not install chromium: the browser tests will skip"; \
		else echo "/usr/bin/chromium is missing: the browser tests will skip (sudo apt-get install -y chromium)"; fi; \
	fi

benchmarks: $(STAMP)
	$(PYTHON) -m benchmarks --quick

# Full-height screenshots of every page on a fresh demo, in data/screenshots/ (needs /usr/bin/chromium).
screenshots: $(STAMP)
	$(PYTHON) scripts/screenshots.py data/screenshots
