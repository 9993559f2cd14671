#!/bin/sh
# test-ctl-race.sh: many ctl commands at once against a process of 8 sending threads: no deadlock, the last request wins, none is lost, errno is the program's, the trace stays strict.
. "$ST_SRCDIR/tests/lib.sh"
. "$ST_SRCDIR/tests/ctllib.sh"
D=$T/ctl


# 1. Two requests before the process takes either (it makes no traced call
# meanwhile): both are applied, not just the last.
env LD_PRELOAD="$LIB" SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT="$T/idle.jsonl" \
	"$H" idle "$T/idle.go" "$T/idle.stop" "$T/idle.pid" 2>"$T/idle.err" &
P=$(pid_of "$T/idle.pid")
"$ST" ctl "$P" set backtrace=3 >"$T/idle.a" 2>&1
ok "queued: the first request waits for the next traced call" grep -q "^$P: asked" "$T/idle.a"
"$ST" ctl "$P" set sample=5 >/dev/null 2>&1
touch "$T/idle.go"
ok "queued: the process took them" wait_for sh -c "'$ST' ctl $P | grep -q 'sample=5'"
ok "queued: neither was lost (backtrace=3 sample=5)" sh -c "'$ST' ctl $P | grep -q 'backtrace=3 sample=5'"
"$ST" ctl "$P" set sample=2 >/dev/null 2>&1
ok "taken: a later request changes what it names only" sh -c "'$ST' ctl $P | grep -q 'backtrace=3 sample=2'"
# A process of the user's that takes the page's lock and keeps it: set gives
# up after a second, saying so, rather than hang (root's ctl --all too).
if command -v flock >/dev/null; then
	flock "$D/sendtrace-ctl.$P" sleep 5 &
	locker=$!
	sleep 0.2
	start=$(date +%s)
	"$ST" ctl "$P" set sample=4 >/dev/null 2>"$T/lock.err"
	eq "a lock kept: set fails (status 2)" "$?" 2
	ok "a lock kept: set gives up within 2 s" test $(($(date +%s) - start)) -le 2
	ok "a lock kept: and says why" grep -q "cannot lock its control page: another process holds it" "$T/lock.err"
	kill $(cat "/proc/$locker/task/$locker/children") "$locker" 2>/dev/null
fi
touch "$T/idle.stop"
wait

# 2. Eight threads send and check errno around every call, while four ctl
# processes switch and set as fast as they can for three seconds.
env LD_PRELOAD="$LIB" SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT="$T/race.jsonl" \
	"$H" errno "$T/race.stop" "$T/race.pid" 7 >"$T/race.out" 2>"$T/race.err" &
P=$(pid_of "$T/race.pid")
end=$(($(date +%s) + 3))
for k in 1 2; do
	(while [ "$(date +%s)" -lt $end ]; do "$ST" ctl "$P" on; "$ST" ctl "$P" off; done) >/dev/null 2>&1 &
done
(n=1; while [ "$(date +%s)" -lt $end ]; do "$ST" ctl "$P" set sample=$n backtrace=$((n % 3)); n=$((n % 7 + 1)); done) >/dev/null 2>&1 &
(n=0; while [ "$(date +%s)" -lt $end ]; do "$ST" ctl "$P" set backtrace=$n; "$ST" ctl "$P" set sample=$((n + 2)); n=$(((n + 1) % 4)); done) >/dev/null 2>&1 &
wait $!
sleep 0.3
"$ST" ctl "$P" on >/dev/null
"$ST" ctl "$P" set backtrace=2 sample=1 >"$T/race.set" 2>&1
ok "race: the last request is in force" grep -q "^$P ctlhostile: on, .*backtrace=2 sample=1" "$T/race.set"
sleep 0.3
"$ST" ctl "$P" off >/dev/null
sleep 0.1
ok "race: still recording after it all, with backtraces" \
	sh -c "[ \$(EVQ_LIVE=1 '$EVQ' '$T/race.jsonl' event=call pid=$P bt?) -gt 0 ]"
touch "$T/race.stop"
ok "race: no deadlock: the process ends" ends "$P"
wait
ok "race: errno was the program's at every call" grep -qx "errno mismatches 0" "$T/race.out"
eq "race: no warning" "$(warnings "$T/race.err")" 0
ok "race: the trace is strict JSON Lines" sh -c "'$EVQ' '$T/race.jsonl' >/dev/null"
eq "race: the exit record counts what was written" \
	"$(count "$T/race.jsonl" event=exit pid="$P" events="$(count "$T/race.jsonl" event=call pid="$P")")" 1
echo "# $(grep calls "$T/race.err"), $(count "$T/race.jsonl" event=call) recorded"

# 3. errno while dormant all along: the same, and no file.
env LD_PRELOAD="$LIB" SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT="$T/dormant.jsonl" \
	"$H" errno "$T/dormant.stop" "$T/dormant.pid" 3 >"$T/dormant.out" 2>&1 &
P=$(pid_of "$T/dormant.pid")
sleep 0.5
touch "$T/dormant.stop"
wait
ok "dormant: errno was the program's at every call" grep -qx "errno mismatches 0" "$T/dormant.out"
ok "dormant: no trace file" test ! -e "$T/dormant.jsonl"
ok "no page left behind" sh -c "! ls '$D' | grep -q ."
finish
