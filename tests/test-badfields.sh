#!/bin/sh
# test-badfields.sh: events that are valid JSON with fields of any type or size: show, stats, lint
# and the filters name what they cannot use and never crash.
. "$ST_SRCDIR/tests/lib.sh"

# The two lines that crashed lint (SIGSEGV), each alone.
printf '%s\n' '{"v":1,"event":"call","call":"send","lint":[{}]}' >"$T/l1.jsonl"
printf '%s\n' '{"v":1,"event":"call","call":"send","lint":[3]}' >"$T/l2.jsonl"
for f in l1 l2; do
	"$ST" lint "$T/$f.jsonl" >"$T/out" 2>"$T/err"
	eq "lint $f: exit 2 (trouble), not a signal" "$?" "2"
	ok "lint $f: the finding is named by file:line" \
		grep -q "$f.jsonl:1: lint finding 0 is not an object with an \"id\" string" "$T/err"
	ok "lint $f: the summary still printed" grep -q "^0 findings" "$T/out"
done
printf '%s\n' '{"v":1,"event":"call","call":"send","lint":"x"}' >"$T/l3.jsonl"
"$ST" lint "$T/l3.jsonl" >/dev/null 2>"$T/err"
eq "lint: a lint field that is not an array: exit 2" "$?" "2"
ok "lint: and it says which line" grep -q 'l3.jsonl:1: "lint" is not an array' "$T/err"

# Every field the commands read, in turn, set to every hostile value: wrong types, huge and
# negative numbers, fractions, deep nesting, a large array, a long string.
deep=$(printf '%0500d' 0 | tr 0 '[')$(printf '%0500d' 0 | tr 0 ']')
big=[$(seq 1 20000 | tr '\n' ',')0]
long=\"$(printf '%0100000d' 0 | tr 0 a)\"
# event KIND FIELD VALUE: a call event (or start, exit) with FIELD set to VALUE, and no other
# field twice (a duplicate key makes the line invalid JSON, which is not the point here).
event() {
	line='{"v":1'
	for kv in '"event":"'$1'"' '"call":"sendmsg"' '"ts":1795304409620099778' '"pid":7' '"tid":8' \
		'"fd":3' '"len":4' '"ret":4' '"dur_ns":9'; do
		case $kv in "\"$2\":"*) continue ;; esac
		line="$line,$kv"
	done
	printf '%s,"%s":%s}\n' "$line" "$2" "$3"
}
good='"ts":1795304409620099778,"pid":7,"tid":8,"fd":3,"len":4,"ret":4,"dur_ns":9'
n=0
for field in ts pid tid fd len ret dur_ns bytes_sent call errno addr flags lint sock bt site \
	iov iov_more msgs msgs_more vlen cmsg in offset payload payload_truncated exe argv how ppid \
	events comm; do
	for value in '{}' '[]' '[{}]' '[3]' '[null]' '[[]]' '"x"' '""' 3 -1 0 true null \
		9223372036854775807 -9223372036854775808 1e308 -1e308 -0.0 \
		'{"family":3,"type":[],"proto":{},"peer":7,"local":[1]}' \
		'[{"fn":3,"obj":{},"off":[],"ip":null,"fn_off":1}]' '[{"id":3,"severity":[]}]' \
		'[{"len":"x"},{"len":-1},3]' '[{"level":[],"type":{},"len":"x","x":[1]}]' \
		'{"fd":"x","path":3,"kind":[]}' "$deep" "$big" "$long"; do
		for kind in call start exit; do
			event "$kind" "$field" "$value"
			n=$((n + 1))
		done
	done
done >"$T/bad.jsonl"
# The same fields inside the socket, the sendfile source and a message of sendmmsg.
for sub in sock in msgs; do
	for field in family type proto peer local fd path kind addr iov len cmsg msg_len; do
		for value in '{}' '[]' 3 -1 null '"x"' 9223372036854775807 1e308 "$deep"; do
			if [ "$sub" = msgs ]; then v="[{\"$field\":$value}]"; else v="{\"$field\":$value}"; fi
			event call "$sub" "$v" | sed "s/\"sendmsg\"/\"$([ "$sub" = in ] && echo sendfile || echo sendmmsg)\"/"
			n=$((n + 1))
		done
	done
done >>"$T/bad.jsonl"
# Lines where the lint field is not findings make lint exit 2, as it must; the rest exit 0.
grep -v '"lint":' "$T/bad.jsonl" >"$T/nolint.jsonl"

# An integer past 64 bits is not read as a wrong number: the line is named and skipped.
event call ret 18446744073709551616 >"$T/big.jsonl"
for cmd in show stats lint; do
	"$ST" $cmd "$T/big.jsonl" >/dev/null 2>"$T/err"
	eq "$cmd: an integer past 64 bits: exit 2" "$?" "2"
	ok "$cmd: named by file:line" grep -q "big.jsonl:1: not valid JSON: too big integer" "$T/err"
done

# No command dies of a signal (status 128 and up) or of a sanitizer's check.
for cmd in "show" "show --bt" "show --time=rel" "show --time=delta" "show --json" \
	"stats" "stats --json" "lint" "lint --json" \
	"show --pid=7 --tid=8 --call=sendmsg --fd=3 --flag=MORE --errors --lint --peer=1.2.3.4" \
	"stats --since=+0 --until=+1 --peer=::1 --call=sendfile" \
	"show --since=1795304409 --until=+9000000000"; do
	$ST $cmd "$T/bad.jsonl" >"$T/out" 2>"$T/err"
	st=$?
	ok "$cmd: $n hostile events, no crash (exit $st)" [ "$st" -le 2 ]
	ok "$cmd: no error message is about a crash" sh -c '! grep -qi "sanitizer\|runtime error" "$0"' "$T/err"
done
# Every event is shown, one line each (a value it cannot use shows as 0, ? or as JSON).
"$ST" show "$T/bad.jsonl" >"$T/out" 2>"$T/err"
eq "show: exit 0: every line is an event" "$?" "0"
eq "show: one line per event" "$(wc -l <"$T/out")" "$n"
"$ST" stats --json "$T/bad.jsonl" >"$T/out" 2>"$T/err"
eq "stats --json: exit 0" "$?" "0"
ok "stats --json: output is JSON" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out"
"$ST" lint "$T/nolint.jsonl" >"$T/out" 2>"$T/err"
eq "lint: exit 0 where every lint field is absent" "$?" "0"
"$ST" lint "$T/bad.jsonl" >"$T/out" 2>"$T/err"
eq "lint: exit 2 where lint fields are not findings" "$?" "2"
ok "lint: and the first is named" grep -q 'bad.jsonl:[0-9]*: "lint" is not an array of findings' "$T/err"
# show --bt opens the modules a backtrace names, for file:line: a FIFO named there must not
# hang it (nobody ever writes to it). The deadline only turns a hang into a failure.
mkfifo "$T/fifo" || skip "cannot make a FIFO"
printf '{"v":1,"event":"call","call":"send",%s,"bt":[{"obj":"%s","off":"0x1"}]}\n' "$good" "$T/fifo" \
	>"$T/fifo.jsonl"
timeout 120 "$ST" show --bt "$T/fifo.jsonl" >"$T/out" 2>"$T/err"
eq "show --bt: a FIFO named as a module: exit 0, not stuck" "$?" "0"
ok "show --bt: the frame is shown, without file:line" grep -q "#0  ?? ($T/fifo+0x1)$" "$T/out"
finish
