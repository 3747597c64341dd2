# Build, demo, test and release targets for circleci-runner.
GO ?= go
BIN := bin

.PHONY: build demo test dist package-test bench fuzz clean

build:
	$(GO) build -o $(BIN)/ ./cmd/... ./tools/cmd/...

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

clean:
	rm -rf $(BIN) dist
