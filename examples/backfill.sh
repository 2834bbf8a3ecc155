#!/bin/sh
# backfill.sh - start a new store with a full window at once, then rank:
# a day of history from CoinGecko's market charts, stored, its stats
# computed for every pair at the newest time.  Run it once before
# installing the crontab line, so the first minute's ranking already
# looks back 24 hours.  Arguments go to coinfetch (say --coins a,b).
set -e
coinfetch --history 1d "$@" | coinstore -q
coinstddev --all >/dev/null
coinrank --top 10
