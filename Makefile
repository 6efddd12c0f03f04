# Thin wrapper over CMake for the common commands. See README.md.
BUILD  ?= build
JOBS   ?= 2
CMAKE  ?= cmake
PREFIX ?= /usr/local

.PHONY: all build demo test matrix asan bench fuzz install clean amalgamate

all: build

build:
	@$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
	@$(CMAKE) --build $(BUILD) -j $(JOBS)

# The main demo: the six seed bytes through the library, then the CLI, then
# the Brainfuck JIT and the expression compiler.
demo: build
	@echo '$$ $(BUILD)/examples/example_hello'
	@$(BUILD)/examples/example_hello
	@echo '$$ jitkit run --hex "b8 78 56 34 12 c3"'
	@$(BUILD)/cli/jitkit run --hex "b8 78 56 34 12 c3"
	@echo "\$$ jitkit run -e 'mov eax, 12345678h; ret'"
	@$(BUILD)/cli/jitkit run -e 'mov eax, 12345678h; ret'
	@if [ -x $(BUILD)/examples/bf/example_bf ]; then \
	    echo '$$ example_bf --opt --stats tests/bf/nested.b'; \
	    $(BUILD)/examples/bf/example_bf --opt --stats tests/bf/nested.b; fi
	@if [ -x $(BUILD)/examples/expr/example_expr ]; then \
	    echo "\$$ example_expr 'sin(x)*y + 1' x=0.5 y=2"; \
	    $(BUILD)/examples/expr/example_expr 'sin(x)*y + 1' x=0.5 y=2; fi

# The whole native test suite through ctest.
test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Every platform of the matrix: gcc, clang, ASan+UBSan, x86-32, Windows x64
# under wine, AArch64 under qemu, ThreadSanitizer over the code heap.
# `make matrix ONLY="gcc m32"` picks some.
matrix:
	@sh tools/matrix.sh $(ONLY)

asan:
	@sh tools/matrix.sh asan

# Both libFuzzer targets (clang, ASan+UBSan) for FUZZ_TIME seconds each.
FUZZ_TIME ?= 600
FUZZ_JOBS ?= 1
fuzz:
	@sh tools/fuzz.sh $(FUZZ_TIME) $(FUZZ_JOBS)

bench:
	@$(CMAKE) -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DJITKIT_BUILD_BENCH=ON \
	    -DJITKIT_BUILD_TESTS=OFF > /dev/null
	@$(CMAKE) --build build-bench -j $(JOBS)
	@sh tools/run_bench.sh build-bench

install: build
	@$(CMAKE) --install $(BUILD) --prefix $(PREFIX)

# The single-file distribution: dist/jitkit.h and dist/jitkit.c, generated
# from include/ and src/ (never committed; see README.md).
amalgamate:
	@python3 tools/amalgamate.py --out dist
	@wc -l dist/jitkit.h dist/jitkit.c

clean:
	rm -rf $(BUILD) build-matrix build-bench dist
