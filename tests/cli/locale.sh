#!/bin/sh
# locale.sh - output is byte for byte the same under a locale whose
# decimal mark is a comma (made by make into LOCPATH), and in bounded
# memory for a single 100 MiB line.
. "$(dirname "$0")/lib.sh"

NOW=$(date +%s)
T0=$(( (NOW - 7200) / 60 * 60 ))
awk -v t0="$T0" 'BEGIN { for (m = 0; m < 90; m++) for (p = 0; p < 20; p++)
	printf "{\"pair\":\"l%02d/usd\",\"ts\":%d,\"price\":%.6f}\n",
	    p, t0 + m * 60, (p + 1) * (1 + 0.001 * ((m * 7 + p) % 13)) }' \
    >"$WORK/in"

if [ "$(LC_ALL=de_DE.UTF-8 locale decimal_point 2>/dev/null)" != "," ]; then
	T="de_DE.UTF-8"
	fail "no de_DE.UTF-8 locale with a decimal comma (LOCPATH=${LOCPATH:-})"
fi
# Each command's output in C and in de_DE, from twin stores.
for loc in C de_DE.UTF-8; do
	db=$WORK/db-$loc
	(
		export LC_ALL=$loc COIN_DB=$db
		coinstore <"$WORK/in"
		coinstore --dump --latest
		coinstore --pairs
		coinstddev -w 30m <"$WORK/in" | tail -40
		coinstddev --all --population
		coinrank
		coinrank --json --top 3
		coinrank --pair l05/usd --history 10m
		coinstddev -w 1h <"$WORK/in" | coinrank - | tail -20
		coinstore --stats | sed 's/"db":"[^"]*",//'
	) >"$WORK/out-$loc" 2>"$WORK/err-$loc"
done
T="byte-identical output under de_DE.UTF-8"
if cmp -s "$WORK/out-C" "$WORK/out-de_DE.UTF-8"; then pass; else
	fail "$(diff "$WORK/out-C" "$WORK/out-de_DE.UTF-8" | head -5)"
fi
[ "$(wc -l <"$WORK/out-C")" -gt 1900 ] && pass || fail "too little output"
same "$(cat "$WORK/err-C" "$WORK/err-de_DE.UTF-8")" "" "messages"

# A single line of 100 MiB between two good ones: refused, in bounded
# memory, the good ones stored.
if [ -z "${SANITIZED:-}" ]; then
	{ head -1 "$WORK/in"; head -c 104857600 /dev/zero | tr '\0' 'x';
	    echo; sed -n 2p "$WORK/in"; } >"$WORK/big"
	T="a 100 MiB line"
	COIN_DB=$WORK/bl peakrss "$WORK/rss" coinstore -q "$WORK/big" 2>"$ERR"
	rc=$?
	is_status 65
	err_is "coinstore: $WORK/big:2: line longer than 1 MiB"
	kb=$(cat "$WORK/rss")
	[ "$kb" -lt 16384 ] && pass || fail "$kb KiB for a 100 MiB line"
	echo "memory: $kb KiB anonymous peak for a 100 MiB line"
	same "$(COIN_DB=$WORK/bl coinstore --dump | wc -l | tr -d ' ')" 2 \
	    "good lines stored"
fi

finish
