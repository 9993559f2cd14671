#!/bin/sh
# test-follow.sh: show -f is complete (dead threads, truncation), bounded (a 40 GB file) and whole-line.
. "${ST_SRCDIR:-.}/tests/lib.sh"

# The follower polls every 200 ms; these waits only bound how long a loaded
# machine may take, and every check counts lines.
# wait_for N FILE PATTERN: until FILE has N lines matching PATTERN (60 s at most).
wait_for() {
	i=0
	while [ "$(grep -c -- "$3" "$2")" -lt "$1" ] && [ $i -lt 300 ]; do
		sleep 0.2
		i=$((i + 1))
	done
}

# follow FILE OUT: show -f in the background; its pid in $fpid.
follow() {
	"$ST" show -f "$@" >"$FOUT" 2>"$FOUT.err" &
	fpid=$!
}

stop() {
	kill -INT $fpid
	wait $fpid
	fstatus=$?
}

# 1. 5,000 threads that sent once and died, then 200 more: the holes of the
#    dead are never filled; every later event must still be shown.
F=$T/dead.jsonl FOUT=$T/dead.out
: >"$F"
follow "$F"
SENDTRACE_OUTPUT=$F LD_PRELOAD=$ST_TEST_LIB "$ST_BUILDDIR/tests/threadsend" 5000 "$T/go" 200 &
tpid=$!
wait_for 5000 "$FOUT" ' send('
touch "$T/go"
wait $tpid
wait_for 5200 "$FOUT" ' send('
sleep 0.5 # a few more polls: nothing may come twice
stop
eq "dead threads: the first 5,000 events and the 200 after them, once each" \
	"$(grep -c ' send(' "$FOUT")" "5200"

# 2. The file truncated and written again while followed.
F=$T/trunc.jsonl FOUT=$T/trunc.out
: >"$F"
follow "$F"
SENDTRACE_OUTPUT=$F LD_PRELOAD=$ST_TEST_LIB "$ST_BUILDDIR/tests/threadsend" 10
wait_for 10 "$FOUT" ' send('
: >"$F"
SENDTRACE_OUTPUT=$F LD_PRELOAD=$ST_TEST_LIB "$ST_BUILDDIR/tests/threadsend" 10
wait_for 20 "$FOUT" ' send('
sleep 0.5
stop
eq "truncated: the 10 events before and the 10 after" "$(grep -c ' send(' "$FOUT")" "20"
ok "truncated: and it says so" grep -q "truncated\|rewritten" "$FOUT.err"

# 3. A 40 GB file (sparse): read in bounded windows, not into memory at once.
F=$T/big.jsonl FOUT=$T/big.out
if truncate -s 40G "$F" 2>/dev/null; then
	printf '\n' >>"$F"
	follow "$F"
	SENDTRACE_OUTPUT=$F LD_PRELOAD=$ST_TEST_LIB "$ST_BUILDDIR/tests/threadsend" 10
	wait_for 10 "$FOUT" ' send('
	ok "40 GB: still following" kill -0 $fpid
	rss=$(awk '/^VmRSS/ { print $2 }' /proc/$fpid/status 2>/dev/null)
	echo "# 40 GB: the follower's resident set: ${rss:-?} KiB"
	ok "40 GB: under 64 MiB resident (${rss:-?} KiB)" [ "${rss:-999999}" -lt 65536 ]
	stop
	eq "40 GB: the 10 events appended are shown" "$(grep -c ' send(' "$FOUT")" "10"
	eq "40 GB: exit 0 at ^C" "$fstatus" "0"
	rm -f "$F"
else
	echo "# no 40 GB sparse file here: part 3 not run"
fi

# 4. A line half copied: tornwrite's memcpy stops inside the thread's name
#    and waits. Shown now, it would be valid JSON with a blank name.
F=$T/torn.jsonl FOUT=$T/torn.out
: >"$F"
follow --json "$F"
SENDTRACE_OUTPUT=$F LD_PRELOAD=$ST_TEST_LIB "$ST_BUILDDIR/tests/tornwrite" "$T/paused" "$T/go4" &
tpid=$!
i=0
while [ ! -e "$T/paused" ] && [ $i -lt 300 ]; do
	sleep 0.2
	i=$((i + 1))
done
wait_for 1 "$FOUT" '"len":3,'
sleep 1 # five polls of the follower while the line is half written
touch "$T/go4"
wait $tpid
eq "torn: the writer ran" "$?" "0"
wait_for 1 "$FOUT" '"len":7,'
sleep 0.5
stop
eq "torn: the half-copied event is shown once" "$(grep -c '"len":7,' "$FOUT")" "1"
eq "torn: both calls shown whole, never with the blank name" \
	"$(grep '"event":"call"' "$FOUT" | grep -c '"comm":"tornwrite"')" "2"
eq "torn: and nothing else shown for them" "$(grep -c '"event":"call"' "$FOUT")" "2"
finish
