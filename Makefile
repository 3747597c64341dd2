# Build, demo, test and release targets for circleci-runner.
#
#   make demo    run the example jobs through the real agent on loopback
#   make test    the whole suite: unit, integration and package tests
#   make dist    packages, release tree and APT repository in dist/
GO ?= go
BIN := bin

.PHONY: build demo test test-unit fuzz bench dist package-test system-test clean

build:
	$(GO) build -o $(BIN)/ ./cmd/... ./tools/cmd/...

# The demo needs no root and no network beyond 127.0.0.1.
demo: build
	$(BIN)/demo --agent $(BIN)/circleci-launch-agent --task-agent $(BIN)/local-task-agent --repo examples/demo

test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 60m ./...

# Everything but the package and system tests, which need root.
test-unit:
	$(GO) test -short -count=1 ./...

# Longer runs of the configuration fuzz targets than the 20 s each that
# make test gives them. A crasher is saved in pkg/config/testdata/fuzz/ and
# replayed by every later go test; commit it as a regression case.
FUZZTIME ?= 5m
fuzz:
	$(GO) test ./pkg/config -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/config -run '^$$' -fuzz '^FuzzLoadEnviron$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/config -run '^$$' -fuzz '^FuzzEdit$$' -fuzztime $(FUZZTIME)

# The benchmarks of docs/benchmarks.md, run on this machine against the
# local runner API: task start, per-task overhead, idle cost, working
# directory cleanup, task agent download and make dist. Prints one line per
# figure and rewrites the results part of docs/benchmarks.md and its plot.
# A missed goal does not fail the target.
bench: build
	$(BIN)/bench -agent $(BIN)/circleci-launch-agent -repo . -page docs/benchmarks.md \
		-plot docs/benchmarks-start-latency.png -command "make bench"

# The .debs for amd64 and arm64, the launch agent's release tree and a signed
# APT repository, in dist/. SIGNING_KEY is an OpenPGP secret key file (an
# encrypted one takes its passphrase from CIRCLECI_RUNNER_SIGNING_KEY_PASSPHRASE);
# without it, a throwaway key kept in .cache/ signs the repository, which is
# for local builds only. SOURCE_DATE_EPOCH, when set, is the date recorded.
SIGNING_KEY ?=
dist:
	$(GO) run ./tools/cmd/build-dist -out dist $(if $(SIGNING_KEY),-key $(SIGNING_KEY),-throwaway-key .cache/dist-signing-key.asc)

# The Debian package tests alone. They need root, install debootstrap,
# lintian and qemu-user-static with apt-get when missing, and cache Debian
# roots under /var/cache/circleci-runner-test.
package-test:
	$(GO) test -count=1 -timeout 30m ./tools/builder/ ./tools/testroot/ ./tools/packagetest/

# The system tests alone: systemd booted with systemd-nspawn in a cached
# Debian root with unattended-upgrades, the package installed from the
# signed repository, and jobs run through it against the local runner API.
# They need root.
system-test:
	$(GO) test -count=1 -timeout 30m ./tools/systemtest/

clean:
	rm -rf $(BIN) dist
