# Thin driver over CMake. `make demo` and `make test` are the two entry points;
# both install missing Debian packages first (when run as root).

BUILD      ?= build
BUILD_ASAN ?= build-asan
STAGE      := $(abspath $(BUILD))/stage
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

export SBPROV_STAGE := $(STAGE)
export SBPROV_BUILD := $(abspath $(BUILD))

.PHONY: all deps build test demo bench clean abi-baseline

all: build

deps:
	@scripts/install-deps.sh

# Configure, build and install into $(STAGE), which the bindings, the consumer
# test and the demo use as if it were /usr/local.
build: deps
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(STAGE) $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)
	cmake --install $(BUILD) >/dev/null

test: build
	scripts/test-all.sh

demo: build
	scripts/demo.sh

bench: build
	bench/run.sh

# Regenerate the committed ABI baseline: only on purpose, at a release.
abi-baseline: build
	abidw --no-corpus-path --headers-dir include --headers-dir $(BUILD)/include \
	    $(BUILD)/libsbprov/libsbprov.so > abi/libsbprov.abi

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
