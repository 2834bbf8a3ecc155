#!/bin/sh
# examples.sh - run every command of the man pages' EXAMPLES sections
# (the lines that start with "$ "), in order, against a scratch store
# holding a day of prices.  Each must exit 0 and say nothing on stderr.
. "$(dirname "$0")/lib.sh"

NOW=$(date +%s)
HOME=$WORK/home
export HOME
mkdir -p "$HOME" "$WORK/ex"
cd "$WORK/ex" || exit 1

# A day of minute prices for two pairs, ending now; a history file.
awk -v now="$NOW" 'BEGIN {
	t0 = int(now / 60) * 60 - 1439 * 60
	for (m = 0; m < 1440; m++) {
		printf "{\"pair\":\"bitcoin/usd\",\"ts\":%d,\"price\":%.2f}\n",
		    t0 + m * 60, 97000 + 300 * sin(m / 50)
		printf "{\"pair\":\"ethereum/usd\",\"ts\":%d,\"price\":%.2f}\n",
		    t0 + m * 60, 3300 + 40 * cos(m / 30)
	}
}' >history.ndjson
awk 'BEGIN { for (h = 0; h < 24; h++)
	printf "{\"pair\":\"bitcoin/usd\",\"ts\":%d,\"price\":%d}\n",
	    1732406400 + h * 3600, 97000 + h }' >>history.ndjson
coinstore -q history.ndjson || fail "cannot prepare the example store"
coinstore -q --db "$HOME/coin" history.ndjson
# Stats for coinrank: at every batch time of the history, as the job
# would have computed them; in the second store, at its newest time.
coinstddev history.ndjson >/dev/null ||
    fail "cannot compute the example stats"
coinstddev --db "$HOME/coin" --all >/dev/null ||
    fail "cannot compute the example stats in $HOME/coin"

# Lines of EXAMPLES that begin with "$ ", mdoc escapes undone.
examples() {
	awk '/^\.Sh / { ex = ($2 == "EXAMPLES") } ex && /^\$ / {
		sub(/^\$ /, ""); gsub(/\\-/, "-"); gsub(/\\e/, "\\"); print
	}' "$1"
}

for page in "$ROOT"/man/*.[1-9]; do
	examples "$page" >"$WORK/cmds"
	n=0
	while IFS= read -r cmd; do
		n=$((n + 1))
		T="${page##*/}: $cmd"
		sh -c "$cmd" >"$OUT" 2>"$ERR" </dev/null
		rc=$?
		is_status 0
		err_empty
	done <"$WORK/cmds"
	if [ "$(grep -c '^\.Sh EXAMPLES' "$page")" -gt 0 ] && [ "$n" -eq 0 ]; then
		T=${page##*/}
		fail "EXAMPLES has no command to run"
	fi
done

finish
