# flame-swift — the commands a user and CI need. `make help` lists them.
SWIFT ?= swift
PREFIX ?= /usr/local
RELEASE_FLAGS := -c release
APT_PACKAGES := libncurses-dev tmux ncurses-term

CHAOS_TRANSPORT ?= socketpair
.PHONY: help deps build test chaos demo bench bench-peers-install release install clean

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

test: ## the whole test suite: the short chaos profile over socketpairs and over TCP (~50 s each), then swift test (unit, integration, tmux)
	$(SWIFT) build $(RELEASE_FLAGS) --product flame-test-runner
	$(SWIFT) build $(RELEASE_FLAGS) --product flame-chaos
	"$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/flame-chaos" --profile short --transport socketpair
	"$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/flame-chaos" --profile short --transport tcp
	@# The thread-count test boots 40 runners of a flame-demo: alone first, since beside the
	@# rest of the suite those boots starve the timing of other tests on two cores.
	$(SWIFT) test --filter ThreadCountTests
	$(SWIFT) test --skip ThreadCountTests

chaos: ## the long reliability profile: 60 s fault phases under load, a 10-minute soak (~13 min); CHAOS_TRANSPORT=tcp for TCP runners
	$(SWIFT) build $(RELEASE_FLAGS) --product flame-chaos
	"$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/flame-chaos" --profile long --transport $(CHAOS_TRANSPORT)

demo: ## start flame-demo under load and open flame-top on it; quitting flame-top stops the demo
	$(SWIFT) build --product flame-demo
	$(SWIFT) build --product flame-top
	@bin=$$($(SWIFT) build --show-bin-path); log=$$(mktemp /tmp/flame-demo.XXXXXX); \
	"$$bin/flame-demo" > "$$log" 2>&1 & demo=$$!; \
	trap 'kill $$demo 2>/dev/null; wait $$demo 2>/dev/null; rm -f "$$log"' EXIT INT TERM; \
	for i in $$(seq 100); do grep -q '^admin socket: ' "$$log" && break; sleep 0.1; done; \
	socket=$$(sed -n 's/^admin socket: //p' "$$log"); \
	if [ -z "$$socket" ]; then cat "$$log"; exit 1; fi; \
	"$$bin/flame-top" --socket "$$socket"

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
