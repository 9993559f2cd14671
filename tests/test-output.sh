#!/bin/sh
# test-output.sh: where the trace goes, and what happens when it cannot: the program never notices.
. "$ST_SRCDIR/tests/lib.sh"
EX=$ST_BUILDDIR/examples/echo-pair

plain=$("$EX" 2>&1)
traced() { LD_PRELOAD=$ST_TEST_LIB "$@"; }

out=$(SENDTRACE_OUTPUT=$T/a.jsonl traced "$EX" 2>"$T/err")
eq "exit status unchanged" "$?" "0"
eq "stdout unchanged" "$out" "$plain"
eq "nothing on stderr" "$(cat "$T/err")" ""
eq "trace file mode 0600" "$(stat -c %a "$T/a.jsonl")" "600"
eq "six calls" "$(count "$T/a.jsonl" event=call)" "6"

# O_CLOEXEC: the trace fd of a traced shell is marked close-on-exec.
flags=$(SENDTRACE_OUTPUT=$T/c.jsonl traced sh -c '
	for f in /proc/$$/fd/*; do
		[ "$(readlink "$f")" = "$0" ] && sed -n "s/^flags:[[:space:]]*//p" "/proc/$$/fdinfo/${f##*/}"
	done' "$T/c.jsonl")
eq "the trace fd is O_CLOEXEC|O_APPEND|O_RDWR" "$(( 0$flags & 02002003 ))" "$(( 02002002 ))"

# %p gives one file per process.
pidfile=$(SENDTRACE_OUTPUT=$T/p.%p.jsonl traced sh -c 'echo $$; exec "$0" >/dev/null' "$EX")
ok "%p expands to the pid" test -s "$T/p.$pidfile.jsonl"

# The default: $TMPDIR/sendtrace.PID.jsonl, never stdout or stderr.
mkdir "$T/tmp"
out=$(env -u SENDTRACE_OUTPUT TMPDIR=$T/tmp LD_PRELOAD=$ST_TEST_LIB "$EX" 2>&1)
eq "default output leaves stdout/stderr alone" "$out" "$plain"
ok "default output in \$TMPDIR" sh -c 'ls "$0"/sendtrace.*.jsonl >/dev/null' "$T/tmp"

# A symlink is refused: one line, the program runs untraced, the target untouched.
: >"$T/target"
ln -s "$T/target" "$T/link"
out=$(SENDTRACE_OUTPUT=$T/link traced "$EX" 2>"$T/err")
eq "symlink: exit status unchanged" "$?" "0"
eq "symlink: stdout unchanged" "$out" "$plain"
eq "symlink: exactly one warning line" "$(wc -l <"$T/err")" "1"
ok "symlink: it says why" grep -q "symlink, which is refused" "$T/err"
eq "symlink: target untouched" "$(wc -c <"$T/target")" "0"

# A directory that does not exist.
out=$(SENDTRACE_OUTPUT=$T/no/such/dir.jsonl traced "$EX" 2>"$T/err")
eq "missing dir: exit status unchanged" "$?" "0"
eq "missing dir: stdout unchanged" "$out" "$plain"
eq "missing dir: exactly one warning line" "$(wc -l <"$T/err")" "1"
ok "missing dir: names the file" grep -q "cannot open trace file $T/no/such/dir.jsonl" "$T/err"

# A file owned by someone else is refused.
if id nobody >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	: >"$T/theirs.jsonl"
	chown nobody "$T/theirs.jsonl"
	SENDTRACE_OUTPUT=$T/theirs.jsonl traced "$EX" >/dev/null 2>"$T/err"
	ok "a file of another user is refused" grep -q "refusing trace file" "$T/err"
fi

# Malformed settings: one line naming the variable and what it accepts; defaults used.
SENDTRACE_FDS=bogus SENDTRACE_OUTPUT=$T/b.jsonl traced "$EX" >/dev/null 2>"$T/err"
eq "bad SENDTRACE_FDS: one line" "$(wc -l <"$T/err")" "1"
ok "bad SENDTRACE_FDS: says what it accepts" grep -q "SENDTRACE_FDS='bogus' is not valid (accepts: sockets, all)" "$T/err"
eq "bad SENDTRACE_FDS: traced with the default" "$(count "$T/b.jsonl" event=call)" "6"
mkdir "$T/tmp2"
TMPDIR=$T/tmp2 SENDTRACE_OUTPUT='x%q' traced "$EX" >/dev/null 2>"$T/err"
eq "bad SENDTRACE_OUTPUT: one line" "$(wc -l <"$T/err")" "1"
ok "bad SENDTRACE_OUTPUT: names it" grep -q "SENDTRACE_OUTPUT='x%q' is not valid" "$T/err"
ok "bad SENDTRACE_OUTPUT: default used" sh -c 'ls "$0"/sendtrace.*.jsonl >/dev/null' "$T/tmp2"

# A relative path is anchored where the program started, even after chdir.
(cd "$T" && SENDTRACE_OUTPUT=rel.jsonl LD_PRELOAD=$ST_TEST_LIB "$EX" >/dev/null 2>&1)
ok "relative output path" test -s "$T/rel.jsonl"

# An unwritable directory, for a user who is not root.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1 &&
	setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$EX" -a -r "$ST_TEST_LIB"; then
	mkdir "$T/ro" && chmod 755 "$T/ro" && chmod 711 "$T"
	out=$(SENDTRACE_OUTPUT=$T/ro/x.jsonl LD_PRELOAD=$ST_TEST_LIB \
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$EX" 2>"$T/err")
	eq "unwritable dir: exit status unchanged" "$?" "0"
	eq "unwritable dir: stdout unchanged" "$out" "$plain"
	eq "unwritable dir: exactly one warning line" "$(wc -l <"$T/err")" "1"
	ok "unwritable dir: permission denied said" grep -q "permission denied" "$T/err"
	chmod 700 "$T"
fi

# A full disk: a 64 KiB tmpfs, where it can be mounted.
mkdir "$T/full"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=64k tmpfs "$T/full" 2>/dev/null; then
	SENDTRACE_OUTPUT=$T/full/t.jsonl LD_PRELOAD=$ST_TEST_LIB sh -c '
		i=0; while [ $i -lt 12 ]; do "$0" >/dev/null || exit 9; i=$((i + 1)); done' "$EX" 2>"$T/err"
	eq "full disk: every run exits 0" "$?" "0"
	ok "full disk: it is said" grep -q "no space left for trace file" "$T/err"
	ok "full disk: the file holds only whole lines" sh -c '"$0" "$1" >/dev/null' "$EVQ" "$T/full/t.jsonl"
	umount "$T/full"
else
	echo "# full disk: skipped (cannot mount a tmpfs here); RLIMIT_FSIZE below covers the path"
fi

# A file size limit: the tracer's write fails, the program must not die of SIGXFSZ.
(ulimit -f 1; SENDTRACE_OUTPUT=$T/small.jsonl LD_PRELOAD=$ST_TEST_LIB "$EX" >/dev/null 2>"$T/err")
eq "RLIMIT_FSIZE: the program exits 0" "$?" "0"
eq "RLIMIT_FSIZE: one warning" "$(wc -l <"$T/err")" "1"
ok "RLIMIT_FSIZE: the file holds only whole lines" sh -c '"$0" "$1" >/dev/null' "$EVQ" "$T/small.jsonl"
finish
