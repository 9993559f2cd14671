#!/bin/sh
# test-ctl-fds.sh: a program that closes every fd and dup2()s over 0 and 2, dormant and after ctl on: it sees what it would untraced, and the library keeps no fd but the trace file once on.
. "$ST_SRCDIR/tests/lib.sh"
. "$ST_SRCDIR/tests/ctllib.sh"
D=$T/ctl

# Untraced, for what the program must see.
touch "$T/plain.go" "$T/plain.stop"
"$H" closeall "$T/plain.go" "$T/plain.stop" "$T/plain.pid" >"$T/plain.out" 2>&1
eq "untraced: status" "$?" 0

env LD_PRELOAD="$LIB" SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT="$T/fds.jsonl" \
	"$H" closeall "$T/fds.go" "$T/fds.stop" "$T/fds.pid" >"$T/fds.out" 2>"$T/fds.err" &
P=$(pid_of "$T/fds.pid")
# Dormant, after its close_range, close loop and dup2s: nothing of the library's in its fd table.
ls -l "/proc/$P/fd" >"$T/fds.dormant"
ok "dormant: no fd of the library's" sh -c "! grep -q -e sendtrace -e '$T/fds.jsonl' '$T/fds.dormant'"
ok "dormant: reachable all the same" sh -c "'$ST' ctl $P | grep -q '^$P ctlhostile: off'"
"$ST" ctl "$P" on >/dev/null
touch "$T/fds.go"
ok "on: the program went through its round" wait_for grep -q "^on: dup2 pings" "$T/fds.out"
ls -l "/proc/$P/fd" >"$T/fds.on"
eq "on: one fd of the library's, the trace file" "$(grep -c "$T/fds.jsonl" "$T/fds.on")" 1
ok "on: no other (no control page fd)" sh -c "! grep -q sendtrace-ctl '$T/fds.on'"
touch "$T/fds.stop"
wait
eq "status as untraced" "$?" 0
eq "what the program saw, as untraced" "$(cat "$T/fds.out")" "$(cat "$T/plain.out")"
eq "no warning (fd 2 is the program's socket by then)" "$(warnings "$T/fds.err")" 0
ok "the trace is strict JSON Lines" sh -c "'$EVQ' '$T/fds.jsonl' >/dev/null"
eq "nothing recorded while dormant: every ping of the on round, none before" \
	"$(count "$T/fds.jsonl" event=call call=send len=37)" 100
eq "the sends on fd 0 (dup2'ed over) recorded" "$(count "$T/fds.jsonl" event=call call=send fd=0 len=3)" 50
eq "the sends after each close recorded (EBADF)" "$(count "$T/fds.jsonl" event=call call=send errno=EBADF)" 2
ok "page removed at exit" sh -c "! ls '$D' | grep -q ."
finish
