#!/bin/sh
# process.sh - signals, pipes, permissions, and many processes at once.
. "$(dirname "$0")/lib.sh"

NOW=$(date +%s)
T0=$(( (NOW - 7200) / 60 * 60 ))
batch() {	# batch TS [PREFIX]: 30 ticks at TS
	awk -v ts="$1" -v pre="${2:-s}" 'BEGIN { for (p = 0; p < 30; p++)
	    printf "{\"pair\":\"%s%02d/usd\",\"ts\":%d,\"price\":%d.25}\n",
	    pre, p, ts, p + 1 }'
}

# --- SIGTERM during ingest: committed batches stay, the store is sound -
# (Not under valgrind: the kill lands before its start-up ends.)
if [ -z "${VALGRIND:-}" ]; then
	rm -rf "$WORK/t"
	mkfifo "$WORK/fifo"
	coinstore --db "$WORK/t" <"$WORK/fifo" >"$WORK/term-echo" 2>"$ERR" &
	pid=$!
	exec 3>"$WORK/fifo"
	for m in 0 1 2; do batch $((T0 + m * 60)) >&3; sleep 0.1; done
	batch $((T0 + 180)) | head -n 10 >&3	# a batch still open
	sleep 0.1
	kill -TERM $pid
	wait $pid 2>/dev/null
	rc=$?
	exec 3>&-
	T="SIGTERM during ingest"
	same "$rc" 143 "status after SIGTERM"
	same "$(wc -l <"$WORK/term-echo" | tr -d ' ')" 100 \
	    "echoed: three batches and the open part"
	run "check after SIGTERM" coinstore --db "$WORK/t" --check
	is_status 0
	same "$(coinstore --db "$WORK/t" --dump | wc -l | tr -d ' ')" 100 \
	    "stored after SIGTERM"
fi

# --- a new store, made by two processes at once ------------------------
# The first run of the job: coinstore and coinstddev both open a store
# that does not exist yet, at the same moment.
T="a new store opened by a whole pipeline at once"
bad=0
for i in $(seq 1 30); do
	batch "$T0" | coinstore --db "$WORK/new$i" |
	    coinstddev --db "$WORK/new$i" >/dev/null 2>>"$WORK/newerr" ||
	    bad=$((bad + 1))
	coinrank --db "$WORK/new$i" >/dev/null 2>>"$WORK/newerr" ||
	    bad=$((bad + 1))
done
same "$bad" 0 "failed runs (of 30): $(head -c 300 "$WORK/newerr")"

# --- an opener killed while it made the lock file --------------------
# It held LMDB's lock on a lock file it never initialised (empty, or
# sized and zero): whoever waited on it must not call the store corrupt,
# but make the lock file anew, writer and reader alike.
batch "$T0" | coinstore --db "$WORK/lk" -q
printf '{"pair":"lk/usd","ts":%d,"price":2}\n' "$T0" >"$WORK/lk.ndjson"
for size in 0 8192; do
	for cmd in "coinstore -q $WORK/lk.ndjson" "coinstore --dump" \
	    "coinstore --pairs"; do
		rm -f "$WORK/lk/lock.mdb" "$WORK/held"
		lockhold "$WORK/lk/lock.mdb" 300 $size >"$WORK/held" &
		lp=$!
		while [ ! -s "$WORK/held" ]; do sleep 0.01; done
		run "lock file left unmade ($size bytes): ${cmd%% /*}" \
		    $cmd --db "$WORK/lk"
		wait $lp
		is_status 0
		err_empty
	done
done
same "$(coinstore --db "$WORK/lk" --dump | grep -c lk/usd)" 1 \
    "the tick stored past an unmade lock file"
run "check after the unmade lock files" coinstore --db "$WORK/lk" --check
is_status 0

# --- a reader that goes away, with SIGPIPE ignored by the parent too --
for m in $(seq 0 59); do batch $((T0 + m * 60)); done >"$WORK/hour"
coinstore --db "$WORK/t" -q "$WORK/hour"
coinstddev --db "$WORK/t" "$WORK/hour" >/dev/null
for cmd in "coinstore --dump" "coinrank" "coinstddev --all" \
    "coinstore --pairs"; do
	T="$cmd | head -1, SIGPIPE ignored"
	(trap '' PIPE; $cmd --db "$WORK/t" 2>"$ERR" | head -1 >/dev/null)
	err_empty
	T="$cmd | head -1"
	($cmd --db "$WORK/t" 2>"$ERR" | head -1 >/dev/null)
	err_empty
done
T="coinstore ingest | head -1, SIGPIPE ignored"
(trap '' PIPE; coinstore --db "$WORK/t2" <"$WORK/hour" 2>"$ERR" |
    head -1 >/dev/null)
err_empty
same "$(coinstore --db "$WORK/t2" --dump | wc -l | tr -d ' ')" 1800 \
    "stored though the reader left"
T="closed stdout"
coinstore --db "$WORK/t" --dump >&- 2>"$ERR"
rc=$?
is_status 74
err_has "coinstore: stdout:"

# --- a world-writable store directory is warned about -----------------
mkdir -p "$WORK/ww"
batch "$T0" | coinstore --db "$WORK/ww" -q
chmod 777 "$WORK/ww"
run "world-writable store" coinstore --db "$WORK/ww" --dump --latest s00/usd
is_status 0
err_is "coinstore: $WORK/ww: store directory is writable by anyone (chmod 700 it)"
T="umask respected"
(umask 077; batch "$T0" | coinstore --db "$WORK/um/db" -q)
same "$(stat -c %a "$WORK/um/db/data.mdb")" 600 "data.mdb under umask 077"
(umask 027; batch "$T0" | coinstore --db "$WORK/um2" -q)
same "$(stat -c %a "$WORK/um2")" 700 "store directory under umask 027"

# --- ten writers and twenty readers, with random kills ----------------
# Each writer sends its own pairs' batches, with pauses; readers dump in
# loops and check that every batch they see is whole; some writers are
# killed -9 midway.  Afterwards: sound, and each writer's echo stored.
rm -rf "$WORK/m"
batch "$T0" w00 | coinstore --db "$WORK/m" -q
DUR=${STRESS_SECONDS:-15}
end=$(( $(date +%s) + DUR ))
i=0
while [ $i -lt 10 ]; do
	(
		m=0
		while [ "$(date +%s)" -lt "$end" ]; do
			batch $((T0 + m * 60)) "w$i-"
			sleep 0.0$(( (i * 7 + m) % 9 + 1 ))
			m=$((m + 1))
		done
	) | coinstore --db "$WORK/m" >"$WORK/echo$i" 2>"$WORK/err$i" &
	eval "w$i=$!"
	i=$((i + 1))
done
i=0
while [ $i -lt 20 ]; do
	(
		bad=0
		while [ "$(date +%s)" -lt "$end" ]; do
			coinstore --db "$WORK/m" --dump 2>>"$WORK/rerr$i" |
			    awk -F'"' '{ w = substr($4, 1, length($4) - 6)
				n[w " " $7]++ }
			    END { for (k in n) if (n[k] != 30) exit 1 }' ||
			    bad=$((bad + 1))
			if [ $((i % 4)) = 0 ]; then
				coinrank --db "$WORK/m" >/dev/null \
				    2>>"$WORK/rerr$i"
			fi
		done
		echo "$bad" >"$WORK/torn$i"
	) &
	i=$((i + 1))
done
# Kill three writers -9 at some point (the pipelines' coinstore).
sleep $((DUR / 3))
kill -9 $w2 $w5 $w8 2>/dev/null
wait
T="stress: readers saw whole batches"
same "$(cat "$WORK"/torn* | awk '{ s += $1 } END { print s + 0 }')" 0 \
    "reads with a torn batch"
# Each reader has a stderr file of its own: the lines of several
# processes appending to one file can interleave.
cat "$WORK"/rerr* 2>/dev/null | grep -v 'no ranking stored yet' \
    >"$WORK/rerrs"
same "$(wc -l <"$WORK/rerrs" | tr -d ' ')" 0 \
    "reader errors ($(head -2 "$WORK/rerrs"))"
run "stress: check" coinstore --db "$WORK/m" --check
is_status 0
coinstore --db "$WORK/m" --dump | sort >"$WORK/all"
sort "$WORK"/echo* | sed '/[^}]$/d' >"$WORK/echoed"
same "$(comm -23 "$WORK/echoed" "$WORK/all" | wc -l | tr -d ' ')" 0 \
    "echoed ticks lost"
[ "$(wc -l <"$WORK/echoed")" -gt 1000 ] && pass ||
    fail "too little was written: $(wc -l <"$WORK/echoed")"

finish
