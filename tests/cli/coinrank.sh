#!/bin/sh
# coinrank.sh - the real coinrank, from the store and from pipes, against
# a reference sort made here.
. "$(dirname "$0")/lib.sh"

NOW=$(date +%s)
T0=$(( (NOW - 86400) / 60 * 60 ))
TL=$((T0 + 1439 * 60))

# --- usage -------------------------------------------------------------
t "help" 0 "coinrank -h | head -1" "" \
    "usage: coinrank [--json | --table] [--top N | --pair PAIR [--history DURATION]]"
t "version" 0 "coinrank --version" "" "coinrank 0.1.0"
for bad in "--top 0" "--top x" "--top -3" "--pair nopair" "--history 1h" \
    "--pair a/b --history 0" "--at never" "--bogus" "--history 1h --pair a/b -" \
    "--at 1h -"; do
	run "usage: $bad" coinrank $bad
	is_status 64
	err_has "usage: coinrank"
done
run "no store" coinrank
is_status 66
err_has "no store here"

# --- a day for 300 pairs (432,000 ticks), with ties and single ticks --
# Pair k's prices alternate between two values 2 * (k % 40) apart, so
# pairs with equal k % 40 tie; k % 97 == 0 has a single tick.
awk -v t0="$T0" 'BEGIN {
	for (m = 0; m < 1440; m++)
		for (k = 0; k < 300; k++) {
			if (k % 97 == 0 && m < 1439) continue
			printf "{\"pair\":\"c%03d/usd\",\"ts\":%d,\"price\":%d}\n",
			    (k * 7) % 300, t0 + m * 60, 1000 + (m % 2) * 2 * (k % 40)
		}
}' >"$WORK/ticks"
coinstore -q "$WORK/ticks"
coinstddev -w 1h "$WORK/ticks" | tail -n 300 >"$WORK/stats"

# The reference: stddev descending, ties by pair, no stddev last.
jq -r '[(if .stddev == null then 1 else 0 end), (.stddev // 0), .pair] |
    @tsv' "$WORK/stats" | sort -t"$(printf '\t')" -k1,1n -k2,2gr -k3,3 |
    cut -f3 >"$WORK/order"
same "$(wc -l <"$WORK/order" | tr -d ' ')" 300 "reference size"

run "from the store" coinrank
is_status 0
err_empty
same "$(jq -r .pair "$OUT" | cksum)" "$(cksum <"$WORK/order")" \
    "ranking order"
same "$(jq -r '[.rank, .of] | @tsv' "$OUT" | awk '$1 != NR || $2 != 300' |
    wc -l | tr -d ' ')" 0 "rank and of"
same "$(head -1 "$OUT" | jq -c 'keys_unsorted')" \
    '["rank","of","pair","ts","window","n","mean","stddev","min","max","last"]' \
    "rank fields in order"
tail -3 "$OUT" | jq -e '.stddev == null and .n == 1' >/dev/null && pass ||
    fail "pairs without a stddev are not last"
cp "$OUT" "$WORK/full"

run "top 10" coinrank --top 10
is_status 0
same "$(cat "$OUT")" "$(head -10 "$WORK/full")" "top 10 is the head"
P=$(sed -n 123p "$WORK/order")
run "one pair" coinrank --pair "$P"
is_status 0
out_is "$(sed -n 123p "$WORK/full")"
run "one pair and a top" coinrank --pair "$P" --top 3
is_status 64
run "unknown pair" coinrank --pair zz/usd
is_status 66
err_has "zz/usd: not ranked at"
run "json forced" coinrank --json --top 1
out_is "$(head -1 "$WORK/full")"

# A table, forced (a terminal would get it unasked).
run "table" coinrank --table --top 3
is_status 0
same "$(head -1 "$OUT" | tr -s ' ')" " RANK PAIR STDDEV MEAN LAST N PRICES" \
    "table header"
same "$(sed -n 2p "$OUT" | awk '{ print $1, $2 }')" \
    "1 $(head -1 "$WORK/order")" "table first row"
same "$(wc -l <"$OUT" | tr -d ' ')" 4 "table rows"
run "table in ASCII" env LC_ALL=C coinrank -t -n 1
grep -q '[#*+=~._-]' "$OUT" && pass || fail "no ASCII sparkline"

# --- history and --at ---------------------------------------------------
coinstddev -w 1h "$WORK/ticks" >/dev/null
run "history" coinrank --pair "$P" --history 10m
is_status 0
same "$(jq -r .ts "$OUT" | tr '\n' ' ')" \
    "$(for m in 9 8 7 6 5 4 3 2 1 0; do printf '%s ' $((TL - m * 60)); done)" \
    "history times"
run "history of a pair not ranked" coinrank --pair zz/usd --history 1h
is_status 66
err_has "zz/usd: not ranked in that period"
run "at an earlier time" coinrank --at "$((TL - 90))" --top 1
is_status 0
same "$(jq -r .ts "$OUT")" "$((TL - 120))" "ranking at or before --at"
run "before any ranking" coinrank --at 1300000000
is_status 66
err_has "no ranking stored at or before"

# --- from stat records -------------------------------------------------
run "records from a pipe" sh -c "coinrank - <'$WORK/stats'"
is_status 0
same "$(cat "$OUT")" "$(cat "$WORK/full")" "a pipe ranks as the store"
# Two times, each ranked on its own; a repeated (ts, pair): the last wins.
S1="{\"pair\":\"a/usd\",\"ts\":$T0,\"window\":60,\"n\":2,\"mean\":1,\"stddev\":0.5,\"min\":1,\"max\":1,\"last\":1}"
S2="{\"pair\":\"b/usd\",\"ts\":$T0,\"window\":60,\"n\":2,\"mean\":1,\"stddev\":0.5,\"min\":1,\"max\":1,\"last\":1}"
S3="{\"pair\":\"c/usd\",\"ts\":$T0,\"window\":60,\"n\":1,\"mean\":1,\"stddev\":null,\"min\":1,\"max\":1,\"last\":1}"
S4="{\"pair\":\"a/usd\",\"ts\":$((T0 + 60)),\"window\":60,\"n\":2,\"mean\":1,\"stddev\":0.1,\"min\":1,\"max\":1,\"last\":1}"
S5="{\"pair\":\"b/usd\",\"ts\":$T0,\"window\":60,\"n\":2,\"mean\":1,\"stddev\":0.75,\"min\":1,\"max\":1,\"last\":1}"
t "records: ties, null, times, repeats" 0 "coinrank -" "$S4
$S3
$S1
$S2
$S5" "{\"rank\":1,\"of\":3,${S5#\{}
{\"rank\":2,\"of\":3,${S1#\{}
{\"rank\":3,\"of\":3,${S3#\{}
{\"rank\":1,\"of\":1,${S4#\{}"
# In order as coinstddev writes, but for a repeat right after the first.
t "records: in order, a repeat still replaces" 0 "coinrank -" "$S1
$S2
$S5" "{\"rank\":1,\"of\":2,${S5#\{}
{\"rank\":2,\"of\":2,${S1#\{}"
t "records: ties by pair" 0 "coinrank - | jq -r .pair" "$S2
$S1" "a/usd
b/usd"
t "records: top per time" 0 "coinrank --top 1 - | jq -r .pair" "$S4
$S1
$S5" "b/usd
a/usd"
printf '%s\n' "$S1" "not json" "$S2" >"$WORK/bad"
run "bad record" coinrank "$WORK/bad"
is_status 65
err_is "coinrank: $WORK/bad:2: invalid JSON at column 1: unexpected character"
same "$(wc -l <"$OUT" | tr -d ' ')" 2 "good records ranked"
run "strict" coinrank --strict "$WORK/bad"
is_status 65
out_empty
run "strict without records" coinrank --strict
is_status 64
run "pair not among records" coinrank --pair z/usd "$WORK/bad"
is_status 66
err_has "z/usd: not among the records read"
run "missing file" coinrank "$WORK/none"
is_status 66
T="stdout full"
coinrank >/dev/full 2>"$ERR"
rc=$?
is_status 74
err_is "coinrank: stdout: No space left on device"
T="reader gone"
coinrank 2>"$ERR" | head -1 >/dev/null
err_empty

finish
