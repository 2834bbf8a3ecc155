#!/bin/sh
# coinstddev.sh - the real coinstddev through pipes, against references
# computed here, independently, by awk.
. "$(dirname "$0")/lib.sh"

NOW=$(date +%s)
T0=$(( (NOW - 86400) / 60 * 60 ))

# --- usage -------------------------------------------------------------
t "help" 0 "coinstddev --help | head -1" "" \
    "usage: coinstddev [--population] [--strict] [--window DURATION] [--db PATH]"
t "version" 0 "coinstddev --version" "" "coinstddev 0.1.0"
for bad in "--window 0" "--window 5x" "--window" "--at 1h" "--all x" \
    "--bogus" "-z"; do
	run "usage: $bad" coinstddev $bad
	is_status 64
	err_has "usage: coinstddev"
done

# --- a day of minutes for 12 pairs, stored, echoed into coinstddev ----
# Prices: constant, a stablecoin's wiggles, bitcoin with tiny variance,
# a 1e-8 token, random walks; some minutes missing for some pairs.
awk -v t0="$T0" 'BEGIN {
	srand(7)
	for (p = 0; p < 12; p++) x[p] = 10 ^ (p % 6) * (1 + p)
	for (m = 0; m < 1440; m++) {
		ts = t0 + m * 60
		for (p = 0; p < 12; p++) {
			if (p == 5 && m % 7 == 3) continue
			if (p == 0) v = 97312.41
			else if (p == 1) v = 1 + 1e-6 * (rand() - 0.5)
			else if (p == 2) v = 100000 + 1e-7 * (m % 5)
			else if (p == 3) v = 1e-8 * (1 + 0.01 * rand())
			else { x[p] *= 1 + 0.002 * (rand() - 0.5); v = x[p] }
			printf "{\"pair\":\"p%02d/usd\",\"ts\":%d,\"price\":%.17g}\n",
			    p, ts, v
		}
	}
}' >"$WORK/day"
coinstore -q "$WORK/day"

# The reference: two-pass mean and stddev per (pair, ts), from the
# ticks alone, for the stats we check (the last 30 minutes).
reference() {	# window population < ticks
	awk -v W="$1" -v pop="$2" -v from="$((T0 + 1410 * 60))" '
	{
		match($0, /"pair":"[^"]*"/); pr = substr($0, RSTART + 8, RLENGTH - 9)
		match($0, /"ts":[0-9]*/); ts = substr($0, RSTART + 5, RLENGTH - 5) + 0
		match($0, /"price":[^}]*/); v = substr($0, RSTART + 8, RLENGTH - 8) + 0
		n[pr]++; T[pr, n[pr]] = ts; P[pr, n[pr]] = v
		if (ts >= from) want[pr, ts] = 1
	}
	END {
		for (k in want) {
			split(k, a, SUBSEP); pr = a[1]; ts = a[2] + 0
			# Shifted by the first price: differences of
			# close doubles are exact, so double suffices.
			c = 0; s = 0; mn = ""; mx = ""; last = ""; v0 = ""; lt = 0
			for (i = 1; i <= n[pr]; i++)
				if (T[pr, i] > ts - W && T[pr, i] <= ts) {
					v = P[pr, i]
					if (v0 == "") v0 = v
					c++; s += v - v0
					if (mn == "" || v < mn) mn = v
					if (mx == "" || v > mx) mx = v
					if (T[pr, i] >= lt) { lt = T[pr, i]; last = v }
				}
			m = v0 + s / c; q = 0
			for (i = 1; i <= n[pr]; i++)
				if (T[pr, i] > ts - W && T[pr, i] <= ts)
					q += (P[pr, i] - v0 - s / c) ^ 2
			sd = c < 2 ? "null" : sprintf("%.17g", sqrt(q / (pop ? c : c - 1)))
			printf "%s %d %d %.17g %s %.17g %.17g %.17g\n",
			    pr, ts, c, m, sd, mn, mx, last
		}
	}' | sort
}

# Stat records as the same columns, for the same (pair, ts).
columns() {
	awk -v from="$((T0 + 1410 * 60))" '
	{
		match($0, /"pair":"[^"]*"/); pr = substr($0, RSTART + 8, RLENGTH - 9)
		match($0, /"ts":[0-9]*/); ts = substr($0, RSTART + 5, RLENGTH - 5) + 0
		split($0, f, /[,:}]/)
		for (i = 1; i in f; i++) {
			if (f[i] == "\"n\"") n = f[i + 1]
			if (f[i] == "\"mean\"") m = f[i + 1]
			if (f[i] == "\"stddev\"") sd = f[i + 1]
			if (f[i] == "\"min\"") mn = f[i + 1]
			if (f[i] == "\"max\"") mx = f[i + 1]
			if (f[i] == "\"last\"") last = f[i + 1]
		}
		if (ts >= from) print pr, ts, n, m, sd, mn, mx, last
	}' | sort
}

# Compare two column files: equal n, the rest within 1e-9 relative
# (1e-12 absolute near zero); awk computes in double, so allow that.
agree() {
	paste -d' ' "$1" "$2" | awk '
	function near(a, b) {
		if (a == "null" || b == "null") return a == b
		d = a - b; if (d < 0) d = -d
		r = b < 0 ? -b : b
		return d <= 1e-12 || d <= 1e-9 * r
	}
	{
		if ($1 != $9 || $2 != $10 || $3 != $11) { bad++; print; next }
		for (i = 4; i <= 8; i++)
			if (!near($i, $(i + 8))) { bad++; print; next }
		n++
	}
	END { if (bad || n == 0) exit 1 }'
}

run "stats of a day, piped" coinstddev "$WORK/day"
is_status 0
err_empty
same "$(wc -l <"$OUT" | tr -d ' ')" "$(wc -l <"$WORK/day" | tr -d ' ')" \
    "one stat per tick"
columns <"$OUT" >"$WORK/got"
reference 86400 0 <"$WORK/day" >"$WORK/want"
T="stats equal the two-pass reference"
if agree "$WORK/got" "$WORK/want" >"$WORK/diff"; then pass; else
	fail "$(head -5 "$WORK/diff")"
fi
T="a constant price has stddev exactly 0"
same "$(grep '"pair":"p00/usd"' "$OUT" | grep -v '"n":1,' |
    grep -vc '"stddev":0,')" 0 "p00 stats with a stddev other than 0"

# The window's edges: a tick at exactly ts - window is out, at ts in.
rm -rf "$WORK/e"
printf '%s\n' "{\"pair\":\"e/usd\",\"ts\":$T0,\"price\":1}" \
    "{\"pair\":\"e/usd\",\"ts\":$((T0 + 60)),\"price\":2}" \
    "{\"pair\":\"e/usd\",\"ts\":$((T0 + 3600)),\"price\":4}" |
    COIN_DB=$WORK/e coinstore -q
t "window edges" 0 \
    "COIN_DB=$WORK/e coinstddev --window 1h" \
    "{\"pair\":\"e/usd\",\"ts\":$((T0 + 3600)),\"price\":4}" \
    "{\"pair\":\"e/usd\",\"ts\":$((T0 + 3600)),\"window\":3600,\"n\":2,\"mean\":3,\"stddev\":1.4142135623730951,\"min\":2,\"max\":4,\"last\":4}"
t "population" 0 \
    "COIN_DB=$WORK/e coinstddev -w 1h --population" \
    "{\"pair\":\"e/usd\",\"ts\":$((T0 + 3600)),\"price\":4}" \
    "{\"pair\":\"e/usd\",\"ts\":$((T0 + 3600)),\"window\":3600,\"n\":2,\"mean\":3,\"stddev\":1,\"min\":2,\"max\":4,\"last\":4}"
t "one tick: no stddev" 0 \
    "COIN_DB=$WORK/e coinstddev -w 1m" \
    "{\"pair\":\"e/usd\",\"ts\":$((T0 + 3600)),\"price\":4}" \
    "{\"pair\":\"e/usd\",\"ts\":$((T0 + 3600)),\"window\":60,\"n\":1,\"mean\":4,\"stddev\":null,\"min\":4,\"max\":4,\"last\":4}"

# A late tick, older than the pair's last computed time, is exact too,
# and so is the next batch after it.
printf '%s\n' "{\"pair\":\"e/usd\",\"ts\":$((T0 + 1800)),\"price\":8}" |
    COIN_DB=$WORK/e coinstore -q
t "late tick" 0 "COIN_DB=$WORK/e coinstddev -w 1h" \
    "{\"pair\":\"e/usd\",\"ts\":$((T0 + 1800)),\"price\":8}" \
    "{\"pair\":\"e/usd\",\"ts\":$((T0 + 1800)),\"window\":3600,\"n\":3,\"mean\":3.6666666666666665,\"stddev\":3.7859388972001824,\"min\":1,\"max\":8,\"last\":8}"
t "after the late tick" 0 "COIN_DB=$WORK/e coinstddev -w 1h" \
    "{\"pair\":\"e/usd\",\"ts\":$((T0 + 3600)),\"price\":4}" \
    "{\"pair\":\"e/usd\",\"ts\":$((T0 + 3600)),\"window\":3600,\"n\":3,\"mean\":4.666666666666667,\"stddev\":3.0550504633038935,\"min\":2,\"max\":8,\"last\":4}"

# --- --all, and its agreement with the filter -------------------------
run "all" coinstddev --all
is_status 0
same "$(wc -l <"$OUT" | tr -d ' ')" 12 "stats from --all"
grep "\"ts\":$((T0 + 1439 * 60))," "$WORK/got" >/dev/null
coinstddev "$WORK/day" | tail -12 | sort >"$WORK/f"
sort "$OUT" >"$WORK/a"
T="--all equals the filter at the newest ts"
if cmp -s "$WORK/f" "$WORK/a"; then pass; else
	fail "$(diff "$WORK/f" "$WORK/a" | head -4)"
fi
run "all at a time" coinstddev --all --at "$((T0 + 600))" -w 10m
is_status 0
same "$(grep -c "\"ts\":$((T0 + 600)),\"window\":600,\"n\":10," "$OUT")" 11 \
    "pairs with 10 ticks in 10 minutes"
run "all on an empty store" coinstddev --all --db "$WORK/empty"
is_status 66
err_has "no ticks stored"

# --- bad input, and input that was never stored ----------------------
rm -rf "$WORK/b"
printf '%s\n' "{\"pair\":\"b/usd\",\"ts\":$T0,\"price\":3}" |
    COIN_DB=$WORK/b coinstore -q
printf '%s\n' "{\"pair\":\"b/usd\",\"ts\":$T0,\"price\":3}" "nonsense" \
    "{\"pair\":\"c/usd\",\"ts\":$T0,\"price\":3}" >"$WORK/bin"
run "bad and unstored input" env COIN_DB="$WORK/b" coinstddev "$WORK/bin"
is_status 65
err_has "coinstddev: $WORK/bin:2: invalid JSON at column 1"
err_has "coinstddev: c/usd: no stored tick at"
out_is "{\"pair\":\"b/usd\",\"ts\":$T0,\"window\":86400,\"n\":1,\"mean\":3,\"stddev\":null,\"min\":3,\"max\":3,\"last\":3}"
run "strict" env COIN_DB="$WORK/b" coinstddev --strict "$WORK/bin"
is_status 65
out_empty
run "missing file" env COIN_DB="$WORK/b" coinstddev "$WORK/none"
is_status 66
T="stdout full"
COIN_DB=$WORK/b coinstddev --all >/dev/full 2>"$ERR"
rc=$?
is_status 74
err_is "coinstddev: stdout: No space left on device"

# --- the whole day again, batch by batch as cron would: same answers --
rm -rf "$WORK/c"
: >"$WORK/live"
for m in $(seq 1380 1439); do
	grep "\"ts\":$((T0 + m * 60))," "$WORK/day"
done >"$WORK/lastmin"
head -n "$(( $(wc -l <"$WORK/day") - $(wc -l <"$WORK/lastmin") ))" \
    "$WORK/day" | COIN_DB=$WORK/c coinstore -q
COIN_DB=$WORK/c coinstddev --all --at "$((T0 + 1379 * 60))" >/dev/null
for m in $(seq 1380 1439); do
	grep "\"ts\":$((T0 + m * 60))," "$WORK/day" |
	    COIN_DB=$WORK/c coinstore | COIN_DB=$WORK/c coinstddev >>"$WORK/live"
done
T="minute by minute"
columns <"$WORK/live" >"$WORK/got2"
awk -v from="$((T0 + 1410 * 60))" '$2 >= from' "$WORK/want" >"$WORK/want2"
if agree "$WORK/got2" "$WORK/want2" >"$WORK/diff"; then pass; else
	fail "$(head -5 "$WORK/diff")"
fi
run "check after the live minutes" coinstore --db "$WORK/c" --check
is_status 0

# A tick stored late with coinstore -q, never shown to coinstddev, still
# counts in the next batch's stat: storing it dropped the pair's state.
LATE=$((T0 + 1439 * 60 - 30))
printf '%s\n' "{\"pair\":\"p04/usd\",\"ts\":$LATE,\"price\":1}" |
    COIN_DB=$WORK/c coinstore -q
NEXT="{\"pair\":\"p04/usd\",\"ts\":$((T0 + 1440 * 60)),\"price\":2}"
printf '%s\n' "$NEXT" >>"$WORK/day"
printf '%s\n' "{\"pair\":\"p04/usd\",\"ts\":$LATE,\"price\":1}" >>"$WORK/day"
printf '%s\n' "$NEXT" | COIN_DB=$WORK/c coinstore |
    COIN_DB=$WORK/c coinstddev | columns >"$WORK/got3"
reference 86400 0 <"$WORK/day" | grep "^p04/usd $((T0 + 1440 * 60)) " \
    >"$WORK/want3"
T="a late tick stored behind coinstddev's back"
if agree "$WORK/got3" "$WORK/want3" >"$WORK/diff"; then pass; else
	fail "$(head -3 "$WORK/diff")"
fi

# --all over many pairs, whose windows are scanned on several threads
# (on a machine of two cores or more), gives the very bytes of the
# filter, which rebuilds each pair's state at that time a tick at a
# time; the incremental minutes after it agree with --all too.
E=$(( ($(date +%s) - 3600) / 60 * 60 ))
genticks -p 1500 -m 90 -e "$E" >"$WORK/many"
coinstore -q --db "$WORK/many.db" "$WORK/many"
T="--all on 1,500 pairs"
run "$T" coinstddev --all --window 1h --db "$WORK/many.db"
is_status 0
err_empty
sort "$OUT" >"$WORK/many.all"
same "$(wc -l <"$WORK/many.all" | tr -d ' ')" 1500 "stats"
tail -n 1500 "$WORK/many" | coinstddev --window 1h --db "$WORK/many.db" |
    sort >"$WORK/many.filter"
if cmp -s "$WORK/many.all" "$WORK/many.filter"; then pass; else
	fail "--all and the filter differ: $(diff "$WORK/many.all" \
	    "$WORK/many.filter" | head -3)"
fi
genticks -p 1500 -m 93 -e "$((E + 180))" | tail -n 4500 >"$WORK/many3"
coinstore -q --db "$WORK/many.db" "$WORK/many3"
tail -n 1500 "$WORK/many3" | coinstddev --window 1h --db "$WORK/many.db" |
    sort >"$WORK/many.inc"
coinstddev --all --window 1h --db "$WORK/many.db" | sort >"$WORK/many.all3"
T="three minutes later, --all on 1,500 pairs"
if cmp -s "$WORK/many.all3" "$WORK/many.inc"; then pass; else
	fail "--all and the filter differ: $(diff "$WORK/many.all3" \
	    "$WORK/many.inc" | head -3)"
fi

finish
