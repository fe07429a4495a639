SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# Paths relative to the checkout, so a fresh clone on this machine reuses ccache's cache.
export CCACHE_BASEDIR := $(CURDIR)

# Evaluated at recipe time: `make deps` may have just installed ccache.
LAUNCHER = $$(command -v ccache >/dev/null 2>&1 && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
JOBS = $$(nproc)
# The sanitizer builds use clang, which compiles this code base (Beast, JSON) in about half
# of GCC's time, as a few large translation units per target (CI starts from an empty
# ccache: the headers are parsed once per batch of files rather than once per file), with
# line tables only (file:line in sanitizer reports). `make build` stays GCC, per file.
SANITIZER_BUILD = -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_FLAGS_DEBUG=-gline-tables-only \
  -DMTOWN_BUILD_BENCH=OFF -DCMAKE_UNITY_BUILD=ON
ARGS ?=

.PHONY: deps build serve test test-tsan fuzz clean

deps:
	scripts/install-deps.sh

build: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release $(LAUNCHER)
	cmake --build build -j$(JOBS)

# --dev: no JWT secret needed, anonymous players allowed (docs/security.md).
serve: build
	exec ./build/mtown serve --dev --migrate $(ARGS)

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer, then the tests whose
# subject is concurrency (label "threads"; only their executables are built) under
# ThreadSanitizer. `make serve` keeps its own Release build in build/.
test: deps
	cmake -S . -B build-asan $(SANITIZER_BUILD) -DMTOWN_SANITIZE=address,undefined $(LAUNCHER)
	cmake --build build-asan -j$(JOBS)
	tests/run-suite.sh build-asan
	$(MAKE) test-tsan
	$(MAKE) fuzz

test-tsan: deps
	cmake -S . -B build-tsan $(SANITIZER_BUILD) -DMTOWN_SANITIZE=thread $(LAUNCHER)
	cmake --build build-tsan -j$(JOBS) --target thread_tests
	tests/run-suite.sh build-tsan -L threads

# libFuzzer (clang) over the protocol decoder and JWT parsing, FUZZ_SECONDS long, from the
# committed seed corpus in tests/fuzz/corpus; a crash or sanitizer report fails.
FUZZ_SECONDS ?= 25
fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DMTOWN_FUZZ=ON \
	  -DMTOWN_BUILD_BENCH=OFF -DMTOWN_FUZZ_SECONDS=$(FUZZ_SECONDS) $(LAUNCHER)
	cmake --build build-fuzz -j$(JOBS) --target fuzz_protocol
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --test-dir build-fuzz --output-on-failure -L fuzz

clean:
	rm -rf build build-asan build-tsan build-fuzz
