#!/bin/sh
# test-runsum.sh: run's closing summary counts processes by pid (an exec chain is one) and names a daemon still writing.
. "$ST_SRCDIR/tests/lib.sh"
EX=$ST_BUILDDIR/examples/echo-pair

# sh, exec'ing sh, exec'ing echo-pair: three start records, one process.
"$ST" run -o "$T/chain.jsonl" -- sh -c "exec sh -c 'exec \"$EX\"'" >/dev/null 2>"$T/err"
eq "the exec chain exits 0" "$?" "0"
cat "$T/err"
eq "three start records" "$(count "$T/chain.jsonl" event=start)" 3
ok "summed up as one process" grep -q "6 calls from 1 process traced to" "$T/err"

# A child that outlives the program: the summary says it is still writing.
"$ST" run -o "$T/daemon.jsonl" -- sh -c "(sleep 2; exec \"$EX\") >/dev/null 2>&1 & exit 0" \
	>/dev/null 2>"$T/err2"
eq "the program exits 0 at once" "$?" "0"
cat "$T/err2"
ok "the summary names the process still running" \
	grep -q "0 calls so far from [0-9]* processes traced to .*; [0-9]* still running and writing to it (pid [0-9]*" \
	"$T/err2"
# It does write: wait for it (bounded), then its calls are in the file.
i=0
while [ "$(count "$T/daemon.jsonl" event=exit)" -lt 2 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
eq "the daemon's calls arrive later" "$(count "$T/daemon.jsonl" event=call)" 6
finish
