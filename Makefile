# extbridge: `make demo` and `make test` do all set-up on a fresh Debian machine.
GO      ?= go
BROWSER ?= chromium

.PHONY: all deps test demo check bench

all: test

deps:
	@./scripts/deps.sh

# check: formatting, vet and a tidy go.mod, no browser needed.
check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@$(GO) mod tidy -diff || { echo "go mod tidy would change go.mod/go.sum: run it"; exit 1; }

test: deps check
	$(GO) test -race -count=1 -timeout 20m ./...

demo: deps
	$(GO) run ./cmd/extbridge demo -browser $(BROWSER)

# bench: extbridge against the browser's own cost and against Puppeteer, in
# both browsers; prints the table and a RESULT line (see PERFORMANCE.md).
bench: deps
	@./bench/run.sh
