#!/bin/sh
# damage.sh - damaged stores: empty, cut short, random bytes, flipped
# bits, zeroed pages.  Every command says "corrupt" (or "damaged") and
# exits 74, or finds nothing wrong and exits 0; none dies of a signal.
# An empty data file holds nothing (a store being made looks the same):
# readers say there is no store (66), writers make it.
. "$(dirname "$0")/lib.sh"

NOW=$(date +%s)
T0=$(( (NOW - 7200) / 60 * 60 ))
awk -v t0="$T0" 'BEGIN { for (m = 0; m < 120; m++) for (p = 0; p < 150; p++)
	printf "{\"pair\":\"d%03d/usd\",\"ts\":%d,\"price\":%d.%d}\n",
	    p, t0 + m * 60, 1 + p, m }' >"$WORK/in"
coinstore -q "$WORK/in" && coinstddev "$WORK/in" >/dev/null ||
    fail "cannot make the store to damage"
SIZE=$(stat -c %s "$COIN_DB/data.mdb")

# damage KIND N: a copy of the store, damaged the N-th way of KIND.
damage() {
	rm -rf "$WORK/d"
	mkdir -p "$WORK/d"
	cp "$COIN_DB/data.mdb" "$WORK/d/"
	f=$WORK/d/data.mdb
	case $1 in
	empty)	: >"$f" ;;
	cut)	truncate -s $(( SIZE * $2 / 10 )) "$f" ;;
	random)	head -c "$SIZE" /dev/urandom >"$f" ;;
	bits)	awk -v n="$2" -v size="$SIZE" 'BEGIN { srand(n)
		    for (i = 0; i < 3 * n; i++)
			printf "%d %d\n", int(rand() * size), int(rand() * 256) }' |
		while read -r off byte; do
			printf "$(printf '\\%03o' "$byte")" |
			    dd of="$f" bs=1 seek="$off" conv=notrunc 2>/dev/null
		done ;;
	zeros)	dd if=/dev/zero of="$f" bs=4096 seek=$(( $2 * 3 )) count=4 \
		    conv=notrunc 2>/dev/null ;;
	esac
}

# Under the sanitizers a pointer read from a damaged page is their
# report, not our message: the kinds that reach one run without them.
kinds="empty cut random bits zeros"
[ -n "${SANITIZED:-}" ] && kinds="empty cut random"
for kind in $kinds; do
	for n in 1 3 5 7 9; do
		damage "$kind" "$n"
		for cmd in "coinstore --check" "coinstore --dump" \
		    "coinstore --pairs" "coinstore --stats" \
		    "coinstore --dump --latest d007/usd" "coinrank" \
		    "coinrank --pair d001/usd --history 1h" \
		    "coinstddev --all"; do
			T="$kind $n: $cmd"
			$cmd --db "$WORK/d" >/dev/null 2>"$ERR"
			rc=$?
			case $kind,$rc in
			empty,66) if grep -qE 'no store here|no ticks' "$ERR"
				then pass
				else fail "66 without saying why: $(cat "$ERR")"; fi ;;
			*,0)	pass ;;
			*,74)	if grep -qE 'corrupt|damaged' "$ERR"; then pass
				else fail "74 without saying so: $(cat "$ERR")"; fi ;;
			*)	fail "status $rc: $(head -c 300 "$ERR")" ;;
			esac
		done
		[ "$kind" = empty ] || [ "$kind" = random ] && break
	done
done

# Writing on a damaged store fails the same way, and never hides it.
damage cut 5
T="ingest into a damaged store"
coinstore --db "$WORK/d" -q "$WORK/in" 2>"$ERR"
rc=$?
case $rc in 0|74) pass ;; *) fail "status $rc: $(cat "$ERR")" ;; esac

finish
