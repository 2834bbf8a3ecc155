#!/bin/sh
# fuzz.sh - replay each fuzz corpus (tests/fuzz/corpus) through its
# harness without libFuzzer: every input once, the oracles of the
# harnesses checked (fuzzreplay aborts on a broken one).  `make fuzz'
# runs the harnesses under libFuzzer itself.
. "$(dirname "$0")/lib.sh"

for dir in "$ROOT"/tests/fuzz/corpus/fuzz_*; do
	target=${dir##*/fuzz_}
	run "replay $target" fuzzreplay "$target" "$dir"
	is_status 0
	n=$(ls "$dir" | wc -l)
	err_is "replayed $n inputs"
done

finish
