SHELL := /bin/bash
# sitevpn: `make example` renders the example fleet, `make check` runs every
# test tier (what .ci/run calls). Both install what they need on a fresh
# Debian machine.
GO      ?= go
OUT     ?= out
GATEWAYS = v1-1 v1-2 v2-1 v2-2 v3-1 v3-2
# Where packages are built and pinned tools (nfpm, staticcheck) installed.
DIST    ?= dist

.PHONY: all build example deps test test-privileged fuzz bench check

all: build

build:
	CGO_ENABLED=0 $(GO) build -o sitevpn ./cmd/sitevpn

# The main job: every file each gateway of the article's fleet gets, then
# v1-1's plan against an empty root: what a fresh gateway would get.
example: build
	@for g in $(GATEWAYS); do \
		./sitevpn --config examples/article --gateway $$g render --out $(OUT)/$$g >/dev/null || exit 1; \
		echo "$(OUT)/$$g: $$(find $(OUT)/$$g -type f ! -name .sitevpn-rendered | wc -l) files"; \
	done
	@rm -rf $(OUT)/empty-root && mkdir -p $(OUT)/empty-root
	./sitevpn --config examples/article --gateway v1-1 --root $(OUT)/empty-root plan

# The real tools the tests check rendered files with (bird -p,
# systemd-analyze verify), iproute2, ping and dbus for the privileged tests,
# Graphviz for `sitevpn graph --format svg`.
deps:
	@missing=""; \
	for t in bird:bird2 systemd-analyze:systemd ip:iproute2 tc:iproute2 ping:iputils-ping /usr/bin/time:time dbus-daemon:dbus dot:graphviz; do \
		command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# Every host package make check needs, in one apt-get before anything
# runs: what deps, packaging/test.sh and test/lab/image.sh would each
# install (they still do when run alone). make check then builds the lab
# image beside the host tiers without two apt-gets racing for dpkg's lock.
HOST_PACKAGES = bird2 systemd iproute2 iputils-ping time dbus graphviz \
	lintian rpm ansible ansible-lint prometheus \
	qemu-system-x86 qemu-utils debootstrap e2fsprogs socat
.PHONY: host-deps
host-deps:
	@missing=$$(dpkg-query -W -f='$${db:Status-Abbrev} $${Package}\n' $(HOST_PACKAGES) 2>/dev/null | awk '$$1 == "ii" { ok[$$2] = 1 } END { n = split("$(HOST_PACKAGES)", p, " "); for (i = 1; i <= n; i++) if (!ok[p[i]]) printf " %s", p[i] }'); \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# staticcheck, pinned, installed like nfpm (package) from the Go module proxy.
STATICCHECK_VERSION = v0.8.2
STATICCHECK         = $(DIST)/tools/staticcheck-$(STATICCHECK_VERSION)

$(STATICCHECK):
	mkdir -p $(DIST)/tools
	GOBIN=$(abspath $(DIST)/tools) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(DIST)/tools/staticcheck $@

# Tier 1: pure and fast, no root. The real tools must be there.
test: deps $(STATICCHECK)
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags lab ./test/lab/ ./internal/link/
	SITEVPN_REQUIRE_TOOLS=1 $(GO) test -count=1 ./...

# go test -v, short: the RUN lines, the results, and under each skipped or
# failed test (subtests too) the lines it logged, so its reason is shown.
VERBOSE_FILTER = awk '\
	/^=== (RUN|CONT|NAME|PAUSE) / { cur = $$3 } \
	/^=== RUN/ { print; next } \
	/^ *--- (SKIP|FAIL): / { print; printf "%s", out[$$3]; delete out[$$3]; next } \
	/^ *--- / { print; next } \
	/^(PASS|FAIL|ok|panic)/ { print; next } \
	/^    / { if (cur != "") out[cur] = out[cur] $$0 "\n" }'

# Tier 2: network namespaces, netlink and a real BIRD on this host (root).
test-privileged: deps
	SITEVPN_PRIVILEGED=1 $(GO) test -count=1 -run 'Integration' -v ./... 2>&1 | $(VERBOSE_FILTER) ; exit $${PIPESTATUS[0]}

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoadValidate -fuzztime 30s ./internal/validate
	$(GO) test -run '^$$' -fuzz FuzzParsePlain -fuzztime 30s ./internal/load

bench:
	./bench/run

# Every tier, what .ci/run runs, each timed by test/check, which ends with
# one table of where the time went (docs/benchmarks.md has the current one).
check:
	MAKE="$(MAKE)" test/check

# Packages: dist/sitevpn_<version>_amd64.deb and dist/sitevpn-<version>.x86_64.rpm
# (nfpm.yaml). With DIST=elsewhere (the VM lab), what is packaged is what
# was built into elsewhere/build: nfpm.yaml's dist/build/ paths are
# rewritten, never read from a previous build in ./dist. nfpm is installed, pinned, from the Go module proxy
# (v2.46 and later need a module the proxy here refuses).
NFPM_VERSION = v2.45.0
NFPM         = $(DIST)/tools/nfpm-$(NFPM_VERSION)
PKG_VERSION  = $(shell packaging/version.sh)
SITEVPN_MAINTAINER ?= sitevpn maintainers <sitevpn@example.org>

.PHONY: package package-test

$(NFPM):
	mkdir -p $(DIST)/tools
	GOBIN=$(abspath $(DIST)/tools) $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)
	mv $(DIST)/tools/nfpm $@

package: $(NFPM)
	@set -e; v="$(PKG_VERSION)"; b=$(DIST)/build; \
	echo "sitevpn $$v"; \
	rm -rf $$b $(DIST)/sitevpn_*_amd64.deb $(DIST)/sitevpn-*.x86_64.rpm; \
	mkdir -p $$b/man $$b/completions; \
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X github.com/sitevpn/sitevpn/internal/version.stamp=$$v" -o $$b/sitevpn ./cmd/sitevpn; \
	SITEVPN_VERSION=$$v $$b/sitevpn man --out $$b/man; \
	gzip -9n $$b/man/*.8; \
	$$b/sitevpn completion bash >$$b/completions/sitevpn.bash; \
	$$b/sitevpn completion zsh >$$b/completions/_sitevpn; \
	$$b/sitevpn completion fish >$$b/completions/sitevpn.fish; \
	packaging/changelog.sh "$$v" "$(SITEVPN_MAINTAINER)" | gzip -9n >$$b/changelog.gz; \
	export SITEVPN_VERSION=$$v SITEVPN_MAINTAINER="$(SITEVPN_MAINTAINER)"; \
	sed "s|src: dist/build/|src: $$b/|" nfpm.yaml >$$b/nfpm.yaml; \
	$(NFPM) package -f $$b/nfpm.yaml -p deb -t $(DIST)/sitevpn_$${v}_amd64.deb; \
	$(NFPM) package -f $$b/nfpm.yaml -p rpm -t $(DIST)/sitevpn-$${v}.x86_64.rpm

# Checks the packages without a VM: contents, lintian, unit scores, the
# Ansible role (syntax, lint, template rendered and validated offline).
# Installs lintian, rpm, ansible, ansible-lint and systemd if missing.
package-test: package
	packaging/test.sh $(DIST)

# The packages tried as an operator would, in the VM lab (root, QEMU; see
# test/lab/README.md): TestLabPackage installs, upgrades, removes and
# purges the .deb on one VM; TestLabAnsible runs packaging/ansible/site.yml
# against the six gateways of the example fleet, twice.
.PHONY: lab-package
lab-package:
	$(GO) test -tags lab -count=1 -run '^(TestLabPackage|TestLabAnsible)$$' -v -timeout 60m ./test/lab/

# The VM lab (root, QEMU; see test/lab/README.md), part of `make check`,
# in three processes, one per set of VMs, each booted once and shared by
# its tests in order: the pair (v1-1, v2-1: TestLabIntegration, the
# internal/link tests on a kernel with WireGuard; TestLabKill; TestLabLatency
# with the 304-tunnel hub; TestLabVRF), hub-and-spoke's five
# (TestLabHubSpoke), the article's topology's nine (TestLabTopology). One set
# at a time: each takes the 2 cores while it boots. The image is built (or
# found cached) first, the package once for all three; test/check's table
# shows each step's seconds.
LAB_RUN = $(GO) test -tags lab -count=1 -v ./test/lab/ -run
.PHONY: lab lab-smoke lab-boot
lab:
	@t=$$SECONDS; test/lab/image.sh >/dev/null && echo "LABTIME image.sh (built, or found cached) $$((SECONDS - t))s"
	@set -e; d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; t=$$SECONDS; \
	$(MAKE) --no-print-directory package DIST=$$d >/dev/null; \
	echo "LABTIME make package (once for the lab) $$((SECONDS - t))s"; \
	export SITEVPN_LAB_DEB=$$(ls $$d/sitevpn_*_amd64.deb); \
	$(LAB_RUN) '^(TestLabIntegration|TestLabKill|TestLabLatency|TestLabVRF)$$' -timeout 30m; \
	$(LAB_RUN) '^TestLabHubSpoke$$' -timeout 20m; \
	$(LAB_RUN) '^TestLabTopology$$' -timeout 60m
lab-smoke:
	$(GO) test -tags lab -count=1 -run '^TestLabSmoke$$' -v -timeout 10m ./test/lab/
# Boot time to the guest agent of nine VMs at once, and the guest's idle cost.
lab-boot:
	$(GO) test -tags lab -count=1 -run '^TestLabBoot$$' -v -timeout 20m ./test/lab/
