#!/usr/bin/env bash
# run.sh: `make fuzz`: each libFuzzer harness for a bounded time, from the seeds in tests/fuzz/seeds.
# Usage: tests/fuzz/run.sh BUILDDIR SRCDIR [SECONDS_EACH]
set -u
B=$1
S=$2
SECS=${3:-${FUZZ_SECONDS:-30}}
status=0
for h in scan sockaddr cmsg events; do
	corpus=$(mktemp -d "${TMPDIR:-/tmp}/st-fuzz-$h.XXXXXX")
	cp "$S/tests/fuzz/seeds/$h/"* "$corpus/" 2>/dev/null
	dict=
	[ -f "$S/tests/fuzz/$h.dict" ] && dict=-dict="$S/tests/fuzz/$h.dict"
	if "$B/tests/fuzz/fuzz-$h" -max_total_time="$SECS" -max_len=4096 -print_final_stats=1 $dict \
		-artifact_prefix="$B/tests/fuzz/crash-$h-" "$corpus" >"$B/tests/fuzz/fuzz-$h.log" 2>&1; then
		echo "PASS: fuzz-$h ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$B/tests/fuzz/fuzz-$h.log" | grep -o '[0-9]*$') runs in ${SECS}s)"
	else
		echo "FAIL: fuzz-$h (see $B/tests/fuzz/fuzz-$h.log and crash-$h-*)"
		tail -n 30 "$B/tests/fuzz/fuzz-$h.log"
		status=1
	fi
	rm -rf "$corpus"
done
exit $status
