#!/bin/sh
# test-lintdoc.sh: docs/lint.md's rule sections are what `sendtrace lint --rules --markdown` makes from
# the table of lib/rules.c, and `lint --rules` lists every rule with its scope.
. "$ST_SRCDIR/tests/lib.sh"

"$ST" lint --rules --markdown >"$T/gen.md"
eq "lint --rules --markdown: exit 0" "$?" "0"
sed -n '/^<!-- The rules below are generated/,$p' "$ST_SRCDIR/docs/lint.md" >"$T/doc.md"
ok "docs/lint.md has the generated section's marker" test -s "$T/doc.md"
ok "docs/lint.md's rules are the table's (else: make lint-doc)" diff -u "$T/doc.md" "$T/gen.md"
for s in "Rules on each call" "Rules over the whole trace" "Retired rules"; do
	ok "a section \"$s\"" grep -q "^## $s\$" "$T/gen.md"
done

"$ST" lint --rules >"$T/list"
eq "lint --rules: exit 0" "$?" "0"
eq "one line per rule, and the header" "$(wc -l <"$T/list")" "$(($(grep -c '^### `' "$T/gen.md") + 1))"
for id in unsent-remainder eagain-spin small-writes-burst send-after-error unconnected-udp-hot-destination; do
	ok "$id: a whole-trace rule" grep -q "^$id  *[a-z]*  *trace " "$T/list"
	ok "$id: documented" grep -q "^### \`$id\` (" "$T/gen.md"
done
ok "short-write-stream: retired" grep -q '^short-write-stream  *info  *retired ' "$T/list"
ok "and gone from the rules on each call" sh -c \
	'! sed -n "/^## Rules on each call/,/^## Rules over/p" "$1" | grep -q short-write-stream' sh "$T/gen.md"
"$ST" lint --markdown >/dev/null 2>"$T/err"
eq "--markdown without --rules: exit 2" "$?" "2"
ok "and why" grep -q 'markdown goes with --rules' "$T/err"
finish
