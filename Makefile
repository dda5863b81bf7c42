# lab's developer entry points. `make test` is what CI runs (see .ci/run).
GO       ?= go
PKG      := github.com/k8s-debug-lab/lab
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X $(PKG)/lab/version.Version=$(VERSION)
BIN      := bin/lab
FUZZTIME ?= 5s

# The platforms a release carries and CI compiles for (internal/dist has
# the same list).
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64

.PHONY: all build install test fuzz bench lint cross dist e2e clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/lab

install:
	$(GO) install -trimpath -ldflags '$(LDFLAGS)' ./cmd/lab

# The README's test command: formatting, vet, every unit test with the race
# detector, the HTML class report in a headless chromium (skipped under
# -race, so run once more without it; it skips without chromium unless
# LAB_BROWSER_REQUIRED=1, as in CI), and a short run of every fuzz target.
test: lint
	$(GO) test -race -count=1 ./...
	$(GO) test -count=1 -run '^TestBrowser$$' ./lab/grade/htmlreport/
	$(MAKE) fuzz FUZZTIME=$(FUZZTIME)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Every package and its tests type-checked and vetted for each release
# platform, so that code that breaks on macOS or Windows (a syscall, a path)
# fails CI on Linux. Vet compiles each platform's dependencies, not binaries.
cross:
	@set -e; for p in $(PLATFORMS); do \
	  echo "vet $$p"; \
	  GOOS=$${p%/*} GOARCH=$${p#*/} CGO_ENABLED=0 $(GO) vet ./...; \
	done

# Release archives in dist/: lab for every platform with VERSION stamped
# in, tar.gz (zip for Windows), and SHA256SUMS. Tag first: make dist
# VERSION=v1.2.3 names an untagged build that way too.
dist:
	$(GO) run ./internal/dist -version $(VERSION) -out dist

# Each fuzz target runs for FUZZTIME; CI keeps it short, developers may
# run `make fuzz FUZZTIME=5m`. A short run sometimes ends with only
# "context deadline exceeded" and no failing input: Go's fuzzing
# coordinator missing its own deadline (seen here with minimization capped
# and with it off, at any load). That target runs once more; a real
# failure ("Failing input written") never does.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$t"; \
	    ok=0; for try in 1 2; do \
	      if out=$$($(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg 2>&1); then ok=1; break; fi; \
	      case "$$out" in *"Failing input written"*) break;; *"context deadline exceeded"*) echo "  the fuzzing coordinator missed its deadline: once more";; *) break;; esac; \
	    done; \
	    [ $$ok = 1 ] || { echo "$$out"; exit 1; }; \
	  done; \
	done

# The end-to-end tests (root, Debian 12; see test/e2e/README.md): TestE2E on
# a real single-node cluster that test/e2e/cluster builds and runs here (cold
# 15-40 min, warm 1-2 min), then TestKind, lab up --provider kind with a node
# image built offline (cold ~10 min, warm 2-4 min), then TestKindPodman, the
# same on rootful Podman (warm ~2 min). They run one after the other, never
# side by side.
e2e:
	$(GO) test -tags e2e -count=1 -timeout 80m -v -run 'TestE2E$$|TestKind$$|TestKindPodman$$' ./test/e2e/...

# Benchmarks print their own ratios; see bench/README.md.
bench:
	./bench/run
	./bench/grade
	./bench/report

clean:
	rm -rf bin dist
