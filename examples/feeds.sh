#!/bin/sh
# feeds.sh - the records feed other tools as they are.
# The five most volatile pairs' names:
coinrank --top 5 | jq -r .pair
# A pair's 24 hours as TSV, for mlr, a spreadsheet, or gnuplot:
coinstore --dump --since 24h bitcoin/usd | jq -r '[.ts, .price] | @tsv' | tail -3
# Each minute's ranking onto a Kafka topic (with kcat installed):
#   coinfetch | coinstore | coinstddev | coinrank - | kcat -P -b localhost:9092 -t coin-rank
