#!/bin/sh
# faults.sh - disk full and I/O errors at each write, sync and open of
# the store (an LD_PRELOAD shim, tests/preload/faultfs.c): a clear error,
# status 74, nothing echoed for the failed batch, and a sound store that
# takes the next run once the fault is gone.  And the child that walks
# the store for --check dying of a signal: one message, status 74.
. "$(dirname "$0")/lib.sh"

# The sanitizers' runtime must come first: no preloading under them.
if [ -n "${SANITIZED:-}" ]; then
	echo "faults: not under the sanitizers (LD_PRELOAD)"
	finish
	exit
fi
${CC:-cc} -shared -fPIC -O1 -o "$WORK/faultfs.so" \
    "$ROOT/tests/preload/faultfs.c" -ldl || fail "cannot build the shim"

NOW=$(date +%s)
T0=$(( (NOW - 7200) / 60 * 60 ))
batch() {	# batch TS: 50 ticks at TS
	awk -v ts="$1" 'BEGIN { for (p = 0; p < 50; p++)
	    printf "{\"pair\":\"f%02d/usd\",\"ts\":%d,\"price\":%d.5}\n",
	    p, ts, p + 1 }'
}

n=0
for call in write sync open; do
	for err in ENOSPC EIO; do
		for after in 0 1 2 3 5 8 13; do
			n=$((n + 1))
			db=$WORK/f$n
			batch "$T0" | coinstore --db "$db" -q
			batch "$((T0 + 60))" >"$WORK/b2"
			T="$call fails with $err after $after: coinstore"
			LD_PRELOAD=$WORK/faultfs.so FAULT_CALL=$call \
			    FAULT_ERRNO=$err FAULT_AFTER=$after \
			    coinstore --db "$db" "$WORK/b2" >"$OUT" 2>"$ERR"
			rc=$?
			case $rc in
			0)	out_is "$(cat "$WORK/b2")" ;;
			74)	out_empty
				case $err in
				ENOSPC) err_has "No space left on device" ;;
				EIO) err_has "Input/output error" ;;
				esac ;;
			*)	fail "status $rc: $(cat "$ERR")" ;;
			esac
			# Once the fault is gone: sound, whole, and writable.
			coinstore --db "$db" --check >/dev/null 2>"$ERR" ||
			    fail "check after the fault: $(cat "$ERR")"
			c=$(coinstore --db "$db" --dump | wc -l | tr -d ' ')
			[ "$c" = 50 ] || [ "$c" = 100 ] ||
			    fail "$c ticks after the fault: a torn batch"
			coinstore --db "$db" -q "$WORK/b2" ||
			    fail "the next run failed"
			# The same fault under coinstddev.
			T="$call fails with $err after $after: coinstddev"
			LD_PRELOAD=$WORK/faultfs.so FAULT_CALL=$call \
			    FAULT_ERRNO=$err FAULT_AFTER=$after \
			    coinstddev --db "$db" "$WORK/b2" >"$OUT" 2>"$ERR"
			rc=$?
			case $rc in
			0)	same "$(wc -l <"$OUT" | tr -d ' ')" 50 "stats" ;;
			74)	out_empty ;;
			*)	fail "status $rc: $(cat "$ERR")" ;;
			esac
			coinstore --db "$db" --check >/dev/null 2>"$ERR" ||
			    fail "check after the fault: $(cat "$ERR")"
			coinstddev --db "$db" "$WORK/b2" >/dev/null 2>"$ERR" ||
			    fail "the next coinstddev failed: $(cat "$ERR")"
		done
	done
done

# A backup that cannot be written leaves no data.mdb behind.
for call in write sync open; do
	T="backup, $call fails"
	LD_PRELOAD=$WORK/faultfs.so FAULT_CALL=$call FAULT_PATH=bk-$call \
	    coinstore --db "$WORK/f1" --backup "$WORK/bk-$call" \
	    >"$OUT" 2>"$ERR"
	rc=$?
	is_status 74
	[ ! -e "$WORK/bk-$call/data.mdb" ] && pass ||
	    fail "a failed backup left a data.mdb"
	coinstore --db "$WORK/f1" --backup "$WORK/bk-$call" 2>"$ERR" ||
	    fail "the backup after the fault: $(cat "$ERR")"
done

# The walk of --check crashing in its child, as a damaged page would
# make it: at its first read of the store or midway.  A SIGSEGV or
# SIGBUS is the child's own handler's message; any other signal kills
# it, and the parent says so.  Either way one line, status 74, nothing
# on stdout, and the store as it was, sound and writable.
db=$WORK/sig
batch "$T0" | coinstore --db "$db" -q
batch "$((T0 + 60))" | coinstore --db "$db" -q
sum=$(cksum <"$db/data.mdb")
coinstore --db "$db" --dump >"$WORK/dump"
died="on damaged data: the store is corrupt"
for sig in SEGV BUS ABRT KILL; do
	case $sig in
	SEGV|BUS) msg="store is corrupt (reading it crashed)" ;;
	ABRT)	msg="the check died of signal 6 $died" ;;
	KILL)	msg="the check died of signal 9 $died" ;;
	esac
	for after in 0 60; do
		T="--check dies of SIG$sig after $after reads"
		LD_PRELOAD=$WORK/faultfs.so FAULT_CALL=cursor \
		    FAULT_SIGNAL=$sig FAULT_AFTER=$after \
		    coinstore --db "$db" --check >"$OUT" 2>"$ERR"
		rc=$?
		is_status 74
		out_empty
		err_is "coinstore: $db: $msg; restore a --backup"
		same "$(cksum <"$db/data.mdb")" "$sum" "data.mdb"
	done
done
T="--check after the crashes"
coinstore --db "$db" --check >"$OUT" 2>"$ERR"
rc=$?
is_status 0
err_empty
coinstore --db "$db" --dump | cmp -s - "$WORK/dump" && pass ||
    fail "the ticks changed"
batch "$((T0 + 120))" | coinstore --db "$db" -q && pass ||
    fail "the next run failed"
same "$(coinstore --db "$db" --dump | wc -l | tr -d ' ')" 150 "ticks"

finish
