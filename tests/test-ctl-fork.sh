#!/bin/sh
# test-ctl-fork.sh: children made by fork(), raw SYS_fork and from a multi-threaded process under ctl's fire: each child its own page and counts, no deadlock, pages cleaned up.
. "$ST_SRCDIR/tests/lib.sh"
. "$ST_SRCDIR/tests/ctllib.sh"
D=$T/ctl

# hammer PID SECONDS: three ctl processes at once change PID's switch and settings.
hammer() {
	end=$(($(date +%s) + $2))
	(while [ "$(date +%s)" -lt $end ]; do "$ST" ctl "$1" on; "$ST" ctl "$1" off; done) >/dev/null 2>&1 &
	(n=1; while [ "$(date +%s)" -lt $end ]; do "$ST" ctl "$1" set sample=$n; n=$((n % 5 + 1)); done) >/dev/null 2>&1 &
	(n=0; while [ "$(date +%s)" -lt $end ]; do "$ST" ctl "$1" set backtrace=$n; n=$(((n + 1) % 3)); done) >/dev/null 2>&1 &
	wait $! # the last; the others end at the same second
	sleep 0.2
}


# 1. Four threads send; the main thread forks (fork, then raw SYS_fork) a
# child every few ms that sends and exits; ctl switches and sets meanwhile.
env LD_PRELOAD="$LIB" SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT="$T/forks.jsonl" \
	"$H" forks "$T/forks.stop" "$T/forks.pid" 4 >"$T/forks.out" 2>"$T/forks.err" &
P=$(pid_of "$T/forks.pid")
"$ST" ctl "$P" on >/dev/null
hammer "$P" 3
"$ST" ctl "$P" on >/dev/null
"$ST" ctl "$P" set sample=1 backtrace=0 >"$T/forks.set" 2>&1
ok "forks: the last settings asked are in force" grep -q "^$P ctlhostile: on, .*backtrace=0 sample=1" "$T/forks.set"
sleep 0.3
touch "$T/forks.stop"
ok "forks: no deadlock: the process ends" ends "$P"
wait
ok "forks: every child ended well" grep -qx "forks bad 0" "$T/forks.out"
eq "forks: no warning" "$(warnings "$T/forks.err")" 0
ok "forks: the trace is strict JSON Lines" sh -c "'$EVQ' '$T/forks.jsonl' >/dev/null"
kids=$(grep '"event":"call"' "$T/forks.jsonl" | grep '"len":17,' | sed 's/.*"pid":\([0-9]*\),.*/\1/' | sort -u | wc -l)
ok "forks: children recorded ($kids), under pids of their own" test "$kids" -gt 5
eq "forks: no child's send under the parent's pid" "$(count "$T/forks.jsonl" event=call pid="$P" len=17)" 0
eq "forks: the parent's exit record counts its own events only" \
	"$(count "$T/forks.jsonl" event=exit pid="$P" events="$(count "$T/forks.jsonl" event=call pid="$P")")" 1
ok "forks: no page left behind" sh -c "! ls '$D' | grep -q ."
echo "# $(cat "$T/forks.err"), $(count "$T/forks.jsonl" event=call) events"

# 2. A child of syscall(SYS_fork): until its first traced call it still maps
# the parent's page and ctl does not know it; then it has its own, and
# neither's switch moves the other's.
env LD_PRELOAD="$LIB" SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT="$T/raw.jsonl" \
	"$H" rawfork "$T/raw.go" "$T/raw.stop" "$T/raw.pid" >"$T/raw.out" 2>"$T/raw.err" &
P=$(pid_of "$T/raw.pid")
C=$(pid_of "$T/raw.pid" 2)
"$ST" ctl "$P" on >/dev/null
"$ST" ctl "$C" status >/dev/null 2>"$T/raw.ctl"
ok "raw fork: before its first call the child is not reachable" grep -q "$C: not traced" "$T/raw.ctl"
ok "raw fork: and it has no page of its own" test ! -e "$D/sendtrace-ctl.$C"
touch "$T/raw.go"
ok "raw fork: the child records, with the switch the parent has" \
	wait_for sh -c "[ \$(EVQ_LIVE=1 '$EVQ' '$T/raw.jsonl' event=call pid=$C) -gt 5 ]"
ok "raw fork: then it has its own page" sh -c "'$ST' ctl $C | grep -q '^$C ctlhostile: on'"
ok "raw fork: and no longer maps the parent's" sh -c "! grep -q 'sendtrace-ctl.$P\$' /proc/$C/maps"
"$ST" ctl "$C" off >/dev/null
ok "raw fork: the child's off leaves the parent on" sh -c "'$ST' ctl $P | grep -q '^$P ctlhostile: on'"
c1=$(live "$T/raw.jsonl" event=call pid="$C")
sleep 0.3
eq "raw fork: the child off records nothing more" "$(live "$T/raw.jsonl" event=call pid="$C")" "$c1"
touch "$T/raw.stop"
wait
ok "raw fork: the child ended well" grep -qx "child status 0" "$T/raw.out"
for p in $P $C; do
	eq "raw fork: $p's exit record counts its own events" \
		"$(count "$T/raw.jsonl" event=exit pid=$p events="$(count "$T/raw.jsonl" event=call pid=$p)")" 1
done
ok "raw fork: pages removed at exit" sh -c "! ls '$D' | grep -q ."
finish
