SHELL := /bin/bash
# sitevpn: `make example` renders the example fleet, `make check` runs every
# test tier (what .ci/run calls). Both install what they need on a fresh
# Debian machine.
GO      ?= go
OUT     ?= out
GATEWAYS = v1-1 v1-2 v2-1 v2-2 v3-1 v3-2

.PHONY: all build example deps test test-privileged fuzz bench check

all: build

build:
	CGO_ENABLED=0 $(GO) build -o sitevpn ./cmd/sitevpn

# The main job: every file each gateway of the article's fleet gets.
example: build
	@for g in $(GATEWAYS); do \
		./sitevpn --config examples/article --gateway $$g render --out $(OUT)/$$g >/dev/null || exit 1; \
		echo "$(OUT)/$$g: $$(find $(OUT)/$$g -type f | wc -l) files"; \
	done
	./sitevpn --config examples/article --gateway v1-1 --root $(OUT)/v1-1 plan

# The real tools the tests check rendered files with (bird -p,
# systemd-analyze verify), iproute2 for the privileged tests.
deps:
	@missing=""; \
	for t in bird:bird2 systemd-analyze:systemd ip:iproute2 /usr/bin/time:time; do \
		command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# Tier 1: pure and fast, no root. The real tools must be there.
test: deps
	$(GO) vet ./...
	SITEVPN_REQUIRE_TOOLS=1 $(GO) test -count=1 ./...

# Tier 2: network namespaces, netlink and a real BIRD on this host (root).
test-privileged: deps
	SITEVPN_PRIVILEGED=1 $(GO) test -count=1 -run 'Integration' -v ./... 2>&1 | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)' ; exit $${PIPESTATUS[0]}

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoadValidate -fuzztime 60s ./internal/validate

bench:
	./bench/run

check: test test-privileged fuzz
