#!/bin/sh
# questions.sh - the three questions about one pair (default bitcoin/usd):
# its current price, its prices over the last 24 hours, its volatility
# rank among all pairs.
pair=${1:-bitcoin/usd}
echo "current price:"
coinstore --dump --latest "$pair" | jq -r '"  \(.price) at \(.ts | todate)"'
echo "last 24 hours:"
coinstore --dump --since 24h "$pair" |
    jq -s -r '"  \(length) prices, from \(map(.price) | min) to \(map(.price) | max)"'
echo "volatility rank:"
coinrank --pair "$pair" | jq -r '"  \(.rank) of \(.of), stddev \(.stddev)"'
