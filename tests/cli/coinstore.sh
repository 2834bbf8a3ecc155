#!/bin/sh
# coinstore.sh - the real coinstore binary through pipes, on a scratch store
. "$(dirname "$0")/lib.sh"

NOW=$(date +%s)
T0=$(( (NOW - 3600) / 60 * 60 ))	# an hour ago, on the minute
T1=$((T0 + 60))
T2=$((T0 + 120))
A="{\"pair\":\"bitcoin/usd\",\"ts\":$T0,\"price\":97312.41}"
B="{\"pair\":\"ethereum/usd\",\"ts\":$T0,\"price\":3301.5}"
C="{\"pair\":\"bitcoin/usd\",\"ts\":$T1,\"price\":97400}"
D="{\"pair\":\"bitcoin/usd\",\"ts\":$T2,\"price\":1e-08}"

# --- usage -------------------------------------------------------------
t "help" 0 "coinstore -h | head -1" "" \
    "usage: coinstore [-q] [--strict] [--db PATH] [FILE ...]"
t "version" 0 "coinstore --version" "" "coinstore 0.1.0"
run "unknown option" coinstore --bogus
is_status 64
err_has "coinstore: unknown option --bogus"
err_has "usage: coinstore"
run "missing value" coinstore --since
is_status 64
err_has "option --since needs a value"
run "bad time" coinstore --dump --since yesterday
is_status 64
err_has 'coinstore: --since: "yesterday" is not a time'
run "bad age" coinstore --prune 3x
is_status 64
err_has "coinstore: --prune: duration \"3x\" has an unknown unit"
run "two modes" coinstore --dump --pairs
is_status 64
run "since without dump" coinstore --since 1h
is_status 64
run "bad pair operand" coinstore --dump bitcoin
is_status 64
err_has "does not hold exactly one '/'"
run "operand to --stats" coinstore --stats x
is_status 64

# --- a store that is not there ----------------------------------------
run "dump, no store" coinstore --dump
is_status 66
err_has "no store here"
out_empty
run "no store path at all" env -i "$BUILD_DIR/coinstore" --dump
is_status 66
err_has "no store: set COIN_DB, XDG_DATA_HOME or HOME, or give --db"
run "store cannot be created" coinstore --db /proc/coin/db </dev/null
is_status 73
err_has "/proc/coin/db: cannot create store"

# --- ingest, echo and dump: unchanged, canonical ----------------------
t "echo" 0 "coinstore" "$A
$B" "$A
$B"
t "dump" 0 "coinstore --dump" "" "$A
$B"
# Canonical form: spaces gone, src dropped, RFC 3339 ts made seconds,
# CRLF and a last line without LF accepted.
RFC=$(date -u -d "@$T1" +%Y-%m-%dT%H:%M:%SZ)
printf '{ "price" : 97400.0, "src":"coingecko", "ts":"%s", "pair":"bitcoin/usd" }\r\n%s' \
    "$RFC" "$D" >"$WORK/in"
run "canonical echo" coinstore "$WORK/in"
is_status 0
out_is "$C
$D"
err_empty
t "dump in pair, ts order" 0 "coinstore --dump" "" "$A
$C
$D
$B"
t "dump one pair" 0 "coinstore --dump bitcoin/usd" "" "$A
$C
$D"
t "dump pairs sorted, repeats once" 0 \
    "coinstore --dump ethereum/usd bitcoin/usd ethereum/usd" "" "$A
$C
$D
$B"
t "since is inclusive" 0 "coinstore --dump --since $T1" "" "$C
$D"
t "until is inclusive" 0 "coinstore --dump --until $T1 bitcoin/usd" "" "$A
$C"
t "since and until" 0 "coinstore --dump --since $T1 --until $T1" "" "$C"
t "since as RFC 3339" 0 "coinstore --dump --since $RFC bitcoin/usd" "" "$C
$D"
t "since as an age" 0 "coinstore --dump --since 2h bitcoin/usd" "" "$A
$C
$D"
t "since an age that excludes all" 0 "coinstore --dump --since 1m" "" ""
t "latest" 0 "coinstore --dump --latest" "" "$D
$B"
t "latest of one pair" 0 "coinstore --dump --latest bitcoin/usd" "" "$D"
t "latest until" 0 "coinstore --dump --latest --until $T1" "" "$C
$B"
run "unknown pair" coinstore --dump --latest dogecoin/usd
is_status 0
out_empty
err_is "coinstore: dogecoin/usd: no ticks"

# --- the same input twice changes no count ----------------------------
coinstore --stats >"$WORK/s1"
printf '%s\n%s\n' "$A" "$B" | coinstore -q
run "quiet" coinstore -q "$WORK/in"
is_status 0
out_empty
coinstore --stats >"$WORK/s2"
counts() { grep -o '"ticks":[0-9]*,"pairs":[0-9]*' "$1"; }
same "$(counts "$WORK/s2")" "$(counts "$WORK/s1")" "counts after re-ingest"
same "$(counts "$WORK/s2")" '"ticks":4,"pairs":2' "counts"
t "replace on the same pair and ts" 0 \
    "coinstore -q && coinstore --dump --latest ethereum/usd" \
    "{\"pair\":\"ethereum/usd\",\"ts\":$T0,\"price\":3333}" \
    "{\"pair\":\"ethereum/usd\",\"ts\":$T0,\"price\":3333}"
t "pairs" 0 "coinstore --pairs" "" \
    "{\"pair\":\"bitcoin/usd\",\"n\":3,\"first\":$T0,\"last\":$T2}
{\"pair\":\"ethereum/usd\",\"n\":1,\"first\":$T0,\"last\":$T0}"
run "check" coinstore --check
is_status 0
grep -q '^{"check":"ok",' "$OUT" && pass || fail "check: $(cat "$OUT")"

# --- bad input (contract section 5) -----------------------------------
# Each bad line between two good ones: reported with its place and
# reason, skipped; the good ones stored; status 65.
G1="{\"pair\":\"good/one\",\"ts\":$T0,\"price\":1}"
G2="{\"pair\":\"good/two\",\"ts\":$T0,\"price\":2}"
FUT=$((NOW + 2 * 86400))
while IFS='|' read -r name line reason; do
	rm -rf "$WORK/bad"
	printf '%s\n%s\n%s\n' "$G1" "$line" "$G2" >"$WORK/badin"
	T="bad: $name"
	COIN_DB=$WORK/bad coinstore <"$WORK/badin" >"$OUT" 2>"$ERR"
	rc=$?
	is_status 65
	err_is "coinstore: stdin:2: $reason"
	out_is "$G1
$G2"
	same "$(COIN_DB=$WORK/bad coinstore --dump | wc -l | tr -d ' ')" 2 \
	    "$name: ticks stored"
done <<EOF
invalid JSON|{"pair":"a/b","ts":$T0,"price":1|invalid JSON at column 40: expected ',' or '}'
not an object|[1,2,3]|not a JSON object
a string|"a/b"|not a JSON object
missing pair|{"ts":$T0,"price":1}|missing "pair"
missing ts|{"pair":"a/b","price":1}|missing "ts"
missing price|{"pair":"a/b","ts":$T0}|missing "price"
pair not a string|{"pair":1,"ts":$T0,"price":1}|"pair" is not a string
ts a float|{"pair":"a/b","ts":$T0.5,"price":1}|"ts" is not an integer: $T0.5
ts a word|{"pair":"a/b","ts":"now","price":1}|"ts" is not an RFC 3339 time: "now"
price a string|{"pair":"a/b","ts":$T0,"price":"1"}|"price" is not a number
pair without slash|{"pair":"ab","ts":$T0,"price":1}|pair "ab" does not hold exactly one '/'
pair with two slashes|{"pair":"a/b/c","ts":$T0,"price":1}|pair "a/b/c" does not hold exactly one '/'
pair with a space|{"pair":"a /b","ts":$T0,"price":1}|pair holds a space at byte 2
pair empty|{"pair":"","ts":$T0,"price":1}|pair is empty
pair control byte|{"pair":"a\u001b/b","ts":$T0,"price":1}|pair holds a byte that is not printable ASCII at byte 2
ts before 2009|{"pair":"a/b","ts":1230767999,"price":1}|ts 1230767999 (2008-12-31T23:59:59Z) is before 2009
ts in the future|{"pair":"a/b","ts":$FUT,"price":1}|ts $FUT ($(date -u -d "@$FUT" +%Y-%m-%dT%H:%M:%SZ)) is more than a day in the future
price zero|{"pair":"a/b","ts":$T0,"price":0}|price is zero
price negative|{"pair":"a/b","ts":$T0,"price":-2.5}|price is negative: -2.5
price NaN|{"pair":"a/b","ts":$T0,"price":NaN}|invalid JSON at column 39: unexpected character
price infinite|{"pair":"a/b","ts":$T0,"price":1e999}|price is not finite: 1e999
duplicate key|{"pair":"a/b","ts":$T0,"price":1,"price":2}|duplicate key "price"
ts beyond 64 bits|{"pair":"a/b","ts":123456789012345678901,"price":1}|"ts" is out of range: 123456789012345678901
trailing garbage|{"pair":"a/b","ts":$T0,"price":1}x|invalid JSON at column 41: trailing text after the object
EOF

# Whole-line faults: NUL bytes, a line over 1 MiB.
rm -rf "$WORK/bad"
{ printf '%s\n' "$G1"; printf 'x\000y\n'; printf '%s\n' "$G2"; } >"$WORK/badin"
T="NUL byte"
COIN_DB=$WORK/bad coinstore <"$WORK/badin" >"$OUT" 2>"$ERR"
rc=$?
is_status 65
err_is "coinstore: stdin:2: NUL byte in line"
out_is "$G1
$G2"
rm -rf "$WORK/bad"
{ printf '%s\n' "$G1"; head -c 1048577 /dev/zero | tr '\0' ' '; echo;
    printf '%s\n' "$G2"; } >"$WORK/badin"
T="line over 1 MiB"
COIN_DB=$WORK/bad coinstore "$WORK/badin" >"$OUT" 2>"$ERR"
rc=$?
is_status 65
err_is "coinstore: $WORK/badin:2: line longer than 1 MiB"
out_is "$G1
$G2"
t "blank lines are no records" 0 "COIN_DB=$WORK/bad coinstore" "
$G1

" "$G1"

# Files in order; one that cannot be opened is reported, the rest stored.
printf '%s\n' "$G1" >"$WORK/f1"
printf '%s\n' "$G2" >"$WORK/f2"
rm -rf "$WORK/bad"
run "missing file" env COIN_DB="$WORK/bad" coinstore "$WORK/f1" \
    "$WORK/nope" - "$WORK/f2" </dev/null
is_status 66
err_is "coinstore: $WORK/nope: No such file or directory"
out_is "$G1
$G2"

# --strict stops at the first bad record; the open batch is not stored,
# batches before it are.
rm -rf "$WORK/bad"
printf '%s\n%s\n%s\n%s\n' \
    "{\"pair\":\"a/b\",\"ts\":$T0,\"price\":1}" \
    "{\"pair\":\"a/b\",\"ts\":$T1,\"price\":2}" \
    "{\"pair\":\"c/d\",\"ts\":$T1,\"price\":0}" \
    "{\"pair\":\"e/f\",\"ts\":$T1,\"price\":3}" >"$WORK/badin"
run "strict" env COIN_DB="$WORK/bad" coinstore --strict "$WORK/badin"
is_status 65
err_is "coinstore: $WORK/badin:3: price is zero"
out_is "{\"pair\":\"a/b\",\"ts\":$T0,\"price\":1}"
t "strict stored the batch before only" 0 \
    "COIN_DB=$WORK/bad coinstore --dump" "" \
    "{\"pair\":\"a/b\",\"ts\":$T0,\"price\":1}"

# --- stdout trouble ----------------------------------------------------
# Ticks for 200 pairs over 500 minutes: 100,000 lines, time-major.
awk -v t0="$((T0 - 499 * 60))" 'BEGIN {
	for (m = 0; m < 500; m++)
		for (p = 0; p < 200; p++)
			printf "{\"pair\":\"c%03d/usd\",\"ts\":%d,\"price\":%.4f}\n",
			    p, t0 + m * 60, 1 + p + m / 1000
}' >"$WORK/bulk"
rm -rf "$WORK/s"
T="reader of the echo goes away"
COIN_DB=$WORK/s coinstore <"$WORK/bulk" 2>"$ERR" | head -1 >"$OUT"
same "$(cat "$OUT")" "$(head -1 "$WORK/bulk" | sed 's/1\.0000/1/')" \
    "first echoed line"
err_empty
same "$(COIN_DB=$WORK/s coinstore --dump | wc -l | tr -d ' ')" 100000 \
    "ticks stored after the reader left"
rm -rf "$WORK/s"
T="stdout full"
COIN_DB=$WORK/s coinstore "$WORK/bulk" >/dev/full 2>"$ERR"
rc=$?
is_status 74
same "$(wc -l <"$ERR" | tr -d ' ')" 1 "messages for a full stdout"
err_has "coinstore: stdout: No space left on device"
same "$(COIN_DB=$WORK/s coinstore --dump | wc -l | tr -d ' ')" 100000 \
    "ticks stored with stdout full"
T="dump to a full stdout"
coinstore --db "$WORK/s" --dump >/dev/full 2>"$ERR"
rc=$?
is_status 74
err_is "coinstore: stdout: No space left on device"

# --- a cron-like empty environment ------------------------------------
run "empty environment with --db" env -i "$BUILD_DIR/coinstore" \
    --db "$WORK/s" --dump --latest c000/usd
is_status 0
same "$(wc -l <"$OUT" | tr -d ' ')" 1 "latest in an empty environment"
mkdir -p "$WORK/home"
t "default store under HOME" 0 \
    "env -i HOME=$WORK/home $BUILD_DIR/coinstore -q && ls $WORK/home/.local/share/coin" \
    "$A" "data.mdb
lock.mdb"
t "XDG_DATA_HOME wins over HOME" 0 \
    "env -i HOME=$WORK/home XDG_DATA_HOME=$WORK/xdg $BUILD_DIR/coinstore -q && ls $WORK/xdg/coin" \
    "$A" "data.mdb
lock.mdb"
t "COIN_DB wins over XDG_DATA_HOME" 0 \
    "env -i COIN_DB=$WORK/cdb XDG_DATA_HOME=$WORK/xdg $BUILD_DIR/coinstore -q && ls $WORK/cdb" \
    "$A" "data.mdb
lock.mdb"
t "--db wins over COIN_DB" 0 \
    "COIN_DB=$WORK/nothere coinstore --db $WORK/cdb --dump" "" "$A"
same "$(stat -c %a "$WORK/home/.local/share/coin")" 700 "store mode"
same "$(stat -c %a "$WORK/home/.local/share/coin/data.mdb")" 600 \
    "data mode"

# --- prune -------------------------------------------------------------
rm -rf "$WORK/p"
OLD=$((NOW - 2 * 86400 - 100))
KEEP=$((NOW - 2 * 86400 + 100))
printf '%s\n' "{\"pair\":\"a/b\",\"ts\":$OLD,\"price\":1}" \
    "{\"pair\":\"a/b\",\"ts\":$KEEP,\"price\":2}" \
    "{\"pair\":\"c/d\",\"ts\":$OLD,\"price\":3}" |
    COIN_DB=$WORK/p coinstore -q
run "prune" coinstore --db "$WORK/p" --prune 2d
is_status 0
grep -q '"ticks":2,"stats":0}$' "$OUT" && pass || fail "prune: $(cat "$OUT")"
t "prune kept the younger" 0 "coinstore --db $WORK/p --dump" "" \
    "{\"pair\":\"a/b\",\"ts\":$KEEP,\"price\":2}"
run "prune again removes nothing" coinstore --db "$WORK/p" --prune 2d
grep -q '"ticks":0,"stats":0}$' "$OUT" && pass || fail "prune: $(cat "$OUT")"

# --- backup ------------------------------------------------------------
run "backup" coinstore --db "$WORK/s" --backup "$WORK/bk"
is_status 0
t "backup passes check" 0 "coinstore --db $WORK/bk --check | cut -c1-15" "" \
    '{"check":"ok","'
same "$(coinstore --db "$WORK/bk" --dump | cksum)" \
    "$(coinstore --db "$WORK/s" --dump | cksum)" "backup content"
run "backup over a backup" coinstore --db "$WORK/s" --backup "$WORK/bk"
is_status 73
err_has "holds a data.mdb already"

# --- damaged stores ----------------------------------------------------
mkdir -p "$WORK/dmg"
head -c 65536 /dev/urandom >"$WORK/dmg/data.mdb"
run "random bytes: dump" coinstore --db "$WORK/dmg" --dump
is_status 74
err_has "store is corrupt"
run "random bytes: check" coinstore --db "$WORK/dmg" --check
is_status 74
# An empty data file is what a store being made looks like: no store yet.
: >"$WORK/dmg/data.mdb"
run "empty file: check" coinstore --db "$WORK/dmg" --check
is_status 66
err_has "no store here"

# --- several processes at once ----------------------------------------
# Two writers, as overlapping cron runs would be: nothing lost.
rm -rf "$WORK/w"
awk -v t0="$T0" 'BEGIN { for (i = 0; i < 20000; i++)
	printf "{\"pair\":\"w%d/usd\",\"ts\":%d,\"price\":1}\n", i % 100,
	    t0 - 60 * int(i / 100) }' >"$WORK/w1"
sed 's/"w/"v/' "$WORK/w1" >"$WORK/w2"
COIN_DB=$WORK/w coinstore -q "$WORK/w1" 2>"$WORK/e1" &
p1=$!
COIN_DB=$WORK/w coinstore -q "$WORK/w2" 2>"$WORK/e2" &
p2=$!
wait $p1
s1=$?
wait $p2
s2=$?
T="two writers"
same "$s1$s2" "00" "writer statuses"
same "$(COIN_DB=$WORK/w coinstore --dump | wc -l | tr -d ' ')" 40000 \
    "ticks after two writers"

# Readers during a write see whole batches or none: 30 batches of 500
# ticks, each written at once and followed by a pause.
rm -rf "$WORK/r"
(
	for b in $(seq 0 29); do
		awk -v ts="$((T0 - 3000 + b * 60))" 'BEGIN { for (p = 0; p < 500; p++)
		    printf "{\"pair\":\"r%03d/usd\",\"ts\":%d,\"price\":1}\n", p, ts }'
		sleep 0.05
	done
) | COIN_DB=$WORK/r coinstore -q &
wp=$!
torn=0
seen=0
while kill -0 $wp 2>/dev/null; do
	COIN_DB=$WORK/r coinstore --dump 2>/dev/null >"$WORK/snap" || continue
	seen=$((seen + 1))
	awk -F'"ts":' '{ split($2, a, ","); n[a[1]]++ }
	    END { for (t in n) if (n[t] != 500) exit 1 }' "$WORK/snap" ||
	    torn=$((torn + 1))
done
wait $wp
T="readers during a write"
same "$torn" 0 "snapshots with a torn batch (of $seen)"
same "$(COIN_DB=$WORK/r coinstore --dump | wc -l | tr -d ' ')" 15000 \
    "ticks after the live write"

# --- kill -9 in the middle of a large ingest --------------------------
awk -v t0="$((T0 - 2999 * 60))" 'BEGIN {
	for (m = 0; m < 3000; m++)
		for (p = 0; p < 200; p++)
			printf "{\"pair\":\"k%03d/usd\",\"ts\":%d,\"price\":%d}\n",
			    p, t0 + m * 60, 1 + p + m
}' >"$WORK/big"
rm -rf "$WORK/k"
COIN_DB=$WORK/k coinstore "$WORK/big" >"$WORK/echo" 2>/dev/null &
kp=$!
while [ ! -s "$WORK/echo" ] && kill -0 $kp 2>/dev/null; do sleep 0.01; done
kill -9 $kp 2>/dev/null
wait $kp 2>/dev/null
T="kill -9 mid-ingest"
run "check after kill -9" coinstore --db "$WORK/k" --check
is_status 0
COIN_DB=$WORK/k coinstore --dump | sort >"$WORK/after"
# Only whole lines of the echo count: the kill may cut the last.
sed '$d' "$WORK/echo" | sort >"$WORK/echoed"
same "$(comm -23 "$WORK/echoed" "$WORK/after" | wc -l | tr -d ' ')" 0 \
    "echoed ticks missing after kill -9"
n_echo=$(wc -l <"$WORK/echoed" | tr -d ' ')
[ "$n_echo" -gt 0 ] && pass || fail "nothing echoed before the kill"
run "ingest after kill -9" env COIN_DB="$WORK/k" coinstore -q "$WORK/big"
is_status 0
same "$(COIN_DB=$WORK/k coinstore --dump | wc -l | tr -d ' ')" 600000 \
    "ticks after the rerun"

# --- backup while a writer writes -------------------------------------
rm -rf "$WORK/b2" "$WORK/bk2"
COIN_DB=$WORK/b2 coinstore -q "$WORK/big" &
bp=$!
sleep 0.3
run "backup during a write" coinstore --db "$WORK/b2" --backup "$WORK/bk2"
is_status 0
wait $bp
run "backup taken during a write checks" coinstore --db "$WORK/bk2" --check
is_status 0

# --- a bulk load commits 64 minutes at most, each through the stage ---
# 200 pairs x 200 minutes is 40,000 ticks, fewer than a bulk commit's
# 65,536: in one commit it would go around the stage (none staged).
# In commits of 64 minutes, each finds the stage full and merges it
# first, so the last 8 minutes stay staged.
awk -v t0="$((T0 - 400 * 60))" 'BEGIN {
	for (m = 0; m < 200; m++)
		for (p = 0; p < 200; p++)
			printf "{\"pair\":\"g%03d/usd\",\"ts\":%d,\"price\":%d}\n",
			    p, t0 + m * 60, 1 + p + m
}' >"$WORK/g200"
rm -rf "$WORK/g"
run "bulk load of 200 minutes" coinstore -q --db "$WORK/g" "$WORK/g200"
is_status 0
same "$(coinstore --db "$WORK/g" --stats |
    grep -o '"ticks":[0-9]*\|"staged":[0-9]*' | tr '\n' ' ')" \
    '"ticks":40000 "staged":1600 ' "ticks, and staged"
run "the bulk-loaded store checks" coinstore --db "$WORK/g" --check
is_status 0

# --- memory stays flat as the input grows ------------------------------
# (Not under the sanitizers: their quarantine holds freed memory.)
if [ -n "${SANITIZED:-}" ]; then
	echo "memory: not measured under the sanitizers"
else
	rm -rf "$WORK/m1" "$WORK/m2"
	head -n 300000 "$WORK/big" >"$WORK/small"
	COIN_DB=$WORK/m1 peakrss "$WORK/rss1" coinstore -q "$WORK/small"
	sed 's/"k/"j/' "$WORK/big" >"$WORK/big2"
	cat "$WORK/big" >>"$WORK/big2"	# 1.2 M lines
	COIN_DB=$WORK/m2 peakrss "$WORK/rss2" coinstore -q "$WORK/big2"
	r1=$(cat "$WORK/rss1")
	r2=$(cat "$WORK/rss2")
	T="bounded memory ($r1 KiB for 300k ticks, $r2 KiB for 1.2M)"
	[ "$r2" -le $((r1 * 5 / 4 + 2048)) ] && pass ||
	    fail "anonymous memory grew with the input"
	printf 'memory: %s KiB anonymous peak for 300,000 ticks, %s KiB for 1,200,000\n' \
	    "$r1" "$r2"
	# 2,000 pairs: every merge of the stage (128,000 ticks) takes four
	# chunks.  In one transaction it held every pair's pages: 29.7 MiB
	# for 300,000 ticks and 38.6 MiB for 1.2M (1.30x).  In chunks, a
	# chunk's pages are those of 512 pairs, whose trees of ticks are one
	# level deeper from about 500 ticks a pair on: 13.4 MiB up to 600,000
	# ticks, 19.3 MiB for 1.2M, 2.4M and 4.8M.  So 1.2M against 2.4M.
	rm -rf "$WORK/m3" "$WORK/m4"
	E=$(( ($(date +%s) - 2 * 86400) / 60 * 60 ))
	genticks -p 2000 -m 1200 -e "$E" >"$WORK/wide"
	head -n 1200000 "$WORK/wide" >"$WORK/wide1"
	COIN_DB=$WORK/m3 peakrss "$WORK/rss3" coinstore -q "$WORK/wide1"
	COIN_DB=$WORK/m4 peakrss "$WORK/rss4" coinstore -q "$WORK/wide"
	r3=$(cat "$WORK/rss3")
	r4=$(cat "$WORK/rss4")
	T="flat memory over merges in chunks ($r3 KiB, $r4 KiB)"
	[ "$r4" -le $((r3 * 6 / 5)) ] && pass ||
	    fail "anonymous memory grew with the input"
	run "the store of 2,000 pairs checks" coinstore --db "$WORK/m4" --check
	is_status 0
	same "$(coinstore --db "$WORK/m4" --dump --latest | wc -l |
	    tr -d ' ')" 2000 "pairs with a newest tick"
	printf 'memory: %s KiB for 1,200,000 ticks of 2,000 pairs, %s KiB for 2,400,000\n' \
	    "$r3" "$r4"
	rm -f "$WORK/wide" "$WORK/wide1"
fi

finish
