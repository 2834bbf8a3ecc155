#!/bin/sh
# crash.sh - kill -9 the writers at random points, again and again: the
# store must open, pass --check, hold all that was echoed, hold batches
# whole, and take the next run without repair.  CRASH_ITERATIONS sets
# the count (make torture: 10,000).  The loops mostly wait on pauses,
# so the two run side by side.  A third, of a fifth as many, has 1,200
# pairs, so that each merge of the stage takes three transactions and
# a kill can land between them.
. "$(dirname "$0")/lib.sh"

N=${CRASH_ITERATIONS:-1000}
[ -n "${SANITIZED:-}" ] && N=${CRASH_ITERATIONS:-200}
# Under valgrind (make valgrind) start-up outlasts the kills' delays.
if [ -n "${VALGRIND:-}" ]; then
	echo "crash: not under valgrind (each kill lands before start-up ends)"
	finish
	exit
fi

mkdir -p "$WORK/c" "$WORK/c-s" "$WORK/c-w"
crashloop -n "$N" "$BUILD_DIR" "$WORK/c" >"$WORK/out" 2>"$WORK/err" &
p1=$!
crashloop -s -n "$N" -r 7 "$BUILD_DIR" "$WORK/c-s" >"$WORK/out-s" \
    2>"$WORK/err-s" &
p2=$!
for mode in "" -s; do
	if [ -z "$mode" ]; then wait $p1; else wait $p2; fi
	rc=$?
	T="crash loop${mode:+ with coinstddev}, $N iterations"
	if [ "$rc" -eq 0 ]; then pass; else
		fail "$(head -5 "$WORK/err$mode")"
	fi
	cat "$WORK/out$mode"
	# The stores it left are sound for the command too.
	for db in "$WORK/c$mode"/*; do
		coinstore --db "$db" --check >/dev/null 2>"$ERR" || {
			fail "coinstore --check $db: $(cat "$ERR")"; break; }
	done
done

T="crash loop, 1,200 pairs, $((N / 5)) iterations"
if crashloop -p 1200 -n $((N / 5)) -r 11 "$BUILD_DIR" "$WORK/c-w" \
    >"$WORK/out-w" 2>"$WORK/err-w"; then pass; else
	fail "$(head -5 "$WORK/err-w")"
fi
cat "$WORK/out-w"
for db in "$WORK/c-w"/*; do
	coinstore --db "$db" --check >/dev/null 2>"$ERR" || {
		fail "coinstore --check $db: $(cat "$ERR")"; break; }
done

finish
