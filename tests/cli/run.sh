#!/bin/sh
# run.sh - run every shell test of tests/cli and sum their counts.
cd "$(dirname "$0")/../.." || exit 1
pass=0
fail=0
status=0
log=$(mktemp) || exit 1
for f in tests/cli/*.sh; do
	case ${f##*/} in lib.sh|run.sh) continue ;; esac
	sh "$f" 2>&1 | tee "$log"
	line=$(grep -E '^[^ ]+: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
	if [ -z "$line" ]; then
		echo "${f##*/}: ended without its count" >&2
		fail=$((fail + 1))
		continue
	fi
	set -- $line
	pass=$((pass + $2))
	fail=$((fail + $4))
done
rm -f "$log"
echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
