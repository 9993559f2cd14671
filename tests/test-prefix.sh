#!/bin/sh
# test-prefix.sh: a tree already built, configured again with a new prefix, installs a sendtrace that finds its library there.
. "$ST_SRCDIR/tests/lib.sh"
command -v make >/dev/null && command -v cc >/dev/null || skip "no compiler or make"

# A copy of the source as it stands, build products and all (the case that
# went wrong: setup.sh had built it for /usr/local).
mkdir "$T/src"
(cd "$ST_SRCDIR" && tar --exclude=./.git --exclude='./sendtrace-*' -cf - .) | (cd "$T/src" && tar -xf -)
chmod -R u+w "$T/src"
cd "$T/src" || exit 99
[ -x configure ] || autoreconf -fi >/dev/null 2>&1
log=$T/build.log
{ ./configure -q --prefix="$T/one" && make -j2 && ./configure -q --prefix="$T/two" && make -j2 &&
	make install; } >"$log" 2>&1
eq "built for one prefix, configured for another, installed" "$?" "0" || tail -n 30 "$log"
eq "config.h names the new library directory" \
	"$(sed -n 's/^#define PKGLIBDIR "\(.*\)"$/\1/p' config.h)" "$T/two/lib/sendtrace"
ok "the library is installed there" test -f "$T/two/lib/sendtrace/libsendtrace.so"
cd "$T" || exit 99
"$T/two/bin/sendtrace" run -o "$T/out.jsonl" -- "$T/src/examples/echo-pair" >/dev/null 2>"$T/err"
eq "the installed sendtrace runs a program from another directory" "$?" "0"
cat "$T/err"
eq "and traces its sends" "$(count "$T/out.jsonl" event=call call=sendfile)" 1
finish
