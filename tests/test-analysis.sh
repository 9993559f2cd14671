#!/bin/sh
# test-analysis.sh: the jq recipes of docs/analysis.md run on a real trace and answer.
. "$ST_SRCDIR/tests/lib.sh"
command -v jq >/dev/null || skip "jq is not installed (apt-get install jq)"

"$ST" run -k4 -o "$T/trace.jsonl" -- "$ST_BUILDDIR/examples/echo-pair" >/dev/null 2>&1
eq "the example runs traced" "$?" "0"
cd "$T" || exit 99
# Each documented jq command, as written (they read trace.jsonl).
grep '^jq -' "$ST_SRCDIR/docs/analysis.md" >"$T/recipes"
ok "the page has jq recipes" [ "$(wc -l <"$T/recipes")" -ge 4 ]
i=0
while IFS= read -r cmd; do
	i=$((i + 1))
	sh -c "$cmd" >"$T/out.$i" 2>"$T/err.$i"
	eq "recipe $i runs" "$?" "0"
	cat "$T/err.$i"
	ok "recipe $i answers something" test -s "$T/out.$i"
done <"$T/recipes"
# And what they answer is right for this trace.
ok "failed calls: the EPIPE send" grep -q '"errno":"EPIPE"' "$T/out.1"
ok "calls by name: the one send that failed with EPIPE" grep -q '^ *1 send	EPIPE' "$T/out.2"
ok "top peers: the sendfile's 512 bytes first" sh -c 'head -n 1 "$1" | grep -q "\"bytes\":512"' sh "$T/out.3"
ok "lint by rule: sigpipe-default twice" grep -q '^ *2 sigpipe-default' "$T/out.4"
finish
