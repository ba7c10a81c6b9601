# flame-swift — the commands a user and CI need. `make help` lists them.
SWIFT ?= swift
PREFIX ?= /usr/local
RELEASE_FLAGS := -c release
APT_PACKAGES := libncurses-dev tmux

.PHONY: help deps build test demo bench release clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

deps: ## install what the build and tests need (Debian 12; apt-get update only if needed)
	@missing=""; for package in $(APT_PACKAGES); do \
		dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get install -y $$missing >/dev/null 2>&1 || { apt-get update && apt-get install -y $$missing; }; \
	else \
		echo "deps: all present ($(APT_PACKAGES))"; \
	fi

build: ## debug build of every target
	$(SWIFT) build --build-tests

test: ## the whole test suite (unit, integration with real runner processes, a release-built runner)
	$(SWIFT) build $(RELEASE_FLAGS) --product flame-test-runner
	$(SWIFT) test

demo: ## run flame-demo: two pools under load, a status line a second (Ctrl-C stops it)
	$(SWIFT) build --product flame-demo
	$$($(SWIFT) build --show-bin-path)/flame-demo

release: ## release build
	$(SWIFT) build $(RELEASE_FLAGS)

bench: ## first measurements: round trip, throughput, cold boot, RSS, beside a C floor
	./Benchmarks/run

clean: ## remove build products
	rm -rf .build Benchmarks/results
