#!/bin/sh
# test-ctl-limits.sh: small RLIMIT_FSIZE and RLIMIT_NOFILE, a read-only runtime directory, XDG_RUNTIME_DIR another user's or world-writable: the program runs exactly as untraced, one warning at most.
. "$ST_SRCDIR/tests/lib.sh"
. "$ST_SRCDIR/tests/ctllib.sh"
EX=$ST_BUILDDIR/examples/echo-pair
command -v prlimit >/dev/null || skip "needs prlimit (util-linux)"

# same NAME ENV... -- COMMAND...: COMMAND untraced, then preloaded dormant and
# recording with ENV: status and stdout as untraced, at most one warning.
same() {
	name=$1
	shift
	envs=
	while [ "$1" != -- ]; do
		envs="$envs $1"
		shift
	done
	shift
	want=$("$@" 2>"$T/$name.plain.err")
	wantst=$?
	for en in 0 1; do
		# shellcheck disable=SC2086
		got=$(env $envs LD_PRELOAD="$LIB" SENDTRACE_ENABLE=$en SENDTRACE_OUTPUT="$T/$name.$en.jsonl" "$@" 2>"$T/$name.$en.err")
		eq "$name, SENDTRACE_ENABLE=$en: status as untraced" "$?" "$wantst"
		eq "$name, SENDTRACE_ENABLE=$en: stdout as untraced" "$got" "$want"
		ok "$name, SENDTRACE_ENABLE=$en: one warning at most" test "$(warnings "$T/$name.$en.err")" -le 1
	done
}

# 1. RLIMIT_FSIZE below one page (no page can be made; growing one would be
# SIGXFSZ), and of two pages (a page, and a trace that fills up at once).
same fsize1k -- prlimit --fsize=1024 "$EX"
ok "fsize1k, dormant: says it cannot be reached" grep -q "RLIMIT_FSIZE is below one page" "$T/fsize1k.0.err"
same fsize4k -- prlimit --fsize=4096 "$EX"
ok "fsize4k: the trace stays within the limit" test "$(stat -c %s "$T/fsize4k.1.jsonl")" -le 4096

# 2. RLIMIT_NOFILE tiny: dormant, the library holds no fd (the program opens
# as many as untraced); recording, it holds the trace file's only.
for n in 4 5 8; do
	want=$(prlimit --nofile=$n "$H" nofile)
	got=$(prlimit --nofile=$n env LD_PRELOAD="$LIB" SENDTRACE_ENABLE=0 "$H" nofile 2>"$T/nofile$n.0.err")
	eq "nofile$n, dormant: status" "$?" 0
	eq "nofile$n, dormant: the program has every fd it would untraced" "$got" "$want"
	ok "nofile$n, dormant: one warning at most" test "$(warnings "$T/nofile$n.0.err")" -le 1
	got=$(prlimit --nofile=$n env LD_PRELOAD="$LIB" SENDTRACE_OUTPUT="$T/nofile$n.jsonl" "$H" nofile 2>"$T/nofile$n.1.err")
	eq "nofile$n, recording: status" "$?" 0
	eq "nofile$n, recording: one fd fewer, the trace file's" "$(echo "$got" | head -1)" \
		"opened $(($(echo "$want" | sed -n 's/^opened \([0-9]*\),.*/\1/p') - 1)), then EMFILE"
	ok "nofile$n, recording: one warning at most" test "$(warnings "$T/nofile$n.1.err")" -le 1
done
ok "nofile4, dormant: says it cannot be reached" grep -q "cannot make control page .*EMFILE" "$T/nofile4.0.err"
ok "nofile8, dormant: reachable (no warning)" test ! -s "$T/nofile8.0.err"

# 3. A read-only runtime directory (a read-only mount, for root; a directory
# of mode 0500, for anyone else).
mkdir -m 700 "$T/ro"
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	for en in 0 1; do
		unshare -m sh -c "mount --bind '$T/ro' '$T/ro' && mount -o remount,bind,ro '$T/ro' '$T/ro' || exit 77
			out=\$(SENDTRACE_CTL_DIR='$T/ro' LD_PRELOAD='$LIB' SENDTRACE_ENABLE=$en SENDTRACE_OUTPUT='$T/ro.$en.jsonl' '$EX' 2>'$T/ro.$en.err'); st=\$?
			[ \"\$out\" = \"\$('$EX' 2>/dev/null)\" ] && echo same; echo status \$st" >"$T/ro.$en.out" 2>&1
		eq "read-only mount, SENDTRACE_ENABLE=$en: status" "$(sed -n 's/^status //p' "$T/ro.$en.out")" 0
		ok "read-only mount, SENDTRACE_ENABLE=$en: stdout as untraced" grep -qx same "$T/ro.$en.out"
		eq "read-only mount, SENDTRACE_ENABLE=$en: warnings" "$(warnings "$T/ro.$en.err")" $((1 - en))
	done
	ok "read-only mount, dormant: says why" grep -q "EROFS" "$T/ro.0.err"
fi
chmod 500 "$T/ro"
if [ "$(id -u)" != 0 ]; then
	same readonly SENDTRACE_CTL_DIR="$T/ro" -- "$EX"
	ok "read-only directory, dormant: says why" grep -q "EACCES" "$T/readonly.0.err"
fi

# 4. XDG_RUNTIME_DIR another user's, as nobody: nothing can be made there.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1 &&
	setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups test -x "$EX" 2>/dev/null; then
	nogroup=$(id -gn nobody)
	mkdir -m 700 "$T/rootxdg"
	chmod 755 "$T"
	mkdir -m 1777 "$T/out" # where nobody may write
	asnobody() { setpriv --reuid=nobody --regid="$nogroup" --clear-groups "$@"; }
	for en in 0 1; do
		got=$(asnobody env -u SENDTRACE_CTL_DIR XDG_RUNTIME_DIR="$T/rootxdg" LD_PRELOAD="$LIB" \
			SENDTRACE_ENABLE=$en SENDTRACE_OUTPUT="$T/out/xdg.$en.jsonl" "$EX" 2>"$T/xdg.$en.err")
		eq "XDG_RUNTIME_DIR root's, as nobody, SENDTRACE_ENABLE=$en: status" "$?" 0
		eq "XDG_RUNTIME_DIR root's, as nobody, SENDTRACE_ENABLE=$en: stdout" "$got" "$("$EX" 2>/dev/null)"
		ok "XDG_RUNTIME_DIR root's, as nobody, SENDTRACE_ENABLE=$en: one warning at most" \
			test "$(warnings "$T/xdg.$en.err")" -le 1
	done
	# The next directory in the list, /tmp/sendtrace-UID, is nobody's own: used quietly.
	eq "XDG_RUNTIME_DIR root's, dormant: falls back to /tmp/sendtrace-UID, no warning" \
		"$(warnings "$T/xdg.0.err")" 0
	eq "XDG_RUNTIME_DIR root's: nothing made there" "$(ls -A "$T/rootxdg")" ""

	# 5. A world-writable XDG_RUNTIME_DIR where another user made sendtrace/
	# first: refused, one warning; where nobody did: the program makes its
	# own, private, and is reachable.
	mkdir -m 1777 "$T/ww"
	mkdir -m 777 "$T/ww/sendtrace"
	for en in 0 1; do
		got=$(env -u SENDTRACE_CTL_DIR XDG_RUNTIME_DIR="$T/ww" LD_PRELOAD="$LIB" \
			SENDTRACE_ENABLE=$en SENDTRACE_OUTPUT="$T/out/ww.$en.jsonl" "$EX" 2>"$T/ww.$en.err")
		eq "world-writable, taken, SENDTRACE_ENABLE=$en: status" "$?" 0
		eq "world-writable, taken, SENDTRACE_ENABLE=$en: stdout" "$got" "$("$EX" 2>/dev/null)"
		eq "world-writable, taken, SENDTRACE_ENABLE=$en: one warning" "$(warnings "$T/ww.$en.err")" 1
		ok "world-writable, taken, SENDTRACE_ENABLE=$en: says why" grep -q "not a private directory" "$T/ww.$en.err"
	done
	eq "world-writable, taken: nothing written in the other's directory" "$(ls -A "$T/ww/sendtrace")" ""
	rmdir "$T/ww/sendtrace"
	asnobody env -u SENDTRACE_CTL_DIR XDG_RUNTIME_DIR="$T/ww" LD_PRELOAD="$LIB" SENDTRACE_ENABLE=0 \
		"$H" loop "$T/out/ww.stop" "$T/out/ww.pid" 2>"$T/ww.err" &
	P=$(pid_of "$T/out/ww.pid")
	ok "world-writable, free: the program made its own private directory" \
		sh -c "[ \"\$(stat -c %U:%a '$T/ww/sendtrace')\" = nobody:700 ]"
	ok "world-writable, free: root reaches the program" \
		sh -c "XDG_RUNTIME_DIR='$T/ww' '$ST' ctl $P | grep -q '^$P ctlhostile: off'"
	touch "$T/out/ww.stop"
	wait
	eq "world-writable, free: no warning" "$(warnings "$T/ww.err")" 0
	chmod 700 "$T"
fi
finish
