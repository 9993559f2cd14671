#!/bin/sh
# test-runsum.sh: run's closing summary counts processes by pid (an exec chain is one) and names a daemon still writing; -F files are read by their base name; exit records carry the status.
. "$ST_SRCDIR/tests/lib.sh"
EX=$ST_BUILDDIR/examples/echo-pair

# sh, exec'ing sh, exec'ing echo-pair: three start records, one process.
"$ST" run -o "$T/chain.jsonl" -- sh -c "exec sh -c 'exec \"$EX\"'" >/dev/null 2>"$T/err"
eq "the exec chain exits 0" "$?" "0"
cat "$T/err"
eq "one start record: the images before it made no call, and leave none" \
	"$(count "$T/chain.jsonl" event=start)" 1
ok "summed up as one process" grep -q "6 calls from 1 process traced to" "$T/err"

# A child that outlives the program: the summary says it is still writing.
# (It says so through a FIFO once it runs: its start record is written by then.)
mkfifo "$T/up"
"$ST" run -o "$T/daemon.jsonl" -- \
	sh -c "(echo up >\"$T/up\"; sleep 2; exec \"$EX\") >/dev/null 2>&1 & read x <\"$T/up\"; exit 0" \
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

# run -F -o X writes X.PID; the readers take X for all of them.
mkdir "$T/per"
"$ST" run -F -o "$T/per/x" -- sh -c "\"$EX\"; \"$EX\"" >/dev/null 2>"$T/errF"
eq "run -F exits 0" "$?" "0"
cat "$T/errF"
ok "its summary counts the calls of every X.PID file (the shell sent nothing: no file)" \
	grep -q "12 calls from 2 processes traced to $T/per/x.PID (2 files)" "$T/errF"
"$ST" stats "$T/per/x" >"$T/statsF" 2>&1
eq "stats X finds the X.PID files" "$?" "0"
ok "and counts both programs' sends" grep -q "^total *12 " "$T/statsF"
eq "show X: both programs' calls" "$("$ST" show "$T/per/x" | grep -c ' = ')" 12
"$ST" lint "$T/per/x" >/dev/null 2>&1
eq "lint X: findings from the X.PID files (exit 1)" "$?" "1"
"$ST" stats "$T/per/y" >/dev/null 2>"$T/errY"
eq "a name with no file and no X.PID files is still an error" "$?" "2"
ok "that says so" grep -q "cannot open $T/per/y" "$T/errY"

# The exit record: the status given to exit() or returned from main, and
# SIGABRT for abort(); nothing after _exit() or SIGKILL.
# (bash's exit calls exit(); dash's calls _exit(), interposed too.)
# (--all-procs: these programs send nothing, and would leave no record.)
"$ST" run --all-procs -o "$T/st3.jsonl" -- bash -c 'exit 3' >/dev/null 2>&1
eq "run passes status 3 through" "$?" "3"
eq "the exit record says status 3" "$(count "$T/st3.jsonl" event=exit status=3)" 1
"$ST" run --all-procs -o "$T/dash3.jsonl" -- sh -c 'exit 3' >/dev/null 2>&1
eq "dash's exit 3, through _exit(): status 3" "$(count "$T/dash3.jsonl" event=exit status=3)" 1
"$ST" run -o "$T/st0.jsonl" -- "$EX" >/dev/null 2>&1
eq "a return from main: status 0" "$(count "$T/st0.jsonl" event=exit status=0)" 1
if command -v python3 >/dev/null; then
	"$ST" run --all-procs -o "$T/abrt.jsonl" -- python3 -c 'import os; os.abort()' >/dev/null 2>&1
	eq "abort(): killed by SIGABRT" "$?" "134"
	eq "the exit record says SIGABRT" "$(count "$T/abrt.jsonl" event=exit signal=SIGABRT)" 1
	eq "and no status" "$(count "$T/abrt.jsonl" event=exit signal=SIGABRT status?)" 0
fi
"$ST" run --all-procs -o "$T/kill.jsonl" -- sh -c 'kill -9 $$' >/dev/null 2>&1
eq "SIGKILL: no exit record (nothing runs)" "$(count "$T/kill.jsonl" event=exit)" 0

# By default a process that sends nothing leaves nothing: not a record, and
# with -F not even its file.
"$ST" run -o "$T/idle.jsonl" -- sh -c 'exit 0' >/dev/null 2>&1
eq "an idle program leaves an empty trace" "$(wc -c <"$T/idle.jsonl")" 0
mkdir "$T/idleF"
"$ST" run -F -o "$T/idleF/x" -- sh -c '/bin/true; exit 0' >/dev/null 2>&1
eq "and with -F no file" "$(ls "$T/idleF" | wc -l)" 0
finish
