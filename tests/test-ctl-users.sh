#!/bin/sh
# test-ctl-users.sh: who may control whom (the user or root, nobody else), a daemon that drops root, and setuid programs (AT_SECURE), which make no page at all.
. "$ST_SRCDIR/tests/lib.sh"
. "$ST_SRCDIR/tests/ctllib.sh"
[ "$(id -u)" = 0 ] || skip "needs root: runs programs as another user (setpriv)"
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
id nobody >/dev/null 2>&1 || skip "needs the user nobody"
nogroup=$(id -gn nobody)
nuid=$(id -u nobody)
asnobody() { setpriv --reuid=nobody --regid="$nogroup" --clear-groups "$@"; }
asnobody test -x "$ST" 2>/dev/null ||
	skip "nobody cannot reach the build directory $ST_BUILDDIR (a 0700 parent?): the other-user checks run the build's programs as nobody"
chmod 755 "$T"
mkdir -m 1777 "$T/out" # pid files, stop files and traces of nobody's
O=$T/out
D=$T/ctl

# 1. root's process: nobody is refused, whatever the action; the page does not move.
env LD_PRELOAD="$LIB" SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT="$T/root.jsonl" \
	"$H" loop "$O/root.stop" "$O/root.pid" 2>"$T/root.err" &
P=$(pid_of "$O/root.pid")
cp "$D/sendtrace-ctl.$P" "$T/root.page"
for act in on off status "set backtrace=4"; do
	# shellcheck disable=SC2086
	asnobody "$ST" ctl "$P" $act >/dev/null 2>"$T/nobody.err"
	eq "nobody: ctl $act of root's process: status 2" "$?" 2
	ok "nobody: ctl $act of root's process: refused, and why" grep -q "refused: the process runs as uid 0" "$T/nobody.err"
done
asnobody "$ST" ctl --all on >/dev/null 2>"$T/nobody.err"
eq "nobody: ctl --all finds nothing of root's (status 1)" "$?" 1
ok "nobody: root's page did not move" cmp -s "$D/sendtrace-ctl.$P" "$T/root.page"
ok "root's process still off" sh -c "'$ST' ctl $P | grep -q '^$P ctlhostile: off'"
touch "$O/root.stop"
wait

# 2. nobody's process, with the default directory (/tmp/sendtrace-UID):
# nobody controls it, and so does root.
env -u SENDTRACE_CTL_DIR -u XDG_RUNTIME_DIR true
asnobody env -u SENDTRACE_CTL_DIR -u XDG_RUNTIME_DIR LD_PRELOAD="$LIB" SENDTRACE_ENABLE=0 \
	SENDTRACE_OUTPUT="$O/nobody.jsonl" "$H" loop "$O/nobody.stop" "$O/nobody.pid" 2>"$T/np.err" &
P=$(pid_of "$O/nobody.pid")
ND=/tmp/sendtrace-$nuid
ok "nobody's page is in $ND, nobody's, 0700" sh -c "[ \"\$(stat -c %U:%a '$ND')\" = nobody:700 ] && [ -f '$ND/sendtrace-ctl.$P' ]"
asnobody env -u SENDTRACE_CTL_DIR "$ST" ctl "$P" on >"$T/np.on" 2>&1
ok "nobody: ctl on of its own process" grep -qx "$P: on" "$T/np.on"
ok "nobody's process records, into nobody's file" \
	wait_for sh -c "[ \$(EVQ_LIVE=1 '$EVQ' '$O/nobody.jsonl' event=call pid=$P) -gt 3 ]"
eq "the trace file is nobody's" "$(stat -c %U "$O/nobody.jsonl")" nobody
"$ST" ctl "$P" off >"$T/np.off" 2>&1
ok "root: ctl off of nobody's process" grep -qx "$P: off" "$T/np.off"
"$ST" ctl "$P" set backtrace=2 >"$T/np.set" 2>&1
ok "root: ctl set on nobody's process" grep -q "backtrace=2" "$T/np.set"
touch "$O/nobody.stop"
wait
ok "nobody's page removed at exit" test ! -e "$ND/sendtrace-ctl.$P"

# 3. A daemon started as root, whose page is made as root, drops to nobody:
# root still controls it; nobody (now its user) cannot reach root's
# directory; its page, left at exit (nobody may not remove it), is swept.
env LD_PRELOAD="$LIB" SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT="$O/drop.jsonl" \
	"$H" dropuid "$nuid" "$O/drop.stop" "$O/drop.pid" 2>"$T/drop.err" &
P=$(pid_of "$O/drop.pid")
asnobody "$ST" ctl "$P" on >/dev/null 2>"$T/drop.nobody"
eq "dropped: nobody cannot control it (status 2)" "$?" 2
ok "dropped: and is told why" grep -q -e "cannot read its memory map" -e "cannot open its control page" "$T/drop.nobody"
"$ST" ctl "$P" on >"$T/drop.on" 2>&1
ok "dropped: root switches it on" grep -qx "$P: on" "$T/drop.on"
ok "dropped: it records" wait_for sh -c "[ \$(EVQ_LIVE=1 '$EVQ' '$O/drop.jsonl' event=call pid=$P len=59) -gt 3 ]"
touch "$O/drop.stop"
wait
touch -d '-1 minute' "$D/sendtrace-ctl.$P" 2>/dev/null
"$ST" ctl --all >/dev/null 2>&1
ok "dropped: what it could not remove, root's ctl --all sweeps" test ! -e "$D/sendtrace-ctl.$P"

# 4. A program with a umask that takes the owner's bits away too: its
# directory and page are 0700 and 0600 all the same, and its user reaches it.
asnobody sh -c "umask 777; exec env SENDTRACE_CTL_DIR='$O/um' LD_PRELOAD='$LIB' SENDTRACE_ENABLE=0 \
	'$H' loop '$O/um.stop' '$O/um.pid'" 2>"$T/um.err" &
P=$(pid_of "$O/um.pid")
ok "umask 777: the directory is 0700" sh -c "[ \"\$(stat -c %a '$O/um')\" = 700 ]"
ok "umask 777: the page is 0600" sh -c "[ \"\$(stat -c %a '$O/um/sendtrace-ctl.$P')\" = 600 ]"
asnobody env SENDTRACE_CTL_DIR="$O/um" "$ST" ctl "$P" on >"$T/um.on" 2>&1
ok "umask 777: its user switches it on" grep -qx "$P: on" "$T/um.on"
touch "$O/um.stop"
wait
eq "umask 777: no warning" "$(warnings "$T/um.err")" 0

# 5. A setuid-root program into which the library is loaded system-wide
# (AT_SECURE; as in test-secure.sh): it makes no page, wherever the
# environment says, and ctl finds nothing to control.
sysdir=
for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do
	[ -d "$d" ] && [ ! -L "$d" ] && { sysdir=$d; break; }
done
if [ -z "$sysdir" ]; then
	echo "# no system library directory: setuid programs are not tested"
	finish
	exit $?
fi
name=libsendtrace-ctltest-$$.so
trap 'rm -f "$sysdir/$name"; rm -rf "$T"' EXIT
cp "$LIB" "$sysdir/$name"
chmod 4755 "$sysdir/$name"
cat >"$T/suid.c" <<'EOS'
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Sends, then says whether it runs in secure mode, with the library, with a control page. */
int main(int argc, char **argv)
{
	char line[512];
	int sv[2], lib = 0, page = 0;
	struct stat sb;
	FILE *m;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0 || send(sv[0], "x", 1, 0) != 1)
		return 3;
	m = fopen("/proc/self/maps", "r");
	while (m && fgets(line, sizeof(line), m)) {
		lib |= strstr(line, "libsendtrace") != NULL;
		page |= strstr(line, "sendtrace-ctl.") != NULL;
	}
	printf("secure %lu lib %d page %d pid %d\n", getauxval(AT_SECURE), lib, page, (int)getpid());
	fflush(stdout);
	while (argc > 1 && stat(argv[1], &sb) != 0)
		usleep(10000);
	return 0;
}
EOS
${CC:-cc} -O2 -o "$T/suid" "$T/suid.c" 2>"$T/cc.err" || skip "cannot build the setuid program: $(cat "$T/cc.err")"
chmod 4755 "$T/suid"
mkdir -m 1777 "$T/tmpctl"
for en in 0 1; do
	asnobody env SENDTRACE_ENABLE=$en SENDTRACE_CTL_DIR="$T/tmpctl" XDG_RUNTIME_DIR="$T/tmpctl" \
		LD_PRELOAD=$name "$T/suid" "$O/suid.stop" >"$O/suid.$en.out" 2>&1 &
	ok "setuid, SENDTRACE_ENABLE=$en: running" wait_for test -s "$O/suid.$en.out"
	P=$(sed -n 's/.* pid \([0-9]*\)$/\1/p' "$O/suid.$en.out")
	if ! grep -q "^secure 1 lib 1 " "$O/suid.$en.out"; then
		touch "$O/suid.stop"
		wait
		skip "the setuid program does not run in secure mode with the library here (nosuid?): $(cat "$O/suid.$en.out")"
	fi
	ok "setuid, SENDTRACE_ENABLE=$en: no page mapped" grep -q " page 0 " "$O/suid.$en.out"
	"$ST" ctl "$P" on >/dev/null 2>"$T/suid.ctl"
	ok "setuid, SENDTRACE_ENABLE=$en: ctl finds nothing to control" grep -q "not traced by sendtrace" "$T/suid.ctl"
	touch "$O/suid.stop"
	wait
	rm -f "$O/suid.stop"
done
eq "setuid: nothing made in SENDTRACE_CTL_DIR / XDG_RUNTIME_DIR" "$(ls -A "$T/tmpctl")" ""
ok "setuid: nothing made in /tmp/sendtrace-$nuid or /run/sendtrace for it" \
	sh -c "! ls /tmp/sendtrace-$nuid /tmp/sendtrace-0 /run/sendtrace 2>/dev/null | grep -q 'sendtrace-ctl.$P\$'"
finish
