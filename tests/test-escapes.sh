#!/bin/sh
# test-escapes.sh: no control byte of a trace reaches the terminal through show, stats or lint.
. "$ST_SRCDIR/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed (apt-get install python3)"

# rawbytes FILE: the bytes a terminal would act on: C0 controls but newline, DEL, and the C1
# controls (U+0080-U+009F, as UTF-8 or as single bytes that are not part of a UTF-8 character).
rawbytes() {
	python3 -c '
import re, sys
b = open(sys.argv[1], "rb").read()
c0 = len(re.findall(rb"[\x00-\x09\x0b-\x1f\x7f]", b))
c1 = len(re.findall(rb"\xc2[\x80-\x9f]", b))
lone = sum(1 for ch in b.decode("utf-8", "surrogateescape") if 0xdc80 <= ord(ch) <= 0xdcff)
print(c0 + c1 + lone)' "$1"
}

# Real programs: a served file and a unix socket whose names hold ESC, BEL, DEL, a C1 control
# and a byte that is not UTF-8; and a program whose executable's name holds ESC.
"$ST" run -o "$T/py.jsonl" -- python3 "$ST_SRCDIR/tests/escapes/serve.py" "$T" >"$T/out" 2>"$T/err"
eq "python: the sendfile and the MSG_MORE send are traced" \
	"$(count "$T/py.jsonl" call~sendfile)$(count "$T/py.jsonl" call=send lint.0.id=msg-more-unix)" 11
exe=$(printf '%s/echo\033[31mpair' "$T")
cp "$ST_BUILDDIR/examples/echo-pair" "$exe"
"$ST" run -o "$T/ex.jsonl" -- "$exe" >/dev/null 2>&1
eq "echo-pair traced under its odd name" "$(count "$T/ex.jsonl" event=start)" 1
cat "$T/py.jsonl" "$T/ex.jsonl" >"$T/real.jsonl"

# Hand-made events: every other field that holds a name, each with control bytes.
E='\u001b[2J\u0007\u007f\u009b31m'
cat >"$T/made.jsonl" <<EOT
{"v":1,"event":"start","ts":1795304409620099778,"pid":7,"tid":7,"comm":"c$E","ppid":1,"how":"exec$E","exe":"/bin/x$E","argv":["a$E","\u0008"]}
{"v":1,"event":"call","ts":1795304409620099779,"pid":7,"tid":7,"comm":"c$E","call":"send$E","fd":3,"sock":{"family":"AF_INET","type":"SOCK_DGRAM$E","proto":"udp$E","local":"l$E","peer":"10.0.0.1:53$E"},"len":4,"flags":["MSG_MORE","X$E"],"payload":"p\u007f\u009b","ret":4,"errno":"E$E","dur_ns":9,"lint":[{"id":"msg-more-unix","severity":"warning$E"},{"id":"x$E","severity":"info"}],"bt":[{"ip":"0x1$E","obj":"/nonexistent/o$E","off":"0x1$E","fn":"f$E","fn_off":"0x2$E"},{"ip":"0x3$E"}]}
{"v":1,"event":"call","ts":1795304409620099780,"pid":7,"tid":7,"call":"sendto","fd":4,"sock":{"family":"AF_X$E","type":"SOCK_RAW$E"},"addr":"to$E","len":1,"ret":1,"dur_ns":9}
{"v":1,"event":"call","ts":1795304409620099781,"pid":7,"tid":7,"call":"sendmsg","fd":5,"sock":{"family":"AF_UNIX","type":"SOCK_DGRAM","peer":"/run/p$E"},"addr":"/run/a$E","iov":[{"len":1}],"len":1,"cmsg":[{"level":"L$E","type":7,"k$E":"v$E"},{"type":"T$E","data":"d$E"}],"ret":1,"dur_ns":9,"lint":[{"id":"msg-more-unix"}],"site":{"obj":"/o$E","off":"0x9$E"}}
{"v":1,"event":"call","ts":1795304409620099782,"pid":7,"tid":7,"call":"sendfile","fd":6,"in":{"fd":7,"kind":"k$E"},"offset":0,"len":1,"ret":1,"dur_ns":9}
{"v":1,"event":"other$E","ts":1795304409620099783,"pid":7,"tid":7}
{"v":1,"event":"call","ts":1795304409620099784,"pid":7,"tid":7,"call":"send","fd":8,"sock":{"family":"AF_UNIX","type":"SOCK_STREAM","peer":"/s$E"},"len":1,"flags":["MSG_MORE"],"ret":1,"dur_ns":9,"lint":[{"id":"msg-more-unix","severity":"warning"}],"bt":[{"obj":"/b$E","off":"0x5$E"}]}
EOT
# And lines that are not JSON: jansson quotes what it stopped at in its error.
printf '{"v":1,"event":"call","x":\033[2J}\n' >>"$T/made.jsonl"

for f in real made; do
	for cmd in "show" "show --bt" "show --time=rel" "stats" "lint"; do
		$ST $cmd "$T/$f.jsonl" >"$T/o" 2>"$T/e"
		st=$?
		[ "$st" -le 2 ] || echo "$cmd $f: exit $st"
		eq "$cmd, $f trace: no raw control byte on stdout" "$(rawbytes "$T/o")" 0
		eq "$cmd, $f trace: none on stderr either" "$(rawbytes "$T/e")" 0
		cp "$T/o" "$T/$f.$(echo "$cmd" | tr -d ' -=')"
	done
done

# The names are still there, escaped, not dropped.
ok "show: the served file's name, escaped" grep -q 'served\\x1b\[2J\\x1b\]0;owned\\x07\\x7f\\xc2\\x9b31m\\xff\.txt>' "$T/real.show"
ok "show: the socket's name, escaped" grep -q 'sock\\x1b\[2J\\x1b\]0;owned\\x07' "$T/real.show"
ok "show: the program's name, escaped" grep -q 'start .*echo\\x1b\[31mpair' "$T/real.show"
ok "lint: the socket in the example, escaped" grep -q 'sock\\x1b\[2J' "$T/real.lint"
ok "show --bt: a function's name, escaped" grep -q '#0  f\\x1b\[2J\\x07\\x7f\\xc2\\x9b31m+0x2' "$T/made.showbt"
ok "show: the payload, JSON-escaped" grep -q 'data="p\\u007f\\u009b"' "$T/made.show"
ok "stats: the socket kind and destination, escaped" grep -q '^X\\x1b\[2J.*/RAW\\x1b\[2J.* to\\x1b\[2J' "$T/made.stats"
ok "lint: the backtrace site, escaped" grep -q 'at /b\\x1b\[2J.*+0x5' "$T/made.lint"
# --json is JSON: its strings are escaped by JSON's rules, and read back as they were.
"$ST" show --json "$T/made.jsonl" 2>/dev/null | head -n 1 >"$T/j"
eq "show --json: control bytes as JSON escapes" "$(rawbytes "$T/j")" 0
ok "show --json: and the value unchanged" python3 -c '
import json, sys
e = json.loads(open(sys.argv[1]).read())
assert e["exe"] == "/bin/x\x1b[2J\x07\x7f\x9b31m", e["exe"]' "$T/j"
finish
