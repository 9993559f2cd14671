#!/bin/sh
# test-ctl-exec.sh: exec and posix_spawn under ctl: the switch survives an exec, a page nobody maps any more is swept, never written; a spawned child's page is its own.
. "$ST_SRCDIR/tests/lib.sh"
. "$ST_SRCDIR/tests/ctllib.sh"
ENV=$(command -v env)
# Runtime directories are tmpfs, where a write through a mapping leaves the
# file's time as it was: /dev/shm is one; elsewhere the test runs in $T.
D=$T/ctl
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && D=$(mktemp -d /dev/shm/st-ctl.XXXXXX 2>/dev/null); then
	trap 'rm -rf "$T" "$D"' EXIT
	chmod 700 "$D"
	export SENDTRACE_CTL_DIR=$D
else
	D=$T/ctl
	echo "# no tmpfs at /dev/shm: pages in $D"
fi

# run NAME THEN...: `ctlhostile execat` dormant under the preload; it sends
# until NAME.go, then execs THEN... (the same process).
run() {
	name=$1
	shift
	env LD_PRELOAD="$LIB" SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT="$T/$name.jsonl" \
		"$H" execat "$T/$name.go" "$T/$name.pid" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	P=$(pid_of "$T/$name.pid")
}
on_and_recording() { # on_and_recording NAME: ctl on, and events of the first image appear
	"$ST" ctl "$P" on >/dev/null &&
		wait_for sh -c "[ \$(EVQ_LIVE=1 '$EVQ' '$T/$1.jsonl' event=call pid=$P len=11) -gt 5 ]"
}

# 1. exec of a traced program: the new image keeps the switch and the page.
run keep "$H" loop "$T/keep.stop" "$T/keep.pid2"
ok "exec: the first image records once on" on_and_recording keep
ino1=$(page_ino "$P")
touch "$T/keep.go"
ok "exec: the new image runs" wait_for test -s "$T/keep.pid2"
eq "exec: same process" "$(cat "$T/keep.pid2")" "$P"
ok "exec: the new image records (its own sends)" \
	wait_for sh -c "[ \$(EVQ_LIVE=1 '$EVQ' '$T/keep.jsonl' event=call pid=$P len=7) -gt 5 ]"
"$ST" ctl "$P" >"$T/keep.st" 2>&1
ok "exec: ctl status works on the new image, which is on" grep -q "^$P ctlhostile: on, events [1-9]" "$T/keep.st"
eq "exec: the new image maps the same page" "$(page_ino "$P")" "$ino1"
eq "exec: one page for the pid" "$(ls "$D" | grep -c "^sendtrace-ctl\.$P\$")" 1
"$ST" ctl "$P" off >/dev/null
ok "exec: off reaches the new image" sh -c "'$ST' ctl $P | grep -q '^$P ctlhostile: off'"
touch "$T/keep.stop"
wait
ok "exec: page removed at the new image's exit" test ! -e "$D/sendtrace-ctl.$P"

# 2. exec through a program that is not traced (no preload), which later
# execs a traced one: a `ctl --all` meanwhile does not sweep the page, and
# the switch survives.
run via "$ENV" -u LD_PRELOAD sh -c "sleep 1.5; exec env LD_PRELOAD='$LIB' \"\$0\" loop '$T/via.stop' '$T/via.pid2'" "$H"
ok "via: the first image records once on" on_and_recording via
touch -d '-1 minute' "$D/sendtrace-ctl.$P" # made long ago, as a daemon's is
touch "$T/via.go"
ok "via: the untraced image runs, the page unmapped" \
	wait_for sh -c "grep -qx sh /proc/$P/comm && ! grep -q sendtrace-ctl /proc/$P/maps"
"$ST" ctl --all status >/dev/null 2>"$T/via.sweep"
ok "via: ctl --all meanwhile leaves the page (the exec touched it)" test -e "$D/sendtrace-ctl.$P"
ok "via: the traced image runs" wait_for test -s "$T/via.pid2"
ok "via: the switch survived: on" sh -c "'$ST' ctl $P | grep -q '^$P ctlhostile: on'"
touch "$T/via.stop"
wait

# 3. exec of a program loaded with SENDTRACE_CTL=off, and of one without the
# preload: ctl says not traced and writes nothing; --all sweeps the page.
for how in ctloff nopreload; do
	case $how in
	ctloff) run $how "$ENV" SENDTRACE_CTL=off "$H" loop "$T/$how.stop" "$T/$how.pid2" ;;
	nopreload) run $how "$ENV" -u LD_PRELOAD "$H" loop "$T/$how.stop" "$T/$how.pid2" ;;
	esac
	ok "$how: the first image records once on" on_and_recording $how
	touch "$T/$how.go"
	ok "$how: the new image runs" wait_for test -s "$T/$how.pid2"
	ok "$how: the page stays, unmapped" test -e "$D/sendtrace-ctl.$P"
	cp "$D/sendtrace-ctl.$P" "$T/$how.page"
	"$ST" ctl "$P" on >/dev/null 2>"$T/$how.ctl"
	eq "$how: ctl on: status 2" "$?" 2
	ok "$how: ctl on: says not traced" grep -q "$P: not traced by sendtrace" "$T/$how.ctl"
	ok "$how: ctl on wrote nothing into the page" cmp -s "$D/sendtrace-ctl.$P" "$T/$how.page"
	"$ST" ctl --all status >/dev/null 2>&1
	ok "$how: a page touched at the exec is not swept at once" test -e "$D/sendtrace-ctl.$P"
	touch -d '-1 minute' "$D/sendtrace-ctl.$P"
	"$ST" ctl --all status >/dev/null 2>"$T/$how.sweep"
	ok "$how: ctl --all sweeps it" test ! -e "$D/sendtrace-ctl.$P"
	ok "$how: and says so" grep -q "removed 1 control page left" "$T/$how.sweep"
	touch "$T/$how.stop"
	wait
	ok "$how: the trace is strict JSON Lines" sh -c "'$EVQ' '$T/$how.jsonl' >/dev/null"
done

# 4. posix_spawn (vfork and exec) from a process switched on: the child has
# its own page and switch; the parent's counts are the parent's only.
env LD_PRELOAD="$LIB" SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT="$T/spawn.jsonl" \
	"$H" spawn "$T/spawn.stop" "$T/spawn.pid" "$H" loop "$T/spawn.stop" "$T/spawn.child" >"$T/spawn.out" 2>&1 &
P=$(pid_of "$T/spawn.pid")
C=$(pid_of "$T/spawn.pid" 2)
"$ST" ctl "$P" on >/dev/null
ok "spawn: the parent records" wait_for sh -c "[ \$(EVQ_LIVE=1 '$EVQ' '$T/spawn.jsonl' event=call pid=$P) -gt 5 ]"
ok "spawn: the child has its own page" wait_for test -f "$D/sendtrace-ctl.$C"
"$ST" ctl "$C" on >/dev/null
ok "spawn: the child records once on" wait_for sh -c "[ \$(EVQ_LIVE=1 '$EVQ' '$T/spawn.jsonl' event=call pid=$C) -gt 5 ]"
"$ST" ctl "$C" off >/dev/null
ok "spawn: the child's off leaves the parent on" sh -c "'$ST' ctl $P | grep -q '^$P ctlhostile: on'"
"$ST" ctl "$P" off >/dev/null
"$ST" ctl "$C" on >/dev/null
ok "spawn: the parent's off leaves the child on" sh -c "'$ST' ctl $C | grep -q '^$C ctlhostile: on'"
"$ST" ctl "$P" on >/dev/null
sleep 0.2
touch "$T/spawn.stop"
wait
ok "spawn: the parent saw its child end well" grep -q "child status 0" "$T/spawn.out"
for p in $P $C; do
	eq "spawn: $p's exit record counts its own events" \
		"$(count "$T/spawn.jsonl" event=exit pid=$p events="$(count "$T/spawn.jsonl" event=call pid=$p)")" 1
done
ok "spawn: pages removed at exit" sh -c "! ls '$D' | grep -q ."
finish
