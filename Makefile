# aphex.platform developer entry points. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
REQUIREMENTS_STAMP := $(VENV)/.installed-$(shell cat requirements.txt tests/requirements.txt tests/requirements.lock 2>/dev/null | sha256sum | cut -c1-16)
COLLECTION_LINK := .collections/ansible_collections/aphex/platform
# Galaxy's importer, in a virtualenv of its own (tests/requirements-galaxy.txt says why)
VENV_GALAXY := .venv-galaxy
GALAXY_STAMP := $(VENV_GALAXY)/.installed-$(shell cat tests/requirements-galaxy.txt tests/requirements-galaxy.lock 2>/dev/null | sha256sum | cut -c1-16)
CLUSTER_DIR := .cluster
RESULTS := build/test-results
UNIT_SUITES := tests/unit harness/tests tools/tests --ignore=harness/tests/integration
INTEGRATION_SUITES := tests/integration harness/tests/integration
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# ----------------------------------------------------------------- setup
# What the machine needs for the demo and for the tests, installed when it can be (tools/prerequisites.sh: one
# line for each thing it cannot install, naming how to get it).
.PHONY: prerequisites-demo prerequisites-test
prerequisites-demo:
	@bash tools/prerequisites.sh demo
prerequisites-test:
	@bash tools/prerequisites.sh test

.PHONY: setup
setup: $(REQUIREMENTS_STAMP) $(COLLECTION_LINK) ## virtualenv with the pinned toolchain (a no-op when current)

$(REQUIREMENTS_STAMP): requirements.txt tests/requirements.txt tests/requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r tests/requirements.txt -c tests/requirements.lock
	rm -f $(VENV)/.installed-*
	touch $@

$(GALAXY_STAMP): tests/requirements-galaxy.txt tests/requirements-galaxy.lock
	@test -x $(VENV_GALAXY)/bin/python || $(PYTHON) -m venv $(VENV_GALAXY)
	$(VENV_GALAXY)/bin/python -m pip install --quiet -r tests/requirements-galaxy.txt -c tests/requirements-galaxy.lock
	rm -f $(VENV_GALAXY)/.installed-*
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../.. $@

# ------------------------------------------------------ test infrastructure
.PHONY: controlplane
controlplane: ## build (or reuse) etcd, kube-apiserver, kube-controller-manager, kubectl
	bash harness/controlplane/build.sh >/dev/null

.PHONY: cluster-up
cluster-up: setup ## start the local control plane in .cluster/ (a no-op when up)
	$(BIN)/python -m harness.controlplane up --state-dir $(CLUSTER_DIR)

.PHONY: platform-up
platform-up: prerequisites-demo setup controlplane ## cluster-up plus what ArgoCD needs to sync for real: scheduler, KWOK nodes, chart mirror, redis, ArgoCD
	$(BIN)/python -m harness.platform up --state-dir $(CLUSTER_DIR)

.PHONY: chart-mirror
chart-mirror: prerequisites-demo setup ## build the Helm repository of ../shared/charts (and the Tekton release manifests) in .cluster/platform/mirror
	$(BIN)/python -m harness.platform mirror --state-dir $(CLUSTER_DIR)

.PHONY: cluster-down
cluster-down: ## stop exactly what cluster-up and platform-up started
	@if test -x $(BIN)/python; then $(BIN)/python -m harness.controlplane down --state-dir $(CLUSTER_DIR); \
	else python3 -m harness.controlplane down --state-dir $(CLUSTER_DIR); fi
	@if test -f $(CLUSTER_DIR)/cloudflare.pid; then kill $$(cat $(CLUSTER_DIR)/cloudflare.pid) 2>/dev/null || true; \
	rm -f $(CLUSTER_DIR)/cloudflare.pid; fi

.PHONY: cluster-status
cluster-status: ## say whether the local control plane is up
	@$(BIN)/python -m harness.controlplane status --state-dir $(CLUSTER_DIR)

.PHONY: test-image
test-image: ## build the Debian bookworm molecule image (reused when present)
	bash harness/images/build-test-image.sh

.PHONY: demo
demo: prerequisites-demo setup controlplane ## bootstrap.yml on the local control plane with a real ArgoCD syncing the kind catalog wave by wave, then two tenants
	@bash tools/demo.sh $(CLUSTER_DIR)

# ------------------------------------------------------------------- tests
.PHONY: test
test: prerequisites-test setup ## lint, sanity, unit, integration, molecule (the builds and the image beside them); prints counts and stage times
	bash tools/test.sh

.PHONY: lint
lint: setup $(GALAXY_STAMP) ## ansible-lint (production profile), the changelog fragments, a fragment for every content change, the docs generated from the specs, and the tarball imported as Galaxy imports it
	$(BIN)/ansible-lint --profile production
	$(BIN)/antsibull-changelog lint
	$(BIN)/python tools/check_fragments.py
	$(BIN)/python tools/variables_doc.py --check
	$(BIN)/python tools/galaxy_import.py --importer $(VENV_GALAXY)/bin/python

.PHONY: sanity
sanity: setup ## ansible-test sanity on a copy laid out as ansible_collections/aphex/platform
	bash tools/sanity.sh

.PHONY: unit
unit: setup ## unit tests: the collection's (tests/unit, mirroring plugins/), the harness's and the tools'
	$(BIN)/python -m pytest $(UNIT_SUITES)

.PHONY: integration
integration: setup controlplane ## integration tests on a fresh control plane (the collection's and the harness's)
	$(BIN)/python -m pytest $(INTEGRATION_SUITES)

.PHONY: molecule
molecule: setup test-image ## every molecule scenario on the local Docker image
	bash tools/molecule.sh

.PHONY: build
build: setup ## build the collection tarball into build/
	mkdir -p build
	$(BIN)/ansible-galaxy collection build --force --output-path build .

.PHONY: docs
docs: setup ## regenerate docs/variables.md and the role READMEs from the argument specs (tools/variables_doc.py --check: are they current?)
	$(BIN)/python tools/variables_doc.py

.PHONY: clean
clean: cluster-down ## remove build outputs (keeps the virtualenv and the Go caches)
	rm -rf build tests/output .pytest_cache $(CLUSTER_DIR)

# -------------------------------------------------------------- benchmarks
.PHONY: bench
bench: prerequisites-demo setup controlplane ## onboarding at each size of BENCH_ORGS (50,500,1000) x BENCH_PIPELINES, bootstrap against baselines, webhooks through Tekton, the tenant controller at 200 RepoBindings
	$(BIN)/python -m harness.bench.bench_tenancy
	$(BIN)/python -m harness.bench.bench_bootstrap
	$(BIN)/python -m harness.bench.bench_webhooks
	$(BIN)/python -m harness.bench.bench_tenant_controller
