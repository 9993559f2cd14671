#!/bin/sh
# test-setup.sh: scripts/setup.sh in a fresh clone says one line when all goes well, and everything when a step fails.
. "$ST_SRCDIR/tests/lib.sh"
command -v git >/dev/null || skip "git is not installed"
[ -e "$ST_SRCDIR/.git" ] || skip "not a git checkout (a release tarball)"
for p in build-essential autoconf automake libtool pkg-config libjansson-dev libunwind-dev \
	python3 binutils strace libcap2-bin; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		skip "$p is missing: this test would install it (run scripts/setup.sh first)"
done

git clone -q "$ST_SRCDIR" "$T/clone"
# What is committed plus what is not yet: the test checks this tree's setup.sh.
cp "$ST_SRCDIR/scripts/setup.sh" "$T/clone/scripts/setup.sh"
"$T/clone/scripts/setup.sh" >"$T/out" 2>&1
eq "setup.sh succeeds in a fresh clone" "$?" "0"
cat "$T/out"
eq "and says one line" "$(wc -l <"$T/out")" 1
ok "that it built the command and the library" grep -qx \
	"setup.sh: built ./cli/sendtrace and ./lib/.libs/libsendtrace.so" "$T/out"
ok "which exist" test -x "$T/clone/cli/sendtrace" -a -f "$T/clone/lib/.libs/libsendtrace.so"

# A step that fails shows its output and names itself.
echo 'int broken(void) { return }' >>"$T/clone/lib/wrap.c"
"$T/clone/scripts/setup.sh" >"$T/out2" 2>&1
eq "a failing build makes setup.sh fail" "$?" "1"
ok "with the compiler's message" grep -q "wrap.c.*error" "$T/out2"
ok "and the step named" grep -qx "setup.sh: make failed" "$T/out2"
finish
