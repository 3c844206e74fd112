# The two set-up commands: `make run` and `make test`. Everything is installed by these.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
CCI     := $(VENV)/bin/cci
STAMP   := $(VENV)/.installed-stamp
HTMX    := platform/cci/web/static/vendor/htmx.min.js
CATALOG := platform/cci/web/translations/ru/LC_MESSAGES/messages

.PHONY: install pdf-libraries run test lint audit bench load i18n-extract clean

install: pdf-libraries $(STAMP) $(HTMX) $(CATALOG).mo

# WeasyPrint (the region report as PDF) lays out text with Pango, embeds fonts with
# HarfBuzz's subsetter and needs a font with Cyrillic letters: Debian's packages, installed
# when the machine lacks them.
pdf-libraries:
	@ldconfig -p | grep -q 'libpangoft2-1.0.so' && ldconfig -p | grep -q 'libharfbuzz-subset' && \
		{ fc-list :lang=ru 2>/dev/null | grep -q . || \
		  test -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf; } || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core >/dev/null) || \
		echo "warning: Pango, HarfBuzz's subsetter or a Cyrillic font is missing and could not be" \
		     "installed here (apt-get as root on Debian): the region report's PDF will not work" >&2

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

# htmx comes from the npm registry (pinned in package-lock.json), not pasted into the repo.
$(HTMX): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(dir $(HTMX))
	cp node_modules/htmx.org/dist/htmx.min.js $(HTMX)

$(CATALOG).mo: $(CATALOG).po $(STAMP)
	$(VENV)/bin/pybabel compile --use-fuzzy -d platform/cci/web/translations

run: install
	$(CCI) db upgrade
	$(CCI) tenants sync
	$(CCI) maps seed
	$(CCI) users ensure-admin
	$(CCI) sample load
	$(CCI) dev

test: install
	$(PY) -m pytest

# Style and errors (ruff), types (mypy) and the layers' import contracts (.importlinter).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Every pin of requirements.lock against the known vulnerabilities (PyPI's advisory data);
# fails on any. A pin the service cannot look up is listed as skipped, not failed.
audit: install
	$(VENV)/bin/pip-audit --requirement requirements.lock --no-deps --disable-pip \
		--progress-spinner off

bench: install
	$(PY) -m bench

# A campaign day's load on loopback, bounded in time (LOAD_SECONDS, LOAD_CLIENTS): bench/load.py.
load: install
	$(PY) -m bench.load

# After adding or changing interface strings: extract, merge into the Russian catalog, translate.
i18n-extract: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o platform/cci/web/translations/messages.pot .
	$(VENV)/bin/pybabel update -i platform/cci/web/translations/messages.pot -d platform/cci/web/translations -l ru

clean:
	rm -rf $(VENV) node_modules $(dir $(HTMX)) $(CATALOG).mo
