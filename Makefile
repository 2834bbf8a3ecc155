# coin toolkit - crypto prices and volatility ranking as Unix filters
# GNU make; no configure step.  Knobs first.

PREFIX	= /usr/local
BINDIR	= $(PREFIX)/bin
MANDIR	= $(PREFIX)/share/man
BUILD	= build

CC	= cc
CFLAGS	= -O2 -g
WARN	= -Wall -Wextra -Wpedantic -Wstrict-prototypes -Wmissing-prototypes \
	  -Wshadow -Wformat=2 -Wpointer-arith -Wvla -Wcast-qual
WERROR	=
STD	= -std=c11 -D_POSIX_C_SOURCE=200809L
LDFLAGS	=
SANITIZED =

# Dependencies through pkg-config; LMDB upstream ships no .pc file.
PKG_CFLAGS != pkg-config --cflags libcurl json-c lmdb 2>/dev/null || true
CURL_LIBS  != pkg-config --libs libcurl 2>/dev/null || echo -lcurl
JSONC_LIBS != pkg-config --libs json-c 2>/dev/null || echo -ljson-c
LMDB_LIBS  != pkg-config --libs lmdb 2>/dev/null || echo -llmdb
CHECK_CFLAGS != pkg-config --cflags check 2>/dev/null || true
CHECK_LIBS != pkg-config --libs check 2>/dev/null || \
	      echo -lcheck -lsubunit -lm -lrt -pthread
LIBS	= -Wl,--as-needed $(CURL_LIBS) $(JSONC_LIBS) $(LMDB_LIBS) -lm -pthread

# Debian packages: what `make deps` installs when missing (openssl: the
# test CA and HTTPS server of tests/cli/tls.sh).
DEBS	= build-essential pkg-config libcurl4-openssl-dev libjson-c-dev \
	  liblmdb-dev check locales mandoc jq gnuplot-nox openssl

ALL_CFLAGS = $(STD) $(WARN) $(WERROR) $(CFLAGS) $(PKG_CFLAGS) -Ilibcoin -Icmd

LIB_SRC	= $(wildcard libcoin/*.c)
LIB_OBJ	= $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_HDR	= $(wildcard libcoin/*.h)
CMDS	= $(filter-out util,$(basename $(notdir $(wildcard cmd/*.c))))
BINS	= $(CMDS:%=$(BUILD)/%)
UTIL_OBJ = $(BUILD)/cmd/util.o
UNIT_SRC = $(wildcard tests/check_*.c)
TEST_TOOLS = $(basename $(notdir $(wildcard tests/tools/*.c)))
MAN	= $(wildcard man/*.[1-9])

.PHONY: all check test unit cli deps install uninstall clean sanitize lint \
	analyze run bench torture

all: $(BINS)

$(BUILD)/libcoin.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(BUILD)/%.o: %.c $(LIB_HDR) cmd/util.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/%: $(BUILD)/cmd/%.o $(UTIL_OBJ) $(BUILD)/libcoin.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(UTIL_OBJ) $(BUILD)/libcoin.a \
	    $(LIBS)

# libcoin's allocations go through tests/alloc_hook.c, which can fail them;
# its LMDB commits, map growth and read transactions through
# tests/lmdb_hook.c, likewise.
$(BUILD)/check_libcoin: $(UNIT_SRC) tests/check_main.h tests/alloc_hook.c \
    tests/alloc_hook.h tests/lmdb_hook.c tests/lmdb_hook.h $(BUILD)/libcoin.a
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itests $(LDFLAGS) \
	    -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup \
	    -Wl,--wrap=free,--wrap=newlocale \
	    -Wl,--wrap=mdb_txn_commit,--wrap=mdb_env_set_mapsize \
	    -Wl,--wrap=mdb_txn_begin \
	    -o $@ $(UNIT_SRC) tests/alloc_hook.c tests/lmdb_hook.c \
	    $(BUILD)/libcoin.a $(LIBS) $(CHECK_LIBS)

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libcoin.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcoin.a $(LIBS)

# A locale whose decimal mark is a comma, made without root.
$(BUILD)/locale/de_DE.UTF-8:
	@mkdir -p $(@D)
	localedef -i de_DE -f UTF-8 $@ 2>/dev/null || test -d $@

# `make check` first installs what a fresh Debian machine lacks.
check: deps
	$(MAKE) test

test: unit cli

unit: $(BUILD)/check_libcoin $(BUILD)/locale/de_DE.UTF-8
	LOCPATH=$(CURDIR)/$(BUILD)/locale $(BUILD)/check_libcoin

cli: all $(TEST_TOOLS:%=$(BUILD)/tools/%) $(BUILD)/locale/de_DE.UTF-8
	BUILD=$(BUILD) SANITIZED=$(SANITIZED) LOCPATH=$(CURDIR)/$(BUILD)/locale \
	    sh tests/cli/run.sh

# The long loops: 10,000 kill -9 iterations of each writer.
torture: all $(TEST_TOOLS:%=$(BUILD)/tools/%)
	CRASH_ITERATIONS=10000 BUILD=$(BUILD) sh tests/cli/crash.sh

# The whole suite again under AddressSanitizer and UndefinedBehaviorSanitizer.
SAN = -fsanitize=address,undefined -fno-sanitize-recover=all \
      -fno-omit-frame-pointer
# libcurl's libp11-kit and glibc's newlocale() leak a few bytes of their
# own when LOCPATH is set: tests/data/lsan.supp names them, nothing else.
# The sanitizers make the code several times slower, and Check's
# timeouts (4 s a test unless its case says) grow with them.
sanitize: deps
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/data/lsan.supp:print_suppressions=0 \
	    CK_TIMEOUT_MULTIPLIER=5 $(MAKE) BUILD=$(BUILD)/sanitize CFLAGS="-O1 -g $(SAN)" \
	    LDFLAGS="$(SAN)" SANITIZED=1 test

deps:
	@sh .ci/deps $(DEBS)

# One fetch-store-stddev-rank cycle into the default store, shown as a
# table; the status is that of the first stage that failed.
run: deps
	@$(MAKE) --no-print-directory all
	@PATH="$(CURDIR)/$(BUILD):$$PATH" sh examples/cycle.sh

# Side by side with the tools users would pick instead: BENCH=quick
# (1,000 pairs x 1,440 minutes) or BENCH=full (10,000 x 1,440).
BENCH = quick
bench: deps
	$(MAKE) all $(BUILD)/tools/genticks
	BUILD=$(BUILD) sh tests/bench/run.sh $(BENCH)

lint:
	mandoc -Tlint -W warning $(MAN)
	@! grep -nE '\b(sprintf|strcpy|strcat|strtok|atoi|gets)\(' \
	    cmd/*.c libcoin/*.c || { echo 'banned function' >&2; false; }
	@for f in cmd/*.[ch] libcoin/*.[ch] tests/*.[ch] tests/tools/*.c; do \
		expand "$$f" | awk -v f="$$f" 'length > 80 { \
		    print f ":" NR ": over 80 columns"; bad = 1 } \
		    END { exit bad }' || exit 1; \
	done
	@! nm -g --defined-only $(BUILD)/libcoin.a | \
	    awk 'NF == 3 && $$3 !~ /^coin_/ { print "exported: " $$3 }' | grep .

analyze:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --inline-suppr -Ilibcoin -Icmd libcoin cmd
	# A finding of the analyzer is an error; its .plist files go.
	clang --analyze -Xclang -analyzer-werror \
	    -Xanalyzer -analyzer-output=text $(STD) -Ilibcoin -Icmd \
	    $(PKG_CFLAGS) libcoin/*.c cmd/*.c; rc=$$?; rm -f *.plist; \
	    exit $$rc

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man7
	cp -f $(BINS) $(DESTDIR)$(BINDIR)
	for m in $(MAN); do \
		s=$${m##*.}; cp -f $$m $(DESTDIR)$(MANDIR)/man$$s/; \
	done

uninstall:
	for b in $(CMDS); do rm -f $(DESTDIR)$(BINDIR)/$$b; done
	for m in $(MAN); do \
		s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; \
	done

clean:
	rm -rf $(BUILD)

.SECONDARY:

# ------------------------------------------------------------------
# Proving tools: fuzzing, coverage, valgrind (issue 5).
#
# `make fuzz' builds each libFuzzer harness of tests/fuzz with clang,
# ASan and UBSan into build/fuzz/ and runs it for FUZZ_SECONDS on a
# scratch copy of its corpus (build/fuzz/work/TARGET: what it finds
# stays there; commit only what should join tests/fuzz/corpus).  Crash
# inputs land in build/fuzz/artifacts/.  `make test' replays the corpora
# without libFuzzer: tests/tools/fuzzreplay.c holds every harness, and
# tests/cli/fuzz.sh runs it.
.PHONY: fuzz coverage valgrind

FUZZ_SECONDS = 60
FUZZ_DIR = build/fuzz
FUZZ_TARGETS = $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_BINS = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)
FUZZ_CFLAGS = -O1 -g -fsanitize=fuzzer,address,undefined \
	      -fno-sanitize-recover=all -fno-omit-frame-pointer

$(FUZZ_BINS): $(FUZZ_DIR)/%: tests/fuzz/%.c $(LIB_SRC) $(LIB_HDR)
	@mkdir -p $(@D)
	clang $(STD) $(WARN) $(WERROR) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -Ilibcoin \
	    -o $@ $< $(LIB_SRC) $(LIBS) -pthread

$(BUILD)/tools/fuzzreplay: tests/fuzz/replay_main.c \
    $(wildcard tests/fuzz/fuzz_*.c)

fuzz:
	@sh .ci/deps clang libclang-rt-14-dev
	$(MAKE) $(FUZZ_BINS)
	@mkdir -p $(FUZZ_DIR)/artifacts
	@for t in $(FUZZ_TARGETS); do \
		rm -rf $(FUZZ_DIR)/work/$$t; \
		mkdir -p $(FUZZ_DIR)/work/$$t; \
		cp tests/fuzz/corpus/$$t/* $(FUZZ_DIR)/work/$$t/; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		$(FUZZ_DIR)/$$t -max_len=4096 -timeout=20 \
		    -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		    -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- \
		    $(FUZZ_DIR)/work/$$t || exit 1; \
	done

# `make coverage': the whole test suite built with gcov into
# build/coverage, then line and branch coverage of each libcoin file.
COV_DIR = build/coverage
GCOVR = gcovr -r . --object-directory $(COV_DIR) --filter 'libcoin/' \
	--exclude-unreachable-branches

coverage:
	@sh .ci/deps gcovr
	@mkdir -p $(COV_DIR)
	find $(COV_DIR) -name '*.gcda' -delete
	$(MAKE) BUILD=$(COV_DIR) CFLAGS="-O0 -g --coverage" \
	    LDFLAGS=--coverage test; \
	rc=$$?; \
	$(GCOVR) $(COV_DIR) && $(GCOVR) --branches $(COV_DIR) && exit $$rc

# `make valgrind': the shell suite with each command run by memcheck.
# build/valgrind holds scripts named as the commands that exec valgrind
# on the real ones, and tools/, a link to the real tools; tests/cli
# runs with BUILD=build/valgrind.  Each command writes its own log into
# build/valgrind/log, on a descriptor of its own (a test that closes
# stdout must find it closed); any error, or a block definitely lost,
# exits 99 and is listed.  SANITIZED and VALGRIND shorten or skip what
# cannot run there (preloaded fault shims, kills timed in milliseconds).
VG_DIR = build/valgrind
VALGRIND = valgrind
VALGRIND_OPTS = --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite \
		--suppressions=$(CURDIR)/tests/valgrind.supp

valgrind:
	@sh .ci/deps valgrind
	$(MAKE) all $(TEST_TOOLS:%=$(BUILD)/tools/%) $(BUILD)/locale/de_DE.UTF-8
	rm -rf $(VG_DIR)
	mkdir -p $(VG_DIR)/log
	ln -s $(CURDIR)/$(BUILD)/tools $(VG_DIR)/tools
	@vg=$$(command -v $(VALGRIND)) && for c in $(CMDS); do \
		printf '#!/bin/sh\nexec 9>>%s.$$$$.log\nexec %s %s %s "$$@"\n' \
		    "$(CURDIR)/$(VG_DIR)/log/$$c" "$$vg" "$(VALGRIND_OPTS)" \
		    "--log-fd=9 $(CURDIR)/$(BUILD)/$$c" >$(VG_DIR)/$$c; \
		chmod +x $(VG_DIR)/$$c; \
	done
	BUILD=$(VG_DIR) SANITIZED=1 VALGRIND=1 \
	    LOCPATH=$(CURDIR)/$(BUILD)/locale sh tests/cli/run.sh; \
	rc=$$?; \
	echo "valgrind: $$(ls $(VG_DIR)/log | wc -l) processes checked"; \
	if grep -lE 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]' \
	    $(VG_DIR)/log/*; then \
		echo 'valgrind: errors in the logs above' >&2; exit 1; \
	fi; \
	exit $$rc
