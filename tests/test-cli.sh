#!/bin/sh
# test-cli.sh: the sendtrace command end to end: run, show, bad input, help, exit statuses.
. "$ST_SRCDIR/tests/lib.sh"

# --help and --version everywhere.
ok "sendtrace --help exits 0" sh -c '"$0" --help | grep -q "usage: sendtrace"' "$ST"
ok "sendtrace --version" sh -c '"$0" --version | grep -q "^sendtrace [0-9]"' "$ST"
for c in run show stats lint env; do
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

"$ST" run -e send,bogus -o "$T/x.jsonl" -- true 2>"$T/err"
eq "run -e with an unknown call name exits 2" "$?" "2"
ok "and names it" grep -q "unknown call 'bogus'" "$T/err"

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

# A setuid program run by someone else is named as untraceable.
nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1 &&
	nobody test -x "$ST"; then
	cp "$ST_BUILDDIR/examples/echo-pair" "$T/suid"
	chmod 4755 "$T/suid"
	chmod 711 "$T"
	out=/tmp/st-suid-$$.jsonl
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$ST" run -o "$out" -- "$T/suid" \
		>/dev/null 2>"$T/err"
	eq "a setuid program still runs" "$?" "0"
	ok "and run says why it cannot be traced" grep -q "runs with another effective user (set-user-ID): the kernel puts it in secure-execution mode, where the loader ignores an LD_PRELOAD path" "$T/err"
	rm -f "$out"
	chmod 700 "$T"
fi

# show: one line per event.
"$ST" show "$T/ex.jsonl" >"$T/show" 2>"$T/err"
eq "show exits 0 on a clean trace" "$?" "0"
ok "show: sendmsg line" grep -q 'sendmsg(3<UNIX-STREAM:\[[0-9]*->[0-9]*\]>, iov=\[5,7\], len=12, cmsg=\[SCM_RIGHTS{fds=\[4\]}\], MSG_NOSIGNAL) = 12' "$T/show"
ok "show: sendto line" grep -q 'sendto([0-9]*<UDP:0.0.0.0:[0-9]*>, len=5, to=127.0.0.1:[0-9]*, 0) = 5' "$T/show"
ok "show: sendfile line" grep -q 'sendfile([0-9]*<TCP:127.0.0.1:[0-9]*->127.0.0.1:[0-9]*>, in=[0-9]*</.*echo-pair>, offset=0, count=512) = 512' "$T/show"
ok "show: errno by name" grep -q 'send(.*MSG_NOSIGNAL) = -1 EPIPE' "$T/show"
ok "show: start record" grep -q '+++ start .*echo-pair' "$T/show"
# The events: neither padding nor the filler records closed room becomes.
grep -v '^[[:space:]]*$' "$T/ex.jsonl" | grep -v '^{"v":1,"event":"pad"' >"$T/evs.jsonl"
eq "show: a line per event, none for filler records" "$(wc -l <"$T/show")" "$(count "$T/evs.jsonl" v=1)"
"$ST" show - <"$T/ex.jsonl" >"$T/show2" 2>&1
ok "show - reads standard input" cmp -s "$T/show" "$T/show2"

# Bad input: named, skipped, counted; exit status 2.
"$ST" show "$T/missing.jsonl" >/dev/null 2>"$T/err"
eq "a missing file exits 2" "$?" "2"
ok "with a clear message" grep -q "cannot open $T/missing.jsonl: No such file" "$T/err"
"$ST" show "$T" >/dev/null 2>"$T/err"
eq "a directory exits 2" "$?" "2"
ok "and says it is a directory" grep -q "is a directory" "$T/err"
# The events alone: where padding lines fall between them is not part of the format.
head -n 2 "$T/evs.jsonl" >"$T/bad.jsonl"
printf 'this is not json\n' >>"$T/bad.jsonl"
printf '{"v":2,"event":"call"}\n' >>"$T/bad.jsonl"
sed -n 3p "$T/evs.jsonl" >>"$T/bad.jsonl"
sed -n 4p "$T/evs.jsonl" | head -c 40 >>"$T/bad.jsonl"
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

# run's options, each an environment variable of the library.
"$ST" run -F -o "$T/pp.jsonl" -- sh -c "$ST_BUILDDIR/examples/echo-pair; $ST_BUILDDIR/examples/echo-pair" >/dev/null 2>&1
eq "run -F: one file per process that sent (the two children; sh sent nothing)" "$(ls "$T"/pp.jsonl.* | wc -l)" "2"
"$ST" run -e send,sendto -o "$T/e.jsonl" -- "$ST_BUILDDIR/examples/echo-pair" >/dev/null 2>&1
eq "run -e send,sendto: only those calls" "$(count "$T/e.jsonl" event=call)" "$(( $(count "$T/e.jsonl" call=send) + $(count "$T/e.jsonl" call=sendto) ))"
eq "run -e: and some of them" "$(count "$T/e.jsonl" call=send)" "2"
"$ST" run -s 4 -o "$T/s.jsonl" -- "$ST_BUILDDIR/examples/echo-pair" >/dev/null 2>&1
eq "run -s 4: four bytes of payload" "$(count "$T/s.jsonl" call=send payload=ping)" "1"
eq "run -s 4: longer sends marked truncated" "$(count "$T/s.jsonl" call=sendmsg payload=hell payload_truncated=true)" "1"
"$ST" run -o "$T/n.jsonl" -- "$ST_BUILDDIR/examples/echo-pair" >/dev/null 2>&1
eq "payload is off by default" "$(count "$T/n.jsonl" payload?)" "0"
"$ST" run --only-lint -o "$T/ol.jsonl" -- "$ST_BUILDDIR/examples/echo-pair" >/dev/null 2>&1
eq "run --only-lint: only the write and sendfile that risk SIGPIPE" "$(count "$T/ol.jsonl" event=call)" "$(count "$T/ol.jsonl" event=call lint.0.id=sigpipe-default)"
eq "run --only-lint: two of them" "$(count "$T/ol.jsonl" event=call)" "2"
"$ST" run -s 5000 -- true 2>"$T/err"
eq "run -s out of range exits 2" "$?" "2"

# env: the same variables, for programs started elsewhere.
"$ST" env -o "$T/env.jsonl" -k -s 16 -e send >"$T/env.out"
ok "env: LD_PRELOAD names the library" grep -q '^LD_PRELOAD=/.*libsendtrace.so$' "$T/env.out"
ok "env: the output, absolute" grep -qx "SENDTRACE_OUTPUT=$T/env.jsonl" "$T/env.out"
ok "env: backtrace, payload, calls" sh -c 'grep -qx SENDTRACE_BACKTRACE=16 "$0" && grep -qx SENDTRACE_PAYLOAD=16 "$0" && grep -qx SENDTRACE_CALLS=send "$0"' "$T/env.out"
env $(cat "$T/env.out") "$ST_BUILDDIR/examples/echo-pair" >/dev/null
eq "env's lines trace a program" "$(count "$T/env.jsonl" call=send payload=ping)" "1"
"$ST" env --systemd -o /var/log/app.%p.jsonl >"$T/unit"
ok "env --systemd: a [Service] section" grep -qx '\[Service\]' "$T/unit"
ok "env --systemd: % doubled for systemd" grep -qx 'Environment="SENDTRACE_OUTPUT=/var/log/app.%%p.jsonl"' "$T/unit"
"$ST" env --shell -o "/tmp/it's.jsonl" >"$T/sh"
ok "env --shell: quoted for sh" sh -c '. "$0" && [ "$SENDTRACE_OUTPUT" = "/tmp/it'"'"'s.jsonl" ]' "$T/sh"

# show -f follows a file that a traced program is still writing.
: >"$T/f.jsonl"
"$ST" show -f "$T/f.jsonl" >"$T/f.out" 2>&1 &
fpid=$!
"$ST" show -f -t rel "$T/f.jsonl" >"$T/frel.out" 2>&1 &
relpid=$!
sleep 0.5
SENDTRACE_OUTPUT=$T/f.jsonl LD_PRELOAD=$ST_TEST_LIB "$ST_BUILDDIR/examples/echo-pair" >/dev/null
SENDTRACE_OUTPUT=$T/f.jsonl LD_PRELOAD=$ST_TEST_LIB "$ST_BUILDDIR/examples/echo-pair" >/dev/null
# The follower polls every 200 ms; give a loaded machine ample time.
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(grep -c ' = ' "$T/f.out")" -ge 12 ] && break
	sleep 0.5
done
sleep 0.5
kill -INT $fpid $relpid
wait $fpid $relpid
eq "show -f: every call of both runs, as they came" "$(grep -c 'sendmsg(' "$T/f.out")" "2"
ok "show -f -t rel: times from the first event, not epoch seconds" \
	awk '$1 !~ /^[+-][0-9][0-9]*\.[0-9][0-9][0-9][0-9][0-9][0-9]$/ || length($1) > 12 { bad = 1 } END { exit bad || NR < 12 }' "$T/frel.out"
eq "show -f: and nothing twice" "$(grep -c ' = ' "$T/f.out")" "12"

# A 100 MB line is an error for that line, not a crash.
{ head -c 100000000 /dev/zero | tr '\0' 'a'; echo; sed -n 3p "$T/evs.jsonl"; } >"$T/huge.jsonl"
"$ST" show "$T/huge.jsonl" >"$T/out" 2>"$T/err"
eq "a 100 MB line: exit 2" "$?" "2"
ok "a 100 MB line: named as line 1" grep -q "huge.jsonl:1: line too long: 100000000 bytes" "$T/err"
eq "a 100 MB line: the next event still shown" "$(wc -l <"$T/out")" "1"
"$ST" stats "$T/huge.jsonl" >/dev/null 2>&1
eq "stats: bad lines exit 2 too" "$?" "2"

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
