#!/bin/sh
# chart.sh - a PNG chart of one pair's last 24 hours, with gnuplot:
#	chart.sh bitcoin/usd btc.png
pair=${1:-bitcoin/usd}
png=${2:-chart.png}
coinstore --dump --since 24h "$pair" | jq -r '[.ts, .price] | @tsv' |
    gnuplot -e "set terminal pngcairo size 800,400; set output '$png';
	set xdata time; set timefmt '%s'; set format x '%H:%M';
	set title '$pair, last 24 hours'; set key off; set grid;
	plot '-' using 1:2 with lines"
