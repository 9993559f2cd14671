#!/bin/sh
# test-secure.sh: a system-wide preload inside a setuid program (AT_SECURE) records nothing and opens no file.
. "$ST_SRCDIR/tests/lib.sh"

# Installed through /etc/ld.so.preload or a system LD_PRELOAD, the library is
# loaded into setuid programs too, where it runs with the owner's privileges
# but reads the invoking user's environment. If it then honoured
# SENDTRACE_OUTPUT (or TMPDIR), any user could make a setuid-root program
# create or append to any file. We simulate that install without touching
# /etc/ld.so.preload: in secure mode the loader preloads a name without a
# slash from the system library directories, and only when it is set-user-ID.
[ "$(id -u)" = 0 ] || skip "needs root: installs a setuid library and a setuid-root program"
command -v setpriv >/dev/null || skip "needs setpriv to run the program as nobody"
id nobody >/dev/null 2>&1 || skip "needs the user nobody"
nogroup=$(id -gn nobody)

sysdir=
for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do
	[ -d "$d" ] && [ ! -L "$d" ] && { sysdir=$d; break; }
done
[ -n "$sysdir" ] || skip "no system library directory found"

name=libsendtrace-test-$$.so
syslib=$sysdir/$name
victim=/tmp/victim-$$
etcfile=/etc/sendtrace-test-$$.jsonl
S=$(mktemp -d /tmp/st-secure.XXXXXX)
R=$(mktemp -d /tmp/st-secure-root.XXXXXX)
pids=
cleanup() {
	rm -f "$syslib" "$victim" "$etcfile"
	for p in $pids; do rm -f "/tmp/sendtrace.$p.jsonl"; done
	rm -rf "$S" "$R" "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# The program sends in several ways, says on stdout what it saw (the part that
# must not change), and on stderr whether it ran in secure mode with the
# library mapped (so that the test cannot pass vacuously) and its pid.
cat >"$S/prog.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

int main(void)
{
	char buf[64], line[512];
	struct iovec iov = {(char *)"world", 5};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	int sv[2], mapped = 0;
	ssize_t a, b, c, d, r = 0, n;
	FILE *m;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 3;
	a = send(sv[0], "hello", 5, 0);
	b = sendmsg(sv[0], &msg, 0);
	c = write(sv[0], "again", 5);
	d = sendto(sv[0], "bye", 3, 0, NULL, 0);
	while (r < 18 && (n = recv(sv[1], buf, sizeof(buf), 0)) > 0)
		r += n;
	printf("send %zd sendmsg %zd write %zd sendto %zd received %zd\n", a, b, c, d, r);
	m = fopen("/proc/self/maps", "r");
	while (m && fgets(line, sizeof(line), m))
		if (strstr(line, "libsendtrace"))
			mapped = 1;
	fprintf(stderr, "secure %lu mapped %d pid %d euid %d\n", getauxval(AT_SECURE), mapped,
		(int)getpid(), (int)geteuid());
	return 0;
}
EOF
${CC:-cc} -O2 -o "$S/prog" "$S/prog.c" 2>"$T/cc.err" || skip "cannot build the test program: $(cat "$T/cc.err")"
chmod 4755 "$S/prog"
chmod 755 "$S"
chmod 700 "$R"
cp "$ST_TEST_LIB" "$syslib"
chmod 4755 "$syslib"
printf 'root-only secret\nline two\n' >"$victim"
chmod 600 "$victim"
cp "$victim" "$T/victim.orig"

as_nobody() { setpriv --reuid=nobody --regid="$nogroup" --clear-groups "$@"; }
as_nobody test -x "$S/prog" || skip "nobody cannot run $S/prog (a parent directory is not searchable)"

# Untraced: the reference output and status.
want=$(as_nobody "$S/prog" 2>"$T/plain.err")
wantst=$?
grep -q "^secure 1 mapped 0 .* euid 0$" "$T/plain.err" ||
	skip "the setuid program does not run in secure mode here (nosuid /tmp?): $(cat "$T/plain.err")"

# run NAME ENV...: the program as nobody with the library preloaded by name.
run() {
	n=$1
	shift
	# Each case starts from the same state.
	cp "$T/victim.orig" "$victim" && chmod 600 "$victim"
	rm -rf "${R:?}"/* "${R:?}"/.[!.]*
	# The variables are set by env, already running as nobody: setpriv itself
	# (root, not secure) must not be the one that loads the library.
	out=$(as_nobody env -u SENDTRACE_OUTPUT "$@" LD_PRELOAD=$name "$S/prog" 2>"$T/$n.err")
	st=$?
	pid=$(sed -n 's/.* pid \([0-9]*\) .*/\1/p' "$T/$n.err")
	pids="$pids $pid"
	eq "$n: exit status as untraced" "$st" "$wantst"
	eq "$n: stdout as untraced" "$out" "$want"
	# Not vacuous: secure mode, and the library really was loaded into it.
	ok "$n: the library was mapped into the setuid program" \
		grep -q "^secure 1 mapped 1 pid [0-9]* euid 0$" "$T/$n.err"
	ok "$n: no default trace file /tmp/sendtrace.$pid.jsonl" test ! -e "/tmp/sendtrace.$pid.jsonl"
}

# 1. SENDTRACE_OUTPUT naming a root-only file: it must stay byte for byte.
run victim SENDTRACE_OUTPUT="$victim"
ok "victim: the root-only file is byte-for-byte unchanged" cmp -s "$victim" "$T/victim.orig"
eq "victim: still root's, mode 600" "$(stat -c %U:%a "$victim")" "root:600"

# 2. A path where nobody may not create files.
run etc SENDTRACE_OUTPUT="$etcfile"
ok "etc: $etcfile was not created" test ! -e "$etcfile"

# 3. No SENDTRACE_OUTPUT, TMPDIR a root-only directory (the loader drops
# TMPDIR in secure mode; the default in /tmp is checked by run as well).
run tmpdir TMPDIR="$R"
eq "tmpdir: nothing created in the root-only TMPDIR" "$(ls -A "$R")" ""

# 4. A %p template in a root-only directory.
run pidfile SENDTRACE_OUTPUT="$R/t.%p.jsonl"
eq "pidfile: nothing created in the root-only directory" "$(ls -A "$R")" ""

# 5. The victim again, with every option that makes the library do more work
# (backtraces, payload capture, all fds), and TMPDIR set as well.
run options SENDTRACE_OUTPUT="$victim" TMPDIR="$R" SENDTRACE_BACKTRACE=8 SENDTRACE_PAYLOAD=64 \
	SENDTRACE_FDS=all
ok "options: the victim is unchanged" cmp -s "$victim" "$T/victim.orig"
eq "options: nothing created in TMPDIR" "$(ls -A "$R")" ""
finish
