#!/bin/sh
# test-lintcorpus.sh: the labelled lint corpus: every misuse program's rules found (recall 100%), no
# other finding anywhere (precision 100%), and every correct program silent.
. "$ST_SRCDIR/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed (its socket.sendall and sendfile are part of the corpus)"

# A program's label: the value of "KEY:" in its first lines ("expect: a,b", "run: -e all").
label() { sed -n "1,8s/^.*$2: *\([^*]*\).*\$/\1/p" "$1" | head -n 1 | sed 's/ *$//'; }

tp=0 fp=0 fn=0 ok_progs=0 ok_silent=0 bad_progs=0 skipped=0
for src in "$ST_SRCDIR"/tests/lint-corpus/*.c "$ST_SRCDIR"/tests/lint-corpus/*.py; do
	name=$(basename "$src")
	name=${name%.*}
	expect=$(label "$src" expect)
	opts=$(label "$src" run)
	needs=$(label "$src" needs)
	case $src in
	*.py) set -- python3 "$src" ;;
	*) set -- "$ST_BUILDDIR/tests/lint-corpus/$name" ;;
	esac
	ok "$name: labelled" [ -n "$expect" ]
	# shellcheck disable=SC2086 # the options are words
	"$ST" run $opts -o "$T/$name.jsonl" -- "$@" >"$T/$name.out" 2>&1
	status=$?
	if [ "$status" -ne 0 ]; then
		cat "$T/$name.out"
		eq "$name: runs traced (exit 0)" "$status" "0"
		continue
	fi
	"$ST" lint --json "$T/$name.jsonl" >"$T/$name.lint" 2>"$T/$name.err"
	status=$?
	found=$(grep '^    "id": ' "$T/$name.lint" | sed 's/.*"id": "\([^"]*\)".*/\1/' | sort -u | tr '\n' ' ')
	want=$(echo "$expect" | tr ', ' '\n\n' | grep -v '^none$' | grep . | sort -u | tr '\n' ' ')
	if [ "$needs" = nodelay ]; then
		# The rule is silent there only because the library records TCP_NODELAY.
		ok "$name: the trace carries sock.nodelay" grep -q '"nodelay":true' "$T/$name.jsonl"
	fi
	for id in $want; do
		case " $found " in
		*" $id "*) tp=$((tp + 1)) ;;
		*)
			fn=$((fn + 1))
			echo "# $name: $id expected, not found"
			;;
		esac
	done
	for id in $found; do
		case " $want " in
		*" $id "*) ;;
		*)
			fp=$((fp + 1))
			echo "# $name: $id found, not expected"
			;;
		esac
	done
	if [ -z "$want" ]; then
		ok_progs=$((ok_progs + 1))
		[ -z "$found" ] && ok_silent=$((ok_silent + 1))
		eq "$name: correct, no finding (exit 0)" "$status" "0"
	else
		bad_progs=$((bad_progs + 1))
		eq "$name: misuse, found (exit 1)" "$status" "1"
	fi
	eq "$name: findings" "$found" "$want"
	if [ -n "$want$found" ] || [ "$status" -gt 1 ]; then
		cat "$T/$name.err"
	fi
done
recall=$(awk -v a=$tp -v b=$fn 'BEGIN { printf "%.1f", a + b ? 100 * a / (a + b) : 100 }')
precision=$(awk -v a=$tp -v b=$fp 'BEGIN { printf "%.1f", a + b ? 100 * a / (a + b) : 100 }')
echo "# corpus: $bad_progs misuse programs, $ok_progs correct ones ($skipped skipped)"
echo "# recall $recall% ($tp of $((tp + fn)) expected findings), precision $precision% ($fp unexpected), correct programs silent: $ok_silent of $ok_progs"
ok "the corpus has misuse programs for the whole-trace rules and correct ones" \
	[ "$bad_progs" -ge 8 ] && [ "$ok_progs" -ge 8 ]
eq "recall 100%" "$recall" "100.0"
eq "precision 100%" "$precision" "100.0"
eq "every correct program silent" "$ok_silent" "$ok_progs"
finish
