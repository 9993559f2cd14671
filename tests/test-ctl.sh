#!/bin/sh
# test-ctl.sh: dormant loading and `sendtrace ctl`: on, off, status, set, across threads and fork; refusals; cleanup.
. "$ST_SRCDIR/tests/lib.sh"
. "$ST_SRCDIR/tests/ctllib.sh" # SENDTRACE_CTL_DIR=$T/ctl, wait_for, ends
PROG=$ST_BUILDDIR/tests/ctlprog
OUT=$T/trace.jsonl

# The events of one pid so far (0 before the file exists). The file is being
# written: an event being copied (its first byte, a space, goes last) is not
# counted yet (EVQ_LIVE); any other line that does not parse fails the test.
calls_of() {
	[ -e "$OUT" ] || { echo 0; return; }
	EVQ_LIVE=1 count "$OUT" event=call pid="$1" 2>>"$T/evq.err" || echo unparsed
}

# 1. Dormant: no file, nothing recorded, yet reachable.
"$ST" run --dormant -o "$OUT" -- "$PROG" 3 "$T/stop" "$T/pids" >"$T/run.out" 2>&1 &
RUNPID=$!
ok "the program started" wait_for test -s "$T/pids"
read -r P C <"$T/pids"
sleep 0.2
ok "dormant: no trace file" test ! -e "$OUT"
"$ST" ctl "$P" status >"$T/st1" 2>&1
ok "status says off, no file yet" grep -q "^$P ctlprog: off, events 0.*no file until it records" "$T/st1"
eq "dormant: the program's threads only (4), none of the library's" \
	"$(ls /proc/$P/task | wc -l)" 4
ok "dormant: no fd of the library's in the program" \
	sh -c "! ls -l /proc/$P/fd | grep -q -e sendtrace -e sendtrace-ctl"
ok "the child has a page of its own" test -f "$T/ctl/sendtrace-ctl.$C"
ok "--all lists both" sh -c "'$ST' ctl --all status | grep -q '^$P ' && '$ST' ctl --all status | grep -q '^$C '"
ok "--json status" sh -c "'$ST' ctl --json $P | grep -q '\"pid\":$P,.*\"on\":false'"

# 2. On: the parent's threads record; the child, with its own switch, does not.
ok "ctl on" sh -c "'$ST' ctl $P on | grep -qx '$P: on'"
ok "events appear" wait_for sh -c "[ \$(EVQ_LIVE=1 '$EVQ' '$OUT' event=call pid=$P) -gt 20 ]"
tids=$(grep '"event":"call"' "$OUT" | grep "\"pid\":$P," | sed 's/.*"tid":\([0-9]*\).*/\1/' | sort -u | wc -l)
eq "every thread of the parent recorded" "$tids" 4
eq "the child stays off" "$(calls_of "$C")" 0
ok "status says on, with the trace path and counts" \
	sh -c "'$ST' ctl $P | grep -q '^$P ctlprog: on, events [1-9].*; trace $OUT\$'"

# 3. The child on, then the parent off: the parent's events stop.
"$ST" ctl "$C" on >/dev/null
ok "the child records once on" wait_for sh -c "[ \$(EVQ_LIVE=1 '$EVQ' '$OUT' event=call pid=$C) -gt 10 ]"
"$ST" ctl "$P" off >/dev/null
sleep 0.1
n1=$(calls_of "$P")
sleep 0.4
n2=$(calls_of "$P")
eq "off: no event after it" "$n2" "$n1"
ok "off again says already" sh -c "'$ST' ctl $P off | grep -qx '$P: off (already)'"
c1=$(calls_of "$C")
ok "the child goes on recording" wait_for sh -c "[ \$(EVQ_LIVE=1 '$EVQ' '$OUT' event=call pid=$C) -gt $c1 ]"

# 4. set: backtraces switched on at run time, taken within the 100 ms wait.
"$ST" ctl "$C" set backtrace=4 >"$T/set.out" 2>&1
ok "set backtrace=4 is applied" grep -q "backtrace=4" "$T/set.out"
ok "events carry backtraces" wait_for sh -c "[ \$(EVQ_LIVE=1 '$EVQ' '$OUT' event=call pid=$C bt?) -gt 3 ]"
"$ST" ctl "$C" set backtrace=0 >/dev/null
"$ST" ctl "$C" set backtrace=99 >/dev/null 2>"$T/bad.err"
eq "bad setting: status 2" "$?" 2
ok "bad setting: says why" grep -q "bad value '99' for backtrace" "$T/bad.err"
"$ST" ctl "$C" set colour=red >/dev/null 2>"$T/bad.err"
ok "unknown setting named" grep -q "unknown setting 'colour'" "$T/bad.err"
"$ST" ctl 999999999 on >/dev/null 2>"$T/bad.err"
eq "no such process: status 2" "$?" 2
"$ST" ctl $$ status >/dev/null 2>"$T/bad.err"
ok "an untraced process: said so" grep -q "not traced by sendtrace" "$T/bad.err"

# 5. Another user is refused (root runs the suite in CI; setpriv is util-linux).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$ST" 2>/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$ST" ctl "$P" on >/dev/null 2>"$T/perm.err"
	eq "another user: status 2" "$?" 2
	ok "another user: refused, and why" grep -q "refused: the process runs as uid 0" "$T/perm.err"
	ok "another user: the switch did not move" sh -c "'$ST' ctl $P | grep -q ': off,'"
else
	echo "# not root, no setpriv, or nobody cannot reach the build: the other-user refusal is not tested"
fi

# 6. Stop: pages removed at exit; the trace is whole; run sums up.
touch "$T/stop"
wait $RUNPID
eq "run's status is the program's" "$?" 0
ok "pages removed at exit" sh -c "! ls '$T/ctl' | grep -q ."
ok "every line parses" sh -c "'$EVQ' '$OUT' >/dev/null"
eq "the exit records count what was written (parent)" \
	"$(count "$OUT" event=exit pid="$P" events="$(calls_of "$P")")" 1

# 7. Leftovers of a killed process: swept by ctl --all, live pages kept.
SENDTRACE_ENABLE=0 LD_PRELOAD=$ST_BUILDDIR/lib/.libs/libsendtrace.so "$PROG" 0 "$T/stop2" "$T/pids2" &
ok "second program started" wait_for test -s "$T/pids2"
read -r P2 C2 <"$T/pids2"
kill -9 "$P2" "$C2"
wait 2>/dev/null
# The child is not ours to wait for: gone once nothing of it maps a page (a loaded machine takes a while).
ok "both killed processes are gone" wait_for sh -c "! cat /proc/$P2/maps /proc/$C2/maps 2>/dev/null | grep -q sendtrace-ctl"
ok "a killed process leaves its page" test -f "$T/ctl/sendtrace-ctl.$P2"
touch -d '-1 minute' "$T/ctl/sendtrace-ctl.$P2" "$T/ctl/sendtrace-ctl.$C2"
"$ST" ctl --all status >/dev/null 2>"$T/sweep.err"
ok "ctl --all sweeps them" sh -c "[ ! -e '$T/ctl/sendtrace-ctl.$P2' ] && [ ! -e '$T/ctl/sendtrace-ctl.$C2' ]"
# (root sweeps every user's directories: other leftovers on the machine may be counted too)
ok "and says so" grep -Eq "removed [0-9]+ control pages left by ended processes" "$T/sweep.err"

[ -s "$T/evq.err" ] && sed 's/^/# /' "$T/evq.err"
finish
