#!/bin/sh
# test-filter.sh: the filter syntax in the CLI (show, stats, pcap, run, env) and SENDTRACE_SAMPLE's own checks.
. "$ST_SRCDIR/tests/lib.sh"

# Calls with known lengths, peers and destinations: the single options and
# --filter must select the same ones.
ev() { # len call fd peer addr [extra]
	printf '{"v":1,"event":"call","ts":%s,"pid":7,"tid":7,"comm":"x","call":"%s","fd":%s,' \
		"$1" "$2" "$3"
	printf '"sock":{"family":"AF_INET","type":"SOCK_DGRAM","proto":"udp","local":"1.1.1.1:9","peer":%s},' "$4"
	printf '"len":%s,"flags":[],"flags_raw":%s,"addr":%s,"ret":%s,"dur_ns":5%s}\n' "$1" "${7:-0}" "$5" "$1" "${6:-}"
}
{
	ev 100 sendto 3 null '"10.0.0.1:53"'
	ev 200 sendto 3 null '"10.0.0.1:54"'
	ev 300 sendto 3 null '"[2001:db8::1]:53"'
	ev 400 send 4 '"10.0.0.2:53"' null
	ev 500 send 4 '"10.0.0.2:53"' null ',"errno":"EPIPE"'
	ev 600 sendto 5 null '"/run/app.sock"'
	ev 700 send 4 '"10.0.0.2:53"' null '' 32768
	printf '{"v":1,"event":"exit","ts":800,"pid":7,"tid":7,"comm":"x","events":7,"dropped":0}\n'
} >"$T/t.jsonl"

lens() { # show args... -> the lengths selected, space-separated
	"$ST" show --json "$@" "$T/t.jsonl" | python3 -c '
import json, sys
print(" ".join(str(json.loads(l).get("len", "-")) for l in sys.stdin))'
}
command -v python3 >/dev/null || skip "python3 is not installed (apt-get install python3)"

eq "--port=53" "$(lens --port=53)" "100 300 400 500 700"
eq "--filter=port=53" "$(lens --filter=port=53)" "100 300 400 500 700"
eq "--peer=10.0.0.1" "$(lens --peer=10.0.0.1)" "100 200"
eq "--peer=10.0.0.1 --port=54" "$(lens --peer=10.0.0.1 --port=54)" "200"
eq "--filter='peer=10.0.0.1 port=54'" "$(lens '--filter=peer=10.0.0.1 port=54')" "200"
eq "--peer=2001:db8::1 (IPv6, any port)" "$(lens --peer=2001:db8::1)" "300"
eq "--peer=[2001:db8::1]:53" "$(lens '--peer=[2001:db8::1]:53')" "300"
eq "--peer=/run/app.sock" "$(lens --peer=/run/app.sock)" "600"
eq "--min-len=300 --max-len=500" "$(lens --min-len=300 --max-len=500)" "300 400 500"
eq "--filter='min-len=300 max-len=500'" "$(lens '--filter=min-len=300 max-len=500')" "300 400 500"
eq "--min-len and --filter together" "$(lens --min-len=300 --filter=max-len=500)" "300 400 500"
eq "--flag=MORE" "$(lens --flag=MORE)" "700"
eq "--filter=flag=0x8000" "$(lens --filter=flag=0x8000)" "700"
eq "--errors" "$(lens --errors)" "500"
eq "--filter='call=send errors'" "$(lens '--filter=call=send errors')" "500"
eq "--fd=4 --max-len=400" "$(lens --fd=4 --max-len=400)" "400"
eq "an empty --filter selects everything" "$(lens --filter=)" "100 200 300 400 500 600 700 -"
# stats counts the same calls.
n=$("$ST" stats --json --port=53 "$T/t.jsonl" | python3 -c '
import json, sys; c = json.load(sys.stdin)["calls"]; print(sum(v["calls"] for v in c.values()))')
eq "stats --port=53 counts 5 calls" "$n" "5"
n=$("$ST" stats --json '--filter=port=53 min-len=400' "$T/t.jsonl" | python3 -c '
import json, sys; c = json.load(sys.stdin)["calls"]; print(sum(v["calls"] for v in c.values()))')
eq "stats --filter='port=53 min-len=400' counts 3" "$n" "3"

# Bad text: exit 2, one line naming the term, for every command that takes filters.
for cmd in show stats pcap; do
	"$ST" $cmd '--filter=call=send colour=red' "$T/t.jsonl" >"$T/out" 2>"$T/err"
	eq "$cmd --filter with an unknown term: exit 2" "$?" "2"
	ok "$cmd: names the term" grep -q "^sendtrace: bad filter term 'colour=red': unknown term 'colour' (known: call=LIST" "$T/err"
	eq "$cmd: one line" "$(wc -l <"$T/err")" "1"
	"$ST" $cmd --port=http "$T/t.jsonl" >"$T/out" 2>"$T/err"
	eq "$cmd --port=http: exit 2" "$?" "2"
	ok "$cmd --port=http: named as the term" grep -q "bad filter term 'port=http': not a port number 'http' (0 to 65535)" "$T/err"
done
"$ST" show --min-len=-1 "$T/t.jsonl" >"$T/out" 2>"$T/err"
eq "show --min-len=-1: exit 2" "$?" "2"
ok "and says why" grep -q "bad filter term 'min-len=-1': not a byte count '-1'" "$T/err"
"$ST" show --peer=example.com "$T/t.jsonl" >"$T/out" 2>"$T/err"
eq "show --peer with a host name: exit 2" "$?" "2"
"$ST" show --port=53 --peer=10.0.0.1:53 "$T/t.jsonl" >"$T/out" 2>"$T/err"
eq "a port in --peer and --port both: exit 2" "$?" "2"
ok "and says so" grep -q "port given twice" "$T/err"

# run and env refuse what the library would refuse, before anything runs.
"$ST" run -o "$T/r.jsonl" --filter='fd=x' -- touch "$T/ran" >"$T/out" 2>"$T/err"
eq "run --filter with a bad term: exit 2" "$?" "2"
ok "the program was not run" [ ! -e "$T/ran" ]
ok "the term is named" grep -q "bad filter term 'fd=x': not a file descriptor number 'x'" "$T/err"
for bad in 0 -3 ten 1000000001; do
	"$ST" run -o "$T/r.jsonl" --sample=$bad -- true >"$T/out" 2>"$T/err"
	eq "run --sample=$bad: exit 2" "$?" "2"
	ok "run --sample=$bad: says what it takes" grep -q "from 1 (every call) to 1000000000, not '$bad'" "$T/err"
done
"$ST" env --filter='call=send port=53' --sample=100 >"$T/out" 2>&1
eq "env --filter --sample: exit 0" "$?" "0"
ok "env prints SENDTRACE_FILTER" grep -qx 'SENDTRACE_FILTER=call=send port=53' "$T/out"
ok "env prints SENDTRACE_SAMPLE" grep -qx 'SENDTRACE_SAMPLE=100' "$T/out"
"$ST" env --shell --filter='call=send port=53' >"$T/out" 2>&1
ok "env --shell quotes the filter" grep -qx "export SENDTRACE_FILTER='call=send port=53'" "$T/out"

# End to end: run --filter and --sample reach the library.
"$ST" run -o "$T/e.jsonl" --filter=call=write --sample=1 -- "$ST_BUILDDIR/examples/echo-pair" \
	>/dev/null 2>&1
eq "run --filter=call=write: exit 0" "$?" "0"
ok "records writes" [ "$(count "$T/e.jsonl" event=call call=write)" -gt 0 ]
eq "and nothing else" "$(count "$T/e.jsonl" event=call)" "$(count "$T/e.jsonl" event=call call=write)"
ok "the exit record counts the others as filtered" \
	[ "$(count "$T/e.jsonl" event=exit filtered=0)" -lt "$(count "$T/e.jsonl" event=exit)" ]
eq "sample=1: no event carries a rate" "$(count "$T/e.jsonl" sample?)" "0"
"$ST" run -o "$T/s.jsonl" --sample=3 -- "$ST_BUILDDIR/examples/echo-pair" >/dev/null 2>&1
eq "run --sample=3: exit 0" "$?" "0"
eq "every call event says sample 3" "$(count "$T/s.jsonl" event=call sample=3)" "$(count "$T/s.jsonl" event=call)"

# The library: a SENDTRACE_SAMPLE it cannot read is one warning, and every call.
SENDTRACE_SAMPLE=often SENDTRACE_OUTPUT="$T/w.jsonl" LD_PRELOAD="$ST_TEST_LIB" \
	"$ST_BUILDDIR/examples/echo-pair" >/dev/null 2>"$T/err"
eq "SENDTRACE_SAMPLE=often: one warning" "$(grep -c SENDTRACE_SAMPLE "$T/err")" "1"
ok "saying every call is recorded" grep -q "SENDTRACE_SAMPLE='often' is not valid.*recording every call" "$T/err"
eq "and no event carries a rate" "$(count "$T/w.jsonl" sample?)" "0"
ok "and the calls are there" [ "$(count "$T/w.jsonl" event=call)" -gt 0 ]

# The help points at the one place the syntax is written down.
"$ST" show --help >"$T/out"
ok "show --help: --filter" grep -q -- "--filter=SPEC" "$T/out"
ok "show --help: refers to FILTERS in sendtrace(1)" grep -q "FILTERS in sendtrace(1)" "$T/out"
ok "show --help: --port, --min-len, --max-len" sh -c 'grep -q -- --port= "$0" && grep -q -- --min-len= "$0" && grep -q -- --max-len= "$0"' "$T/out"
"$ST" run --help >"$T/out"
ok "run --help: --filter and --sample, and where the syntax is" sh -c 'grep -q -- "--filter SPEC" "$0" && grep -q -- "--sample N" "$0" && grep -q "FILTERS in sendtrace(1)" "$0"' "$T/out"
ok "the man page has a FILTERS section" grep -q '^\.SH FILTERS' "$ST_SRCDIR/docs/sendtrace.1"
ok "libsendtrace(7) refers to it" grep -q 'FILTERS' "$ST_SRCDIR/docs/libsendtrace.7"
finish
