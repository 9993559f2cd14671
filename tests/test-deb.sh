#!/bin/sh
# test-deb.sh: dpkg-buildpackage makes a lintian-clean .deb with sendtrace on PATH, the library in the multiarch pkglibdir, and the man pages.
. "$ST_SRCDIR/tests/lib.sh"
for tool in dpkg-buildpackage dh dpkg-architecture; do
	command -v $tool >/dev/null ||
		skip "$tool is not installed (apt-get install dpkg-dev debhelper)"
done
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)

mkdir "$T/src"
(cd "$ST_SRCDIR" && tar --exclude=./.git --exclude='./sendtrace-*' --exclude=./deb-build -cf - .) |
	(cd "$T/src" && tar -xf -)
chmod -R u+w "$T/src"
(cd "$T/src" && dpkg-buildpackage -b -us -uc) >"$T/build.log" 2>&1
eq "dpkg-buildpackage -b -us -uc succeeds" "$?" "0" || tail -n 40 "$T/build.log"
deb=$(ls "$T"/sendtrace_*.deb 2>/dev/null | head -n 1)
ok "it makes sendtrace_VERSION_ARCH.deb" test -n "$deb"
[ -n "$deb" ] || { finish; exit 1; }

dpkg-deb -c "$deb" | awk '{print $6}' >"$T/files"
ok "sendtrace on PATH: usr/bin/sendtrace" grep -qx './usr/bin/sendtrace' "$T/files"
ok "the library in the multiarch pkglibdir" \
	grep -qx "./usr/lib/$multiarch/sendtrace/libsendtrace.so" "$T/files"
ok "no libtool archive" sh -c '! grep -q "\.la$" "$1"' sh "$T/files"
ok "sendtrace(1)" grep -qx './usr/share/man/man1/sendtrace.1.gz' "$T/files"
ok "libsendtrace(7)" grep -qx './usr/share/man/man7/libsendtrace.7.gz' "$T/files"
ok "the copyright file" grep -qx './usr/share/doc/sendtrace/copyright' "$T/files"

# The packaged command looks for the library where the package puts it.
dpkg-deb -x "$deb" "$T/root"
ok "the command names /usr/lib/$multiarch/sendtrace" \
	grep -q "/usr/lib/$multiarch/sendtrace" "$T/root/usr/bin/sendtrace"
ok "the packaged library preloads and traces" sh -c \
	'SENDTRACE_OUTPUT="$1/pkg.jsonl" LD_PRELOAD="$2" "$3" >/dev/null 2>&1 &&
	 [ "$("$4" "$1/pkg.jsonl" event=call call=sendmsg)" = 1 ]' sh "$T" \
	"$T/root/usr/lib/$multiarch/sendtrace/libsendtrace.so" "$ST_BUILDDIR/examples/echo-pair" "$EVQ"

if command -v lintian >/dev/null; then
	lintian "$deb" >"$T/lintian" 2>&1
	cat "$T/lintian"
	ok "lintian reports no error" sh -c '! grep -q "^E:" "$1"' sh "$T/lintian"
	ok "nor any warning" sh -c '! grep -q "^W:" "$1"' sh "$T/lintian"
else
	echo "# lintian is not installed (apt-get install lintian): its check is skipped"
fi
finish
