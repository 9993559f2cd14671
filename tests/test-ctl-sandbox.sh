#!/bin/sh
# test-ctl-sandbox.sh: a process that sandboxes itself with seccomp (strict mode, or an allowlist that kills) while dormant, then is switched on: no crash, one warning, the program unharmed, ctl tells.
. "$ST_SRCDIR/tests/lib.sh"
. "$ST_SRCDIR/tests/ctllib.sh"
D=$T/ctl
grep -q '^Seccomp:' /proc/self/status || skip "no seccomp in this kernel"

# feed PID: 30 sends, then the end, through the program's stdin (fd 3 here).
feed() {
	i=0
	while [ $i -lt 30 ]; do
		printf s >&3
		i=$((i + 1))
	done
	sleep 0.2
}

for mode in strict kill; do
	mkfifo "$T/$mode.in"
	# Untraced, for what the program must say.
	(printf 's%.0s' $(seq 60); printf q) | "$H" seccomp $mode "$T/$mode.plainpid" >"$T/$mode.plain" 2>&1
	eq "$mode: untraced status" "$?" 0

	env LD_PRELOAD="$LIB" SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT="$T/$mode.jsonl" \
		"$H" seccomp $mode "$T/$mode.pid" <"$T/$mode.in" >"$T/$mode.out" 2>"$T/$mode.err" &
	exec 3>"$T/$mode.in"
	P=$(pid_of "$T/$mode.pid")
	ok "$mode: the program is in its sandbox" wait_for grep -q '^Seccomp:[[:space:]]*[12]' "/proc/$P/status"
	"$ST" ctl "$P" on >/dev/null
	feed
	"$ST" ctl "$P" >"$T/$mode.st" 2>&1
	ok "$mode: ctl reaches it inside the sandbox" grep -q "^$P ctlhostile: on" "$T/$mode.st"
	ok "$mode: ctl says it cannot record" grep -q "none: it could not be made when switched on" "$T/$mode.st"
	"$ST" ctl --json "$P" >"$T/$mode.json" 2>&1
	ok "$mode: and so does --json" grep -q '"trace":null,"trace_failed":true' "$T/$mode.json"
	"$ST" ctl "$P" set sample=3 >/dev/null 2>&1
	feed
	printf q >&3
	exec 3>&-
	wait $!
	eq "$mode: status as untraced (no SIGSYS, no SIGKILL)" "$?" 0
	eq "$mode: what it said, as untraced" "$(cat "$T/$mode.out")" "$(cat "$T/$mode.plain")"
	eq "$mode: one warning" "$(warnings "$T/$mode.err")" 1
	ok "$mode: which says why, while it could" grep -q "seccomp filter while dormant" "$T/$mode.err"
	ok "$mode: no trace file" test ! -e "$T/$mode.jsonl"
	# Inside the sandbox nothing may be removed: the page stays, for ctl --all.
	touch -d '-1 minute' "$D/sendtrace-ctl.$P" 2>/dev/null
	"$ST" ctl --all >/dev/null 2>&1
	ok "$mode: what it left is swept" test ! -e "$D/sendtrace-ctl.$P"
done

# Recording before the sandbox, switched off and on inside it: events from
# the room claimed ahead, the program unharmed.
mkfifo "$T/rec.in"
env LD_PRELOAD="$LIB" SENDTRACE_OUTPUT="$T/rec.jsonl" \
	"$H" seccomp kill "$T/rec.pid" <"$T/rec.in" >"$T/rec.out" 2>"$T/rec.err" &
exec 3>"$T/rec.in"
P=$(pid_of "$T/rec.pid")
wait_for grep -q '^Seccomp:[[:space:]]*2' "/proc/$P/status"
"$ST" ctl "$P" off >/dev/null
feed
"$ST" ctl "$P" on >/dev/null
feed
printf q >&3
exec 3>&-
wait $!
eq "recording: status 0" "$?" 0
eq "recording: what it said" "$(cat "$T/rec.out")" "sent 060"
eq "recording: no warning" "$(warnings "$T/rec.err")" 0
eq "recording: off inside the sandbox left out the first 30, on took the next 30" \
	"$(count "$T/rec.jsonl" event=call call=write len=3)" 30
ok "recording: the trace is strict JSON Lines" sh -c "'$EVQ' '$T/rec.jsonl' >/dev/null"
finish
