#!/bin/sh
# coinfetch.sh - coinfetch against mockgecko, a CoinGecko look-alike on
# 127.0.0.1: what is asked and how, the ticks, paging, retries, refusals,
# batches in time, backfills, and the man page's examples.
. "$(dirname "$0")/lib.sh"

net_setup

KEY=CG-testkey-0123456789
LOG=$WORK/mock.log
SERVED=$WORK/served
CTL=$WORK/ctl
MAN=$ROOT/man/coinfetch.1

mockgecko -p "$WORK/port" -l "$LOG" -s "$SERVED" -c "$CTL" \
    -d "$ROOT/tests/data" -t 240 &
MOCK=$!
at_exit "kill $MOCK 2>/dev/null"
n=0
while [ ! -s "$WORK/port" ]; do
	n=$((n + 1))
	if [ $n -gt 200 ] || ! kill -0 $MOCK 2>/dev/null; then
		T=mockgecko
		fail "the mock server did not start"
		finish
		exit 1
	fi
	sleep 0.05
done
PORT=$(cat "$WORK/port")
COINGECKO_API_URL=http://127.0.0.1:$PORT/api/v3
export COINGECKO_API_URL
VERSION=$(coinfetch --version | cut -d' ' -f2)

# reset [FAULT...]: empty the request log and the served prices, and
# queue the faults for the next requests (see mockgecko.c).
reset() {
	: >"$LOG"
	: >"$SERVED"
	: >"$CTL"
	for f in "$@"; do
		printf '%s\n' "$f" >>"$CTL"
	done
}
nreq() { grep -c '^GET ' "$LOG"; }
nlines() { echo $(($(wc -l <"$1"))); }
now_ms() { date +%s%3N; }
# The arrival time of request number $1, in ms.
req_ms() { sed -n "${1}s/.* ms=//p" "$LOG"; }
# The distinct ts of the ticks in $OUT.
ts_of() { sed 's/.*"ts":\([0-9]*\).*/\1/' "$OUT" | sort -u; }
# The ticks of $OUT as "tick PAIR PRICE", sorted, as SERVED has them.
ticks_of() {
	sed 's/^{"pair":"\([^"]*\)","ts":[0-9]*,"price":\([^}]*\)}$/tick \1 \2/' \
	    "$OUT" | sort
}
served_ticks() { grep '^tick ' "$SERVED" | sort; }
# Wait if need be so that $1 seconds remain of this minute: a default
# batch may not retry past it.
room() {
	s=$(($(date +%s) % 60))
	if [ $((60 - s)) -le "$1" ]; then
		sleep $((61 - s))
	fi
}

log_has() {
	if grep -qF -- "$1" "$LOG"; then pass; else
		fail "requests lack '$1':
$(cut -c1-200 "$LOG" | head -8)"
	fi
}
out_has() {
	if grep -qF -- "$1" "$OUT"; then pass; else
		fail "stdout lacks '$1': $(head -c 300 "$OUT")"
	fi
}
lacks() {
	if grep -qF -- "$1" "$OUT" "$ERR"; then
		fail "'$1' appears in the output"
	else
		pass
	fi
}
# at_least A B WHAT: the number A is B or more.
at_least() {
	if [ "$1" -ge "$2" ]; then pass; else
		fail "${3:-value}: $1 is less than $2"
	fi
}
at_most() {
	if [ "$1" -le "$2" ]; then pass; else
		fail "${3:-value}: $1 is more than $2"
	fi
}
# One ts for the whole batch, floored to period $1, within the run.
one_ts() {
	same "$(ts_of | wc -l)" 1 "distinct ts"
	ts=$(ts_of)
	same $((ts % $1)) 0 "ts $ts modulo $1"
	at_least "$ts" $((t0 / 1000 - t0 / 1000 % $1)) "ts"
	at_most "$ts" $((t1 / 1000)) "ts"
}
# The ticks printed are exactly the prices served.
as_served() {
	ticks_of >"$WORK/got"
	served_ticks >"$WORK/want"
	if [ -s "$WORK/want" ] && cmp -s "$WORK/got" "$WORK/want"; then
		pass
	else
		fail "ticks differ from the served prices:
$(diff "$WORK/want" "$WORK/got" | head -10)"
	fi
}
timed() {
	t0=$(now_ms)
	run "$@"
	t1=$(now_ms)
	elapsed=$((t1 - t0))
}

# ---------------------------------------------------------------------
# Usage.

run "--help" coinfetch --help
is_status 0
out_has "usage: coinfetch [-c ID,... | -t N | --all | -e ID] [--vs CURRENCY,...]"
err_empty
run "-h" coinfetch -h
is_status 0
run "--version" coinfetch --version
is_status 0
if grep -qE '^coinfetch [0-9]+\.[0-9]+' "$OUT"; then pass; else
	fail "version line: $(cat "$OUT")"
fi

# Bad options: status 64, the reason, then the usage; nothing asked.
reset
while IFS='|' read -r args why; do
	T="bad option: $args"
	eval "coinfetch $args" >"$OUT" 2>"$ERR"
	rc=$?
	is_usage coinfetch "$why"
done <<'EOF'
--bogus|unknown option --bogus
-x|unknown option -x
--key sekrit|unknown option --key
--top|option --top needs a value
--top 0|--top: "0" is not a number from 1 to 100000
--top abc|--top: "abc" is not a number from 1 to 100000
--top 100001|--top: "100001" is not a number from 1 to 100000
-t 5x|--top: "5x" is not a number from 1 to 100000
--retries 11|--retries: "11" is not a number from 0 to 10
--retries -1|--retries: "-1" is not a number from 0 to 10
--timeout 0|--timeout: 0 is shorter than 1 s
--timeout 5x|--timeout: duration "5x" has an unknown unit (use s, m, h, d or w)
--interval 0|--interval: 0 is shorter than 1 s
-i 1s -n 0|--count: "0" is not a number from 1 to 9223372036854775807
--count 3|--count goes with --interval
--history 0|--history: 0 is shorter than 1 s
--timeout 2h|--timeout: 2h is longer than 3600 s
--coins bitcoin --top 5|--coins, --top, --all and --exchange go one at a time
--all -e binance|--coins, --top, --all and --exchange go one at a time
--exchange binance --vs eur|--vs does not go with --exchange: tickers are priced in their target
--exchange a,b|--exchange: one id, not a list
--coins 'bit coin'|--coins: "bit coin" is not an id (lowercase letters, digits, '-', '_' and '.')
--coins ''|--coins: empty list
--coins a,,b|--coins: an empty item in the list
--coins ..|--coins: ".." is not an id (lowercase letters, digits, '-', '_' and '.')
--vs 'u$d'|--vs: "u$d" is not an id (lowercase letters, digits, '-', '_' and '.')
--history 1d --all|--history goes with --coins or --top
--history 1d -e binance|--history goes with --coins or --top
extra|unexpected operand: extra
EOF
T="bad options ask nothing"
same "$(nreq)" 0 "requests"

reset
run "root not http" env COINGECKO_API_URL=ftp://example.invalid/x coinfetch
is_status 64
err_is 'coinfetch: COINGECKO_API_URL: "ftp://example.invalid/x" is not an http or https URL'
run "root with a query" env \
    COINGECKO_API_URL="http://127.0.0.1:$PORT/api/v3?x=1" coinfetch
is_status 64
err_has "holds a query"
run "key with a newline" env COINGECKO_API_KEY="$(printf 'CG-bad\nkey')" \
    coinfetch
is_status 64
err_has "COINGECKO_API_KEY"
lacks "CG-bad"
run "no CA file" coinfetch --cacert "$WORK/no-such-ca.pem"
is_status 66
err_has "no-such-ca.pem"
T="bad settings ask nothing"
same "$(nreq)" 0 "requests"

# ---------------------------------------------------------------------
# Request shapes and the ticks.

reset
timed "default: the top 100 in usd" coinfetch
is_status 0
err_empty
same "$(nreq)" 1 "requests"
log_has "GET /api/v3/coins/markets?vs_currency=usd&order=market_cap_desc&per_page=100&page=1&precision=full ua=coinfetch/$VERSION demo=- pro=- accept=application/json "
same "$(nlines "$OUT")" 100 "ticks"
one_ts 60
as_served
out_has '{"pair":"bitcoin/usd","ts":'"$ts"',"price":70187}'

reset
timed "coins: one request for all coins and currencies" \
    env COINGECKO_API_KEY=$KEY coinfetch --coins bitcoin,ethereum --vs usd,eur
is_status 0
err_empty
same "$(nreq)" 1 "requests"
log_has "GET /api/v3/simple/price?ids=bitcoin,ethereum&vs_currencies=usd,eur&precision=full ua=coinfetch/$VERSION demo=$KEY pro=- accept=application/json "
one_ts 60
out_is "{\"pair\":\"bitcoin/usd\",\"ts\":$ts,\"price\":67187.3358936566}
{\"pair\":\"bitcoin/eur\",\"ts\":$ts,\"price\":62012.0419487112}
{\"pair\":\"ethereum/usd\",\"ts\":$ts,\"price\":3505.27}
{\"pair\":\"ethereum/eur\",\"ts\":$ts,\"price\":3235.6911}"
as_served
T="the key never in the output"
lacks "$KEY"

reset
run "coins: lowercase, repeats dropped, exact prices" \
    coinfetch -c DogeCoin,shiba-inu,dogecoin --vs usd,BTC
is_status 0
log_has "GET /api/v3/simple/price?ids=dogecoin,shiba-inu&vs_currencies=usd,btc&precision=full "
ts=$(ts_of)
out_is "{\"pair\":\"dogecoin/usd\",\"ts\":$ts,\"price\":0.1712345678901234}
{\"pair\":\"dogecoin/btc\",\"ts\":$ts,\"price\":2.548e-06}
{\"pair\":\"shiba-inu/usd\",\"ts\":$ts,\"price\":2.789e-05}
{\"pair\":\"shiba-inu/btc\",\"ts\":$ts,\"price\":4.15e-10}"

if [ -n "${LOCPATH:-}" ] && [ -d "$LOCPATH/de_DE.UTF-8" ]; then
	reset
	run "coins: a comma locale changes nothing" \
	    env LC_ALL=de_DE.UTF-8 coinfetch -c dogecoin
	is_status 0
	out_has '"price":0.1712345678901234}'
fi

reset
run "coins: missing ones are named" \
    coinfetch --coins bitcoin,nosuchcoin,otherbogus
is_status 65
same "$(nreq)" 1 "requests"
ts=$(ts_of)
out_is "{\"pair\":\"bitcoin/usd\",\"ts\":$ts,\"price\":67187.3358936566}"
err_is "coinfetch: nosuchcoin: not in the answer (an unknown coin id?)
coinfetch: otherbogus: not in the answer (an unknown coin id?)"

reset
run "coins: none known gives {}" coinfetch --coins nosuchcoin
is_status 65
out_empty
err_has "nosuchcoin: not in the answer"

reset "body file=simple_price_bad.json"
run "coins: bad prices warned about by coin and dropped" coinfetch \
    --coins bitcoin,ethereum,tether,dogecoin,solana,cardano,ripple,polkadot \
    --vs usd,eur
is_status 65
ts=$(ts_of)
out_is "{\"pair\":\"bitcoin/usd\",\"ts\":$ts,\"price\":67187.3358936566}
{\"pair\":\"ethereum/eur\",\"ts\":$ts,\"price\":3235.6911}
{\"pair\":\"cardano/eur\",\"ts\":$ts,\"price\":0.45}"
err_is "coinfetch: bitcoin/eur: price is null
coinfetch: ethereum/usd: price is negative
coinfetch: tether/usd: price is zero
coinfetch: tether/eur: no price
coinfetch: dogecoin/usd: price is not a number
coinfetch: dogecoin/eur: no price
coinfetch: solana/usd: price is not a finite number
coinfetch: solana/eur: no price
coinfetch: cardano/usd: no price
coinfetch: ripple: not an object in the answer
coinfetch: polkadot/usd: price is not a number
coinfetch: polkadot/eur: no price"

reset "body file=coins_markets_bad.json"
run "markets: bad prices warned about by coin and dropped" coinfetch
is_status 65
same "$(nreq)" 1 "requests"
ts=$(ts_of)
out_is "{\"pair\":\"bitcoin/usd\",\"ts\":$ts,\"price\":70187}
{\"pair\":\"cardano/usd\",\"ts\":$ts,\"price\":0.45}"
err_is "coinfetch: ethereum/usd: price is null
coinfetch: tether/usd: no price
coinfetch: coin 4 of the page: no \"id\"
coinfetch: dogecoin/usd: price is not a number
coinfetch: solana/usd: price is negative
coinfetch: bad id/usd: pair holds a space at byte 4"

reset
timed "top 600: three pages of 250" coinfetch --top 600
is_status 0
err_empty
same "$(nreq)" 3 "requests"
for p in 1 2 3; do
	log_has "GET /api/v3/coins/markets?vs_currency=usd&order=market_cap_desc&per_page=250&page=$p&precision=full "
done
same "$(nlines "$OUT")" 600 "ticks"
one_ts 60
grep '^tick ' "$SERVED" | head -600 | sort >"$WORK/want"
ticks_of >"$WORK/got"
if cmp -s "$WORK/got" "$WORK/want"; then pass; else
	fail "the ticks are not the first 600 served"
fi
out_has '"pair":"coin-0600/usd"'

reset ok invalid
run "top 600: a page lost, the others kept" coinfetch --top 600
is_status 65
same "$(nreq)" 3 "requests"
same "$(nlines "$OUT")" 350 "ticks"
err_has "coinfetch: /coins/markets page 2: invalid JSON at byte"

reset "invalid times=0"
run "all: two pages lost in a row end it" coinfetch --all
is_status 65
out_empty
same "$(nreq)" 2 "requests"

reset
run "top 10: one page of 10" coinfetch -t 10
is_status 0
same "$(nreq)" 1 "requests"
log_has "per_page=10&page=1&"
same "$(nlines "$OUT")" 10 "ticks"

reset
run "vs: one request per currency" coinfetch --vs usd,eur
is_status 0
same "$(nreq)" 2 "requests"
log_has "GET /api/v3/coins/markets?vs_currency=usd&"
log_has "GET /api/v3/coins/markets?vs_currency=eur&"
same "$(nlines "$OUT")" 200 "ticks"
same "$(ts_of | wc -l)" 1 "distinct ts"
as_served
out_has '{"pair":"bitcoin/eur","ts":'"$(ts_of)"',"price":35093.5}'

reset
timed "all: every page, paced" coinfetch --all
is_status 0
err_empty
same "$(nreq)" 6 "requests"
log_has "per_page=250&page=6&"
same "$(nlines "$OUT")" 1300 "ticks"
as_served
# Bursts of 5, then 30 a minute: the sixth waits about 2 s (less the
# time the five took, which memcheck makes long).
if [ -z "${VALGRIND:-}" ]; then
	at_least $(($(req_ms 6) - $(req_ms 5))) 1000 "ms between pages 5 and 6"
fi

reset
timed "exchange: pages of tickers, anomalies and stale ones out" \
    coinfetch --exchange binance
is_status 0
err_empty
same "$(nreq)" 3 "requests"
for p in 1 2 3; do
	log_has "GET /api/v3/exchanges/binance/tickers?page=$p&order=base_target "
done
same "$(nlines "$OUT")" 217 "ticks"
one_ts 60
as_served
out_has '{"pair":"binance:BTC/USDT","ts":'"$ts"',"price":69476}'
if grep -q '"binance:B0010/USDT"\|"binance:B0015/USDT"' "$OUT"; then
	fail "an anomalous or stale ticker was kept"
else
	pass
fi

reset
run "exchange: unknown" coinfetch -e nosuchexchange
is_status 69
out_empty
same "$(nreq)" 1 "requests"
err_has "HTTP 404"

if command -v script >/dev/null 2>&1; then
	reset
	T="progress on a terminal"
	script -qec "coinfetch --top 600 >/dev/null" /dev/null \
	    >"$WORK/tty" 2>&1 </dev/null
	if grep -q 'coinfetch: usd: page 3, 500 coins' "$WORK/tty"; then
		pass
	else
		fail "no progress line: $(head -c 300 "$WORK/tty")"
	fi
fi

# ---------------------------------------------------------------------
# Passing failures are retried; refusals are not.

room 6
reset "429 ra=1"
timed "429 then success waits Retry-After" coinfetch --coins bitcoin
is_status 0
same "$(nreq)" 2 "requests"
same "$(nlines "$OUT")" 1 "ticks"
at_least $(($(req_ms 2) - $(req_ms 1))) 1000 "ms between the attempts"

room 6
reset "429 ra=date+2"
timed "429 with an HTTP-date" coinfetch --coins bitcoin
is_status 0
same "$(nreq)" 2 "requests"
at_least $(($(req_ms 2) - $(req_ms 1))) 900 "ms between the attempts"

reset "429 ra=120"
timed "429 asking past the next batch: no retry" coinfetch --coins bitcoin
is_status 75
out_empty
same "$(nreq)" 1 "requests"
err_has "HTTP 429 (rate limited)"
err_has "past the next batch"
at_most "$elapsed" $((3000 * SLOW)) "ms"

reset "429"
run "429 without retries" coinfetch --coins bitcoin --retries 0
is_status 75
same "$(nreq)" 1 "requests"
err_has "still failing after 1 attempt"

room 6
reset "500 times=0"
timed "endless 500 gives 75" coinfetch --retries 2
is_status 75
out_empty
same "$(nreq)" 3 "requests"
err_is "coinfetch: /coins/markets: HTTP 500: mock error 500; still failing after 3 attempts"
# Backoff of 0.5-1 s, then 1-2 s.
at_least "$elapsed" 1400 "ms"
at_most "$elapsed" $((5000 * SLOW)) "ms"

room 6
reset "503 times=2"
run "503 twice, then success" coinfetch --coins bitcoin
is_status 0
same "$(nreq)" 3 "requests"
same "$(nlines "$OUT")" 1 "ticks"

room 6
reset "408"
run "408 then success" coinfetch --coins bitcoin
is_status 0
same "$(nreq)" 2 "requests"

room 6
reset "html"
run "an HTML page is retried" coinfetch --coins bitcoin
is_status 0
same "$(nreq)" 2 "requests"
same "$(nlines "$OUT")" 1 "ticks"

room 6
reset "html times=0"
run "HTML for ever gives 75" coinfetch --coins bitcoin --retries 1
is_status 75
out_empty
same "$(nreq)" 2 "requests"
err_has "not JSON"

room 6
reset "403 file=cdn_block.html type=text/html times=0"
run "a 403 page of the CDN is retried" coinfetch --coins bitcoin --retries 1
is_status 75
same "$(nreq)" 2 "requests"

room 6
reset "empty"
run "an empty answer is retried" coinfetch --coins bitcoin
is_status 0
same "$(nreq)" 2 "requests"

room 6
reset "truncate"
run "a truncated answer is retried" coinfetch --coins bitcoin,ethereum
is_status 0
same "$(nreq)" 2 "requests"
same "$(nlines "$OUT")" 2 "ticks"

reset "invalid"
run "invalid JSON is dropped, not retried" coinfetch --coins bitcoin
is_status 65
out_empty
same "$(nreq)" 1 "requests"
err_has "coinfetch: /simple/price: invalid JSON at byte"

reset "hang"
timed "no answer: the timeout" coinfetch --coins bitcoin --timeout 1s \
    --retries 0
is_status 75
out_empty
same "$(nreq)" 1 "requests"
err_has "timed out"
at_most "$elapsed" $((3000 * SLOW)) "ms"

reset "drip"
timed "a dripping answer: the timeout" coinfetch --timeout 1s --retries 0
is_status 75
out_empty
at_most "$elapsed" $((3000 * SLOW)) "ms"

room 6
reset "slow ms=1500"
run "slow, then in time" coinfetch -c bitcoin --timeout 1s --retries 1
is_status 0
same "$(nreq)" 2 "requests"

reset "endless"
timed "an endless answer is cut off" coinfetch --coins bitcoin
is_status 65
out_empty
same "$(nreq)" 1 "requests"
err_has "answer larger than 16 MiB"
at_most "$elapsed" $((5000 * SLOW)) "ms"

reset "big"
run "a Content-Length too large" coinfetch --coins bitcoin
is_status 65
same "$(nreq)" 1 "requests"
err_has "answer larger than 16 MiB"

reset "401"
run "401: refused at once" coinfetch
is_status 69
out_empty
same "$(nreq)" 1 "requests"
err_has "HTTP 401"
err_has "set COINGECKO_API_KEY"

reset "401 file=error_echo_key.json"
run "401 quoting the key: withheld" env COINGECKO_API_KEY=$KEY coinfetch
is_status 69
same "$(nreq)" 1 "requests"
err_has "withheld"
lacks "$KEY"

reset "400"
run "400, a key for the other root" env COINGECKO_API_KEY=$KEY coinfetch
is_status 69
same "$(nreq)" 1 "requests"
err_has "the key is for the other API root; a Pro key goes with https://pro-api.coingecko.com/api/v3"
lacks "$KEY"

reset "403"
run "403: refused at once" coinfetch --coins bitcoin
is_status 69
same "$(nreq)" 1 "requests"
err_has "HTTP 403"

reset "404"
run "404: refused at once" coinfetch --coins bitcoin
is_status 69
same "$(nreq)" 1 "requests"

reset "redirect"
run "a redirect within the root is followed" \
    env COINGECKO_API_KEY=$KEY coinfetch --coins bitcoin
is_status 0
same "$(nreq)" 2 "requests"
log_has "GET /moved/api/v3/simple/price?ids=bitcoin&vs_currencies=usd&precision=full ua=coinfetch/$VERSION demo=$KEY "

reset "redirect to=http://localhost:$PORT/api/v3/simple/price?ids=bitcoin&vs_currencies=usd"
run "a redirect to another host is not followed" \
    env COINGECKO_API_KEY=$KEY coinfetch --coins bitcoin
is_status 69
same "$(nreq)" 1 "requests"
err_has "another host"

reset "redirect to=file:///etc/passwd"
run "a redirect to file: is not followed" coinfetch --coins bitcoin
is_status 69
same "$(nreq)" 1 "requests"
out_empty

reset "redirect times=0"
run "redirects are capped" coinfetch --coins bitcoin
is_status 69
same "$(nreq)" 6 "requests"
err_has "more than 5 redirects"

room 6
reset
run "nothing listening" env COINGECKO_API_URL=http://127.0.0.1:1/api/v3 \
    coinfetch --retries 1
is_status 75
out_empty
err_has "ouldn't connect"

reset
run "https is not downgraded" \
    env COINGECKO_API_URL="https://127.0.0.1:$PORT/api/v3" \
    coinfetch --retries 0
is_status 75
out_empty
same "$(nreq)" 0 "requests"

reset
run "stdout that fails" sh -c 'coinfetch --coins bitcoin >/dev/full'
is_status 74
err_is "coinfetch: stdout: No space left on device"

# ---------------------------------------------------------------------
# Batches in time.

reset
timed "interval 1s, count 3: three aligned batches" \
    coinfetch --coins bitcoin,ethereum --interval 1s --count 3
is_status 0
err_empty
same "$(nreq)" 3 "requests"
same "$(nlines "$OUT")" 6 "ticks"
set -- $(ts_of)
same "$#" 3 "distinct ts"
same "${2:-0}" $((${1:-0} + 1)) "second ts"
same "${3:-0}" $((${1:-0} + 2)) "third ts"
same "$(sed -n 2p "$OUT" | sed 's/.*"ts":\([0-9]*\).*/\1/')" "${1:-}" \
    "the ts of both ticks of the first batch"

reset
run "interval 2s: aligned to 2 s" coinfetch -c bitcoin -i 2s -n 2
is_status 0
set -- $(ts_of)
same "$#" 2 "distinct ts"
same $((${1:-1} % 2)) 0 "ts modulo 2"
same "${2:-0}" $((${1:-0} + 2)) "second ts"

reset
T="SIGTERM ends after the batch in hand"
coinfetch --coins bitcoin --interval 1s >"$WORK/sig.out" 2>"$WORK/sig.err" &
pid=$!
at_exit "kill $pid 2>/dev/null"
n=0
while [ "$(nlines "$WORK/sig.out")" -lt 2 ] && [ $n -lt 100 ]; do
	n=$((n + 1))
	sleep 0.05
done
kill -TERM $pid
# A watchdog, lest a coinfetch that ignored the signal hang the tests.
(sleep 10; kill -KILL $pid) 2>/dev/null &
dog=$!
wait $pid 2>/dev/null
rc=$?
kill $dog 2>/dev/null
same "$rc" 143 "status"
same "$(nlines "$WORK/sig.out")" "$(nreq)" "ticks, one a batch"
if grep -qv '^{"pair":"bitcoin/usd","ts":[0-9]*,"price":67187.3358936566}$' \
    "$WORK/sig.out"; then
	fail "a torn line: $(cat "$WORK/sig.out")"
else
	pass
fi

# ---------------------------------------------------------------------
# Backfill.

# The ticks the served chart points should give: ms to s, the last
# point floored to the minute and replacing the others of its minute,
# the later of one time kept, only those after since.
expect_chart() {
	grep '^chart ' "$SERVED" | awk -v since="$1" '
	{ n++; pair[n] = $2; ts[n] = int($3 / 1000); p[n] = $4 }
	END {
		ts[n] -= ts[n] % 60
		for (i = 1; i <= n; i++) {
			if ((i < n && ts[i] >= ts[n]) || ts[i] <= since)
				continue
			if (!(ts[i] in val))
				ord[++m] = ts[i]
			val[ts[i]] = p[i]
		}
		for (j = 1; j <= m; j++)
			printf "{\"pair\":\"%s\",\"ts\":%d,\"price\":%s}\n",
			    pair[1], ord[j], val[ord[j]]
	}'
}

reset
timed "history 1d: the backfill, in seconds" \
    coinfetch --history 1d --coins bitcoin
is_status 0
err_empty
same "$(nreq)" 1 "requests"
log_has "GET /api/v3/coins/bitcoin/market_chart?vs_currency=usd&days=1&precision=full ua=coinfetch/$VERSION "
expect_chart $((t0 / 1000 - 86400)) >"$WORK/want"
if [ "$(nlines "$WORK/want")" -gt 280 ] && cmp -s "$OUT" "$WORK/want"; then
	pass
else
	fail "backfill differs:
$(diff "$WORK/want" "$OUT" | head -10)"
fi
# The point given twice: the later price won.
out_has '"price":61000.25}'
set -- $(sed -n '$s/.*"ts":\([0-9]*\).*/\1/p' "$OUT")
same $((${1:-1} % 60)) 0 "the last point's ts modulo 60"

reset
timed "history 2h in eur: the last two hours only" \
    coinfetch --history 2h --coins ethereum --vs eur
is_status 0
log_has "GET /api/v3/coins/ethereum/market_chart?vs_currency=eur&days=1&"
expect_chart $((t0 / 1000 - 7200)) >"$WORK/want"
if cmp -s "$OUT" "$WORK/want"; then pass; else
	fail "backfill differs:
$(diff "$WORK/want" "$OUT" | head -10)"
fi
at_least "$(nlines "$OUT")" 20 "ticks"
at_most "$(nlines "$OUT")" 26 "ticks"

reset
run "history 3d: days=3" coinfetch --history 3d --coins bitcoin
is_status 0
log_has "market_chart?vs_currency=usd&days=3&"

reset
run "history of the top 2" coinfetch --history 1h --top 2
is_status 0
same "$(nreq)" 3 "requests"
log_has "GET /api/v3/coins/markets?vs_currency=usd&order=market_cap_desc&per_page=2&page=1&"
log_has "GET /api/v3/coins/bitcoin/market_chart?vs_currency=usd&days=1&"
log_has "GET /api/v3/coins/ethereum/market_chart?vs_currency=usd&days=1&"
sed 's/.*"ts":\([0-9]*\).*/\1/' "$OUT" >"$WORK/ts"
if sort -n -c "$WORK/ts" 2>/dev/null; then pass; else
	fail "the backfill is not in time order"
fi

reset
run "history of an unknown coin" coinfetch --history 1d --coins nosuchcoin
is_status 69
out_empty
err_has "coin not found"

reset
run "history, then live batches" \
    coinfetch --history 1h --coins bitcoin --interval 1s --count 2
is_status 0
same "$(nreq)" 3 "requests"
same "$(grep -c '"price":67187.3358936566}' "$OUT")" 2 "live ticks"

# ---------------------------------------------------------------------
# The examples of the man page, against the mock.

examples() {
	awk '/^\.Sh / { ex = ($2 == "EXAMPLES") }
	ex && /^\\&\$ / { sub(/^\\&\$ /, ""); print }
	ex && /^\$ / { sub(/^\$ /, ""); print }
	ex && /^\* \* \* \* \* / { sub(/^(\* )+/, ""); print }' "$MAN"
}
examples >"$WORK/examples"
T="man page examples"
at_least "$(nlines "$WORK/examples")" 7 "examples"
while IFS= read -r cmd; do
	reset
	T="example: $cmd"
	sh -c "$cmd" >"$OUT" 2>"$ERR" </dev/null
	rc=$?
	is_status 0
	err_empty
	case $cmd in
	coinfetch*) at_least "$(nreq)" 1 "requests" ;;
	esac
done <"$WORK/examples"
T="example: the backfill reached the store"
out_has '"pair":"bitcoin/usd"'

finish
