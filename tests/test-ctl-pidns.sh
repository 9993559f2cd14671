#!/bin/sh
# test-ctl-pidns.sh: processes in pid namespaces (containers) sharing a control directory: each its own page though both are pid 1; ctl reaches them by their pid here; --all does not sweep their live pages.
. "$ST_SRCDIR/tests/lib.sh"
. "$ST_SRCDIR/tests/ctllib.sh"
D=$T/ctl
[ "$(id -u)" = 0 ] || skip "needs root: makes pid namespaces"
unshare -p -f true 2>/dev/null || skip "cannot make a pid namespace here"

# inner NAME: `ctlhostile loop` as pid 1 of a new pid namespace, dormant; HP: its pid here.
inner() {
	unshare -p -f env LD_PRELOAD="$LIB" SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT="$T/$1.jsonl" \
		"$H" loop "$T/$1.stop" "$T/$1.pid" 2>"$T/$1.err" &
	u=$!
	wait_for test -s "$T/$1.pid"
	HP=$(cat "/proc/$u/task/$u/children" | tr -d ' ')
}
inner a
A=$HP
inner b
B=$HP
eq "both are pid 1 in their namespace" "$(cat "$T/a.pid") $(cat "$T/b.pid")" "1 1"
ok "a maps a page" test -n "$(page_ino "$A")"
ok "b maps a page" test -n "$(page_ino "$B")"
ok "the two pages are two files (b did not take a's)" test "$(page_ino "$A")" != "$(page_ino "$B")"
"$ST" ctl "$A" >"$T/a.st" 2>&1
ok "ctl reaches a by its pid here" grep -q "^$A ctlhostile: off, events 0" "$T/a.st"
"$ST" ctl "$A" on >/dev/null
ok "a records once on" wait_for sh -c "[ \$(EVQ_LIVE=1 '$EVQ' '$T/a.jsonl' event=call) -gt 3 ]"
ok "b is still off" sh -c "'$ST' ctl $B | grep -q '^$B ctlhostile: off'"
ok "b records nothing" test ! -e "$T/b.jsonl"
touch -d '-1 minute' "$D"/sendtrace-ctl.*
"$ST" ctl --all >/dev/null 2>&1
ok "ctl --all leaves the page of the live b (pid 1 there, init here)" test -e "$D/sendtrace-ctl.1"
ok "and ctl still reaches b" sh -c "'$ST' ctl $B | grep -q '^$B ctlhostile: off'"
touch "$T/a.stop"
while kill -0 "$A" 2>/dev/null; do sleep 0.05; done
ok "a's exit leaves b's page (the name is b's now)" test -e "$D/sendtrace-ctl.1"
touch "$T/b.stop"
wait
ok "no page left behind" sh -c "! ls '$D' | grep -q ."
finish
