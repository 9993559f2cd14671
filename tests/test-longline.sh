#!/bin/sh
# test-longline.sh: a line longer than the reader's bound is skipped in bounded memory, named by
# file:line and counted; the events around it are read.
. "$ST_SRCDIR/tests/lib.sh"

ev='{"v":1,"event":"call","ts":1795304409620099778,"pid":7,"tid":7,"call":"send","fd":3,"sock":{"family":"AF_UNIX","type":"SOCK_STREAM","proto":0,"local":"","peer":""},"len":4,"flags":["MSG_MORE"],"ret":4,"dur_ns":9,"lint":[{"id":"msg-more-unix","severity":"warning"}]}'
MiB=1048576

# pad N: the event, then spaces up to N bytes in all (JSON allows whitespace after a value).
pad() { printf '%s%*s\n' "$ev" $(($1 - ${#ev})) ''; }

# At the bound a line is read; one byte more and it is skipped.
{ pad $MiB; pad $((MiB + 1)); echo "$ev"; } >"$T/edge.jsonl"
"$ST" show "$T/edge.jsonl" >"$T/out" 2>"$T/err"
eq "1 MiB line read, 1 MiB + 1 skipped: exit 2" "$?" "2"
eq "the line at the bound and the one after the long line are shown" "$(grep -c ' send(3' "$T/out")" 2
ok "the long line is named by file:line, with its length" \
	grep -q "edge.jsonl:2: line too long: 1048577 bytes, more than the 1 MiB an event may have; line skipped" "$T/err"
ok "and counted" grep -q "edge.jsonl: 1 bad line skipped (1 longer than 1 MiB)" "$T/err"

# 300 MB of one line between two events, read under a 64 MB address-space limit. Reading
# the whole line (getline) needs more than 300 MB: it would fail, or lose the events after it.
# capped COMMAND...: COMMAND under that limit; not under ASan, which reserves terabytes of
# address space at start (there the commands run uncapped, and still must skip the line).
capped() {
	if ldd "$ST" 2>/dev/null | grep -q libasan; then
		"$@"
	else
		(ulimit -v 65536 && exec "$@")
	fi
}
{ echo "$ev"; head -c 300000000 /dev/zero | tr '\0' a; echo; echo "$ev"; } >"$T/huge.jsonl"
for cmd in "show" "stats" "lint"; do
	capped "$ST" $cmd "$T/huge.jsonl" >"$T/out" 2>"$T/err"
	eq "$cmd: 300 MB line under ulimit -v 64 MB: exit 2 (a bad line), no crash" "$?" "2"
	ok "$cmd: the line named as line 2" grep -q "huge.jsonl:2: line too long: 300000000 bytes" "$T/err"
	ok "$cmd: counted" grep -q "huge.jsonl: 1 bad line skipped (1 longer than 1 MiB)" "$T/err"
done
capped "$ST" show "$T/huge.jsonl" >"$T/out" 2>/dev/null
eq "show: both events, before and after the long line" "$(grep -c ' send(3' "$T/out")" 2
capped "$ST" stats "$T/huge.jsonl" >"$T/out" 2>/dev/null
ok "stats: both events counted" grep -q '^send  *2 ' "$T/out"
capped "$ST" lint "$T/huge.jsonl" >"$T/out" 2>/dev/null
ok "lint: both findings counted" grep -q '^  2 times' "$T/out"
# From a pipe, and as a last line without its newline.
{ echo "$ev"; head -c 300000000 /dev/zero | tr '\0' a; } |
	capped "$ST" show - >"$T/out" 2>"$T/err"
eq "stdin, unterminated last line: exit 2" "$?" "2"
ok "stdin: named" grep -q "(stdin):2: truncated last line too long: 300000000 bytes" "$T/err"
eq "stdin: the event before it shown" "$(grep -c ' send(3' "$T/out")" 1
rm -f "$T/huge.jsonl"
finish
