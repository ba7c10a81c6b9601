# flame-swift — the commands a user and CI need. `make help` lists them.
SWIFT ?= swift
PREFIX ?= /usr/local
RELEASE_FLAGS := -c release
APT_PACKAGES := libncurses-dev tmux ncurses-term

CHAOS_TRANSPORT ?= socketpair
# The test Slurm cluster of scripts/slurm-up.sh (two nodes on this host).
SLURM_DIR ?= /tmp/flame-slurm
export FLAME_SLURM_DIR := $(SLURM_DIR)
TEST_SLURM_CONF := $(SLURM_DIR)/etc/slurm.conf
.PHONY: help deps build test chaos demo demo-slurm slurm-up slurm-down bench bench-peers-install release install clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

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

test: deps ## the whole test suite (installs its packages first, see deps): brings the test Slurm cluster up, the short chaos profile over socketpairs, TCP and Slurm, then swift test (unit, integration, Slurm, tmux)
	@# The Slurm tests need the cluster: up first (a few seconds; installs Slurm if missing).
	@# Without root or apt it cannot start: outside CI its tests then skip saying so.
	@# The marker stays when a step fails, so the next make test stops the cluster it finds.
	@if ! scripts/slurm-up.sh --check; then \
		if scripts/slurm-up.sh; then mkdir -p .build && touch .build/slurm-started-by-make-test; \
		elif [ "$$CI" = true ]; then echo "make test: the Slurm cluster did not come up (above)"; exit 1; fi; \
	else echo "slurm: the test cluster is up (SLURM_CONF=$(TEST_SLURM_CONF))"; fi
	$(SWIFT) build $(RELEASE_FLAGS) --product flame-test-runner
	$(SWIFT) build $(RELEASE_FLAGS) --product flame-chaos
	"$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/flame-chaos" --profile short --transport socketpair
	"$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/flame-chaos" --profile short --transport tcp
	@if scripts/slurm-up.sh --check; then \
		SLURM_CONF=$(TEST_SLURM_CONF) "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/flame-chaos" --profile short --transport slurm --scenario kill-runners; \
	else echo "chaos on Slurm runners skipped: no test cluster"; fi
	@# The thread-count test boots 40 runners of a flame-demo: alone first, since beside the
	@# rest of the suite those boots starve the timing of other tests on two cores.
	$(SWIFT) test --filter ThreadCountTests
	@# Last: swift test's own summary is the final line; a cluster this run started is then
	@# stopped (by its pid files), quietly, keeping swift test's exit status.
	@# At most 8 tests at once: all 248 at once (swift-testing's default) boot ~100 runners in the
	@# first seconds on two cores, and runner boots and hello deadlines then stretched past 5-10 s.
	@# Measured: the same 38-39 s wall time at 8 as unbounded, with none of those failures.
	@SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=8 $(SWIFT) test --skip ThreadCountTests; status=$$?; \
	if [ -f .build/slurm-started-by-make-test ]; then rm -f .build/slurm-started-by-make-test; scripts/slurm-down.sh >/dev/null 2>&1; fi; \
	exit $$status

slurm-up: ## start the two-node test Slurm cluster on this host (installs Slurm from Debian if missing)
	scripts/slurm-up.sh

slurm-down: ## stop the test Slurm cluster (exactly the daemons slurm-up started, by pid file)
	scripts/slurm-down.sh

chaos: ## the long reliability profile: 60 s fault phases under load, a 10-minute soak (~13 min), the pool state machine under 20,000 random sequences per shape; CHAOS_TRANSPORT=tcp for TCP runners
	FLAME_INVARIANT_SEQUENCES=20000 $(SWIFT) test --filter PoolInvariantTests
	$(SWIFT) build $(RELEASE_FLAGS) --product flame-chaos
	"$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/flame-chaos" --profile long --transport $(CHAOS_TRANSPORT)

demo: deps ## start flame-demo under load and open flame-top on it; quitting flame-top stops the demo
	$(SWIFT) build --product flame-demo
	$(SWIFT) build --product flame-top
	@bin=$$($(SWIFT) build --show-bin-path); log=$$(mktemp /tmp/flame-demo.XXXXXX); \
	"$$bin/flame-demo" $(DEMO_ARGS) > "$$log" 2>&1 & demo=$$!; \
	trap 'kill $$demo 2>/dev/null; wait $$demo 2>/dev/null; rm -f "$$log"' EXIT INT TERM; \
	for i in $$(seq 100); do grep -q '^admin socket: ' "$$log" && break; sleep 0.1; done; \
	socket=$$(sed -n 's/^admin socket: //p' "$$log"); \
	if [ -z "$$socket" ]; then cat "$$log"; exit 1; fi; \
	"$$bin/flame-top" --socket "$$socket"

demo-slurm: ## bring the test Slurm cluster up, run flame-demo's pools on it (runners are srun jobs on n1, n2) and open flame-top
	scripts/slurm-up.sh
	SLURM_CONF=$(TEST_SLURM_CONF) $(MAKE) demo DEMO_ARGS="--backend slurm"

release: ## release build
	$(SWIFT) build $(RELEASE_FLAGS)

bench: ## benchmarks beside the C socket floor, ProcessPoolExecutor, Ray and Dask (when installed); ~3.5 min once built (~8 with the builds)
	./Benchmarks/run

bench-peers-install: ## pip-install Ray and Dask, the optional peers of make bench
	python3 -m pip install "ray" "dask[distributed]" || python3 -m pip install --break-system-packages "ray" "dask[distributed]"

install: ## install flame-top, flamectl, the themes and shell completions under PREFIX (default /usr/local)
	$(SWIFT) build $(RELEASE_FLAGS) --product flame-top
	$(SWIFT) build $(RELEASE_FLAGS) --product flamectl
	@bin=$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path); root="$(DESTDIR)$(PREFIX)"; \
	install -d "$$root/bin" "$$root/share/flame-top/themes" "$$root/share/bash-completion/completions" \
		"$$root/share/zsh/site-functions" "$$root/share/fish/vendor_completions.d"; \
	install -m 755 "$$bin/flame-top" "$$bin/flamectl" "$$root/bin/"; \
	install -m 644 themes/*.theme "$$root/share/flame-top/themes/"; \
	for tool in flame-top flamectl; do \
		"$$bin/$$tool" --generate-completion-script bash > "$$root/share/bash-completion/completions/$$tool"; \
		"$$bin/$$tool" --generate-completion-script zsh > "$$root/share/zsh/site-functions/_$$tool"; \
		"$$bin/$$tool" --generate-completion-script fish > "$$root/share/fish/vendor_completions.d/$$tool.fish"; \
	done; \
	echo "installed flame-top, flamectl, $$(ls themes/*.theme | wc -l) themes and completions under $$root"

clean: ## remove build products
	rm -rf .build Benchmarks/results
