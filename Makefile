# Build, demo, test and release targets for circleci-runner.
GO ?= go
BIN := bin

.PHONY: build demo test dist bench fuzz clean

build:
	$(GO) build -o $(BIN)/ ./cmd/... ./tools/cmd/...

clean:
	rm -rf $(BIN) dist
