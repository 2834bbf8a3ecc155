#!/bin/sh
# cycle.sh - one fetch-store-stddev-rank cycle, the job cron runs:
#
#	coinfetch | coinstore | coinstddev | coinrank -
#
# The ranking goes to standard output: NDJSON into a file or pipe, a
# table on a terminal.  Arguments are passed to coinfetch.  The exit
# status is that of the first stage that failed (coinfetch's first: 75
# means try later), so that cron mail and `make run` say what went
# wrong; a plain shell pipeline would report only coinrank's.
st=$(mktemp -d "${TMPDIR:-/tmp}/coin-cycle.XXXXXX") || exit 70
trap 'rm -rf "$st"' EXIT
{ coinfetch "$@"; echo $? >"$st/1"; } |
    { coinstore; echo $? >"$st/2"; } |
    { coinstddev; echo $? >"$st/3"; } |
    { coinrank -; echo $? >"$st/4"; }
for i in 1 2 3 4; do
	s=$(cat "$st/$i" 2>/dev/null || echo 70)
	[ "$s" -ne 0 ] && exit "$s"
done
exit 0
