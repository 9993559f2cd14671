#!/bin/sh
# test-cli.sh: the sendtrace command end to end: run, show, bad input, help, exit statuses.
. "$ST_SRCDIR/tests/lib.sh"

# --help and --version everywhere.
ok "sendtrace --help exits 0" sh -c '"$0" --help | grep -q "usage: sendtrace"' "$ST"
ok "sendtrace --version" sh -c '"$0" --version | grep -q "^sendtrace [0-9]"' "$ST"
for c in run show; do
	ok "sendtrace $c --help" sh -c '"$0" "$1" --help | grep -q "usage: sendtrace $1"' "$ST" "$c"
	ok "sendtrace $c --version" sh -c '"$0" "$1" --version | grep -q "^sendtrace "' "$ST" "$c"
done
"$ST" frobnicate >/dev/null 2>"$T/err"
eq "an unknown command exits 2" "$?" "2"
ok "and says so" grep -q "unknown command 'frobnicate'" "$T/err"
"$ST" >/dev/null 2>&1
eq "no command exits 2" "$?" "2"

# run: the example, traced into a file of our choosing.
"$ST" run -o "$T/ex.jsonl" -- "$ST_BUILDDIR/examples/echo-pair" >"$T/out" 2>"$T/err"
eq "run passes exit status 0 through" "$?" "0"
ok "the program's own output is intact" grep -q "echo-pair: done" "$T/out"
ok "run says where the trace went" grep -q "calls from 1 process traced to $T/ex.jsonl" "$T/err"
eq "run: one sendmsg with SCM_RIGHTS" "$(count "$T/ex.jsonl" call=sendmsg cmsg.0.type=SCM_RIGHTS)" 1
eq "run: the EPIPE send" "$(count "$T/ex.jsonl" call=send errno=EPIPE)" 1
eq "run: start and exit records" "$(count "$T/ex.jsonl" event=start)$(count "$T/ex.jsonl" event=exit)" 11

"$ST" run -o "$T/x.jsonl" -- sh -c 'exit 7' 2>/dev/null
eq "run passes exit status 7 through" "$?" "7"
"$ST" run -o "$T/x.jsonl" -- sh -c 'kill -TERM $$' 2>"$T/err"
eq "a program killed by SIGTERM gives 143" "$?" "143"
ok "and run says it was killed" grep -q "killed by signal 15" "$T/err"
"$ST" run -o "$T/x.jsonl" -- /nonexistent/prog 2>"$T/err"
eq "a missing program gives 127" "$?" "127"
"$ST" run 2>/dev/null
eq "run without a program exits 2" "$?" "2"
"$ST" run -o "$T/nodir/x.jsonl" -- true 2>"$T/err"
eq "run with an output it cannot create exits 2" "$?" "2"
ok "and names the file" grep -q "cannot create $T/nodir/x.jsonl" "$T/err"
# Output written relative to the working directory by default.
(cd "$T" && "$ST" run -- "$ST_BUILDDIR/examples/echo-pair" >/dev/null 2>&1)
ok "default output is ./sendtrace.jsonl" test -s "$T/sendtrace.jsonl"
# Untraceable programs are named as such.
if printf 'int main(void){return 3;}' | ${CC:-cc} -static -x c -o "$T/static" - 2>/dev/null; then
	"$ST" run -o "$T/s.jsonl" -- "$T/static" 2>"$T/err"
	eq "a static program still runs, status 3" "$?" "3"
	ok "and run says it cannot be traced" grep -q "statically linked" "$T/err"
fi

# show: one line per event.
"$ST" show "$T/ex.jsonl" >"$T/show" 2>"$T/err"
eq "show exits 0 on a clean trace" "$?" "0"
ok "show: sendmsg line" grep -q 'sendmsg(3<UNIX-STREAM:(unnamed)->(unnamed)>, iov=\[5,7\], len=12, cmsg=\[SCM_RIGHTS{fds=\[4\]}\], MSG_NOSIGNAL) = 12' "$T/show"
ok "show: sendto line" grep -q 'sendto([0-9]*<UDP:0.0.0.0:[0-9]*>, len=5, to=127.0.0.1:[0-9]*, 0) = 5' "$T/show"
ok "show: sendfile line" grep -q 'sendfile([0-9]*<TCP:127.0.0.1:[0-9]*->127.0.0.1:[0-9]*>, in=[0-9]*</.*echo-pair>, offset=0, count=512) = 512' "$T/show"
ok "show: errno by name" grep -q 'send(.*MSG_NOSIGNAL) = -1 EPIPE' "$T/show"
ok "show: start record" grep -q '+++ start .*echo-pair' "$T/show"
eq "show: a line per event" "$(wc -l <"$T/show")" "$(count "$T/ex.jsonl" v=1)"
"$ST" show - <"$T/ex.jsonl" >"$T/show2" 2>&1
ok "show - reads standard input" cmp -s "$T/show" "$T/show2"

# Bad input: named, skipped, counted; exit status 2.
"$ST" show "$T/missing.jsonl" >/dev/null 2>"$T/err"
eq "a missing file exits 2" "$?" "2"
ok "with a clear message" grep -q "cannot open $T/missing.jsonl: No such file" "$T/err"
"$ST" show "$T" >/dev/null 2>"$T/err"
eq "a directory exits 2" "$?" "2"
ok "and says it is a directory" grep -q "is a directory" "$T/err"
head -n 2 "$T/ex.jsonl" >"$T/bad.jsonl"
printf 'this is not json\n' >>"$T/bad.jsonl"
printf '{"v":2,"event":"call"}\n' >>"$T/bad.jsonl"
sed -n 3p "$T/ex.jsonl" >>"$T/bad.jsonl"
sed -n 4p "$T/ex.jsonl" | head -c 40 >>"$T/bad.jsonl"
"$ST" show "$T/bad.jsonl" >"$T/out" 2>"$T/err"
eq "malformed lines: exit 2" "$?" "2"
eq "the three good events are shown" "$(wc -l <"$T/out")" "3"
ok "line 3 named" grep -q "bad.jsonl:3: not valid JSON" "$T/err"
ok "line 4: the wrong version" grep -q "bad.jsonl:4: unsupported schema version" "$T/err"
ok "line 6: truncated" grep -q "bad.jsonl:6: truncated last line" "$T/err"
ok "closing summary" grep -q "bad.jsonl: 3 bad lines skipped" "$T/err"
: >"$T/empty.jsonl"
"$ST" show "$T/empty.jsonl" >"$T/out" 2>&1
eq "an empty file is fine and prints nothing" "$?:$(wc -c <"$T/out")" "0:0"
head -c 3000 /dev/urandom >"$T/garbage"
"$ST" show "$T/garbage" >/dev/null 2>&1
eq "binary garbage exits 2, no crash" "$?" "2"

# Case directories: fixed input, arguments, expected output and status.
for dir in "$ST_SRCDIR"/tests/cases/*/; do
	[ -f "$dir/args" ] || continue
	name=$(basename "$dir")
	args=$(cat "$dir/args")
	(cd "$dir" && eval "\"$ST\" $args") >"$T/case.out" 2>"$T/case.err"
	status=$?
	eq "case $name: exit status" "$status" "$(cat "$dir/status")"
	ok "case $name: output" diff -u "$dir/expected" "$T/case.out"
	if [ -f "$dir/expected-err" ]; then
		ok "case $name: messages" diff -u "$dir/expected-err" "$T/case.err"
	fi
done
finish
