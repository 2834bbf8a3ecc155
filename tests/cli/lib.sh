# lib.sh - what every shell test sources: a scratch store, the binaries
# on PATH, and the assertions.  Sourced by tests/cli/*.sh (run by run.sh).
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=$ROOT/${BUILD:-build}
PATH=$BUILD_DIR:$BUILD_DIR/tools:$PATH
LC_ALL=C
export PATH LC_ALL
unset COINGECKO_API_KEY COINGECKO_API_URL COIN_DB XDG_DATA_HOME LANG \
    LC_NUMERIC

WORK=$(mktemp -d "${TMPDIR:-/tmp}/coin-test.XXXXXX") || exit 1
CLEANUP=
# Register a command run at exit (servers to stop, and the like).
at_exit() { CLEANUP="$1; $CLEANUP"; }
trap 'eval "$CLEANUP"; rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM HUP
COIN_DB=$WORK/db
export COIN_DB

# is_usage PROG WHY: the last run was refused as a bad usage: 64,
# nothing on stdout, "PROG: WHY" then PROG's usage on stderr.
is_usage() {
	is_status 64
	out_empty
	same "$(sed -n 1p "$ERR")" "$1: $2" "reason"
	case $(sed -n 2p "$ERR") in
	"usage: $1 ["*) pass ;;
	*) fail "no usage after the reason: $(cat "$ERR")" ;;
	esac
}

# The tests that talk HTTP: no proxy, no host but 127.0.0.1; the
# sanitizers' leak reports of system libraries suppressed; SLOW, how far
# time limits stretch under the sanitizers and valgrind.
net_setup() {
	unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY \
	    all_proxy NO_PROXY no_proxy
	LSAN_OPTIONS=suppressions=$ROOT/tests/data/lsan.supp
	LSAN_OPTIONS=$LSAN_OPTIONS:print_suppressions=0
	export LSAN_OPTIONS
	SLOW=1
	if [ -n "${VALGRIND:-}" ]; then
		SLOW=5
	elif [ -n "${SANITIZED:-}" ]; then
		SLOW=2
	fi
}

npass=0
nfail=0
T=
OUT=$WORK/stdout
ERR=$WORK/stderr

pass() { npass=$((npass + 1)); }
fail() {
	nfail=$((nfail + 1))
	printf 'FAIL %s: %s: %s\n' "${0##*/}" "$T" "$*" >&2
}

# run NAME CMD...: run CMD (stdin as given) into $OUT and $ERR; $rc.
run() {
	T=$1
	shift
	"$@" >"$OUT" 2>"$ERR"
	rc=$?
}

# t NAME STATUS "SHELL WORDS" "STDIN" "EXPECTED STDOUT": a table row.
# STDIN and EXPECTED STDOUT get a final newline when not empty.
t() {
	T=$1
	if [ -n "$4" ]; then printf '%s\n' "$4"; else :; fi |
	    eval "$3" >"$OUT" 2>"$ERR"
	rc=$?
	if [ -n "$5" ]; then printf '%s\n' "$5"; else :; fi >"$WORK/expect"
	if [ "$rc" != "$2" ]; then
		fail "status $rc, expected $2; stderr: $(head -c 600 "$ERR")"
	elif ! cmp -s "$OUT" "$WORK/expect"; then
		fail "stdout differs:
$(diff "$WORK/expect" "$OUT" | head -20)"
	else
		pass
	fi
}

# Assertions on the last run or t.
is_status() {
	if [ "$rc" = "$1" ]; then pass; else
		fail "status $rc, expected $1; stderr: $(head -c 600 "$ERR")"
	fi
}
out_is() {
	printf '%s\n' "$1" >"$WORK/expect"
	if cmp -s "$OUT" "$WORK/expect"; then pass; else
		fail "stdout differs:
$(diff "$WORK/expect" "$OUT" | head -20)"
	fi
}
out_empty() {
	if [ ! -s "$OUT" ]; then pass; else
		fail "stdout not empty: $(head -c 300 "$OUT")"
	fi
}
err_is() {
	printf '%s\n' "$1" >"$WORK/expect"
	if cmp -s "$ERR" "$WORK/expect"; then pass; else
		fail "stderr differs:
$(diff "$WORK/expect" "$ERR" | head -20)"
	fi
}
err_has() {
	if grep -qF -- "$1" "$ERR"; then pass; else
		fail "stderr lacks '$1': $(head -c 600 "$ERR")"
	fi
}
err_empty() {
	if [ ! -s "$ERR" ]; then pass; else
		fail "stderr not empty: $(head -c 600 "$ERR")"
	fi
}
# same A B [WHAT]: two strings are equal.
same() {
	if [ "$1" = "$2" ]; then pass; else
		fail "${3:-value}: got '$1', expected '$2'"
	fi
}

# The last line, read by run.sh.
finish() {
	printf '%s: %d passed, %d failed\n' "${0##*/}" "$npass" "$nfail"
	[ "$nfail" -eq 0 ]
}
