#!/bin/sh
# pipeline.sh - the whole job against the mock CoinGecko: several
# batches through coinfetch | coinstore | coinstddev | coinrank -, the
# ranking against a reference computed here from the stored ticks, the
# three questions, the examples/ scripts, and `make run`.
. "$(dirname "$0")/lib.sh"

HOME=$WORK/home
mkdir -p "$HOME"
export HOME
mockgecko -p "$WORK/port" -d "$ROOT/tests/data" -n 60 -w -t 240 &
MOCK=$!
at_exit "kill $MOCK 2>/dev/null"
n=0
while [ ! -s "$WORK/port" ] && [ $n -lt 200 ]; do n=$((n + 1)); sleep 0.05; done
COINGECKO_API_URL=http://127.0.0.1:$(cat "$WORK/port")/api/v3
export COINGECKO_API_URL

# --- five batches, a second apart, the whole job each ------------------
run "the job, five batches" sh -c 'coinfetch --top 60 --interval 1s \
    --count 5 | coinstore | coinstddev --window 1h | coinrank -'
is_status 0
err_empty
same "$(wc -l <"$OUT" | tr -d ' ')" 300 "rank lines: 5 rankings of 60"
same "$(jq -r .ts "$OUT" | sort -u | wc -l | tr -d ' ')" 5 "batch times"
LAST=$(jq -r .ts "$OUT" | sort -n | tail -1)
jq -c "select(.ts == $LAST)" "$OUT" >"$WORK/rank"

# The reference: each pair's sample stddev over its stored ticks in the
# window, two-pass in awk from coinstore --dump, sorted as the contract
# says (stddev descending, then pair).
coinstore --dump --since "$((LAST - 3599))" --until "$LAST" |
    jq -r '[.pair, .price] | @tsv' | awk -F'\t' '
	{ n[$1]++; p[$1, n[$1]] = $2 }
	END {
		for (k in n) {
			s = 0; for (i = 1; i <= n[k]; i++) s += p[k, i] - p[k, 1]
			m = s / n[k]; q = 0
			for (i = 1; i <= n[k]; i++) q += (p[k, i] - p[k, 1] - m) ^ 2
			printf "%s\t%.17g\n", k, sqrt(q / (n[k] - 1))
		}
	}' | sort -t"$(printf '\t')" -k2,2gr -k1,1 >"$WORK/ref"
T="ranking equals the reference"
same "$(cut -f1 "$WORK/ref" | tr '\n' ' ')" \
    "$(jq -r .pair "$WORK/rank" | tr '\n' ' ')" "pair order"
paste "$WORK/ref" "$WORK/rank" | awk -F'\t' '{
	split($3, a, "\"stddev\":"); split(a[2], b, ","); sd = b[1]
	d = sd - $2; if (d < 0) d = -d
	if (d > 1e-9 * $2 + 1e-12) { print $1, sd, $2; bad = 1 } }
	END { exit bad }' >"$WORK/diff" && pass || fail "$(head -3 "$WORK/diff")"
same "$(jq -r '[.rank, .of] | @tsv' "$WORK/rank" | awk '$1 != NR || $2 != 60' |
    wc -l | tr -d ' ')" 0 "ranks 1 to 60 of 60"

# --- the three questions ------------------------------------------------
T="current price"
same "$(coinstore --dump --latest bitcoin/usd | jq -r .ts)" "$LAST" \
    "latest bitcoin tick"
same "$(coinstore --dump --since 24h bitcoin/usd | wc -l | tr -d ' ')" 5 \
    "bitcoin's prices over 24 hours"
run "rank" coinrank --pair bitcoin/usd
is_status 0
same "$(jq -r .rank "$OUT")" \
    "$(jq -r .pair "$WORK/rank" | grep -n '^bitcoin/usd$' | cut -d: -f1)" \
    "bitcoin's rank"

# --- examples/ ------------------------------------------------------------
cd "$WORK" || exit 1
run "examples/cycle.sh" sh "$ROOT/examples/cycle.sh" --coins bitcoin,ethereum
is_status 0
same "$(jq -r .pair "$OUT" | sort | tr '\n' ' ')" \
    "bitcoin/usd ethereum/usd " "cycle.sh ranks what it fetched"
run "examples/questions.sh" sh "$ROOT/examples/questions.sh" bitcoin/usd
is_status 0
err_empty
grep -q "^volatility rank:" "$OUT" && grep -q "^  [0-9]* of [0-9]*, stddev" "$OUT" &&
    pass || fail "questions.sh: $(cat "$OUT")"
run "examples/chart.sh" sh "$ROOT/examples/chart.sh" bitcoin/usd "$WORK/btc.png"
is_status 0
same "$(head -c 8 "$WORK/btc.png" | od -An -c | tr -d ' ')" '211PNG\r\n032\n' \
    "a PNG"
run "examples/feeds.sh" sh "$ROOT/examples/feeds.sh"
is_status 0
same "$(wc -l <"$OUT" | tr -d ' ')" 8 "five pairs and three TSV lines"
run "examples/backfill.sh" env COIN_DB="$WORK/bf" \
    sh "$ROOT/examples/backfill.sh" --coins bitcoin,ethereum
is_status 0
same "$(wc -l <"$OUT" | tr -d ' ')" 2 "backfill ranks the coins"
# 288 five-minute points, and "now" when it falls off the grid.
n=$(COIN_DB=$WORK/bf coinstore --dump bitcoin/usd | wc -l | tr -d ' ')
[ "$n" = 288 ] || [ "$n" = 289 ] && pass ||
    fail "$n points for a day of 5-minute points"
# The crontab line's command, as cron would run it (sh, a short PATH).
CRON=$(grep '^\* \* \* \* \*' "$ROOT/examples/crontab" | sed 's/^\* \* \* \* \*  //')
run "examples/crontab" env -i HOME="$HOME" PATH="$BUILD_DIR:/usr/bin:/bin" \
    COINGECKO_API_URL="$COINGECKO_API_URL" sh -c "$CRON"
is_status 0
same "$(jq -r .of "$HOME/rank.ndjson" | sort -u)" 60 \
    "the crontab line ranks the top 100 (the mock has 60)"
[ ! -e "$HOME/rank.ndjson.new" ] && pass || fail "rank.ndjson.new left"
# A run while another holds the lock is skipped, not piled up.
(flock -n "$HOME/.coin.lock" sleep 2) &
LOCKER=$!
sleep 0.3
run "crontab, locked" env -i HOME="$HOME" PATH="$BUILD_DIR:/usr/bin:/bin" \
    COINGECKO_API_URL="$COINGECKO_API_URL" sh -c "$CRON"
is_status 1
wait $LOCKER

# --- make run ----------------------------------------------------------
# As a user would run it: not as a part of this make's run.
unset MAKEFLAGS MAKELEVEL MFLAGS
run "make run" make -s --no-print-directory -C "$ROOT" \
    BUILD="${BUILD:-build}" run
is_status 0
same "$(jq -r .of "$OUT" | sort -u)" 60 \
    "make run ranks the top 100 (the mock has 60)"
[ -s "$HOME/.local/share/coin/data.mdb" ] && pass ||
    fail "make run did not use the default store"
run "make run, API unreachable" env \
    COINGECKO_API_URL=http://127.0.0.1:9/api/v3 \
    make -s --no-print-directory -C "$ROOT" BUILD="${BUILD:-build}" run
T="make run, API unreachable"
grep -q "coinfetch: " "$ERR" && pass || fail "no coinfetch message: $(cat "$ERR")"
case $rc in 0) fail "make run succeeded without the API" ;; *) pass ;; esac

finish
