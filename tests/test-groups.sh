#!/bin/sh
# test-groups.sh: stats' peers, lint's call sites and show --bt's frames: work in proportion to
# their number, not its square, counted rather than timed.
. "$ST_SRCDIR/tests/lib.sh"

# One UDP sendto to each of N destinations (a server answering every client once), then one
# more to the first, so one peer has two calls.
N=100000
awk -v n=$N 'BEGIN {
	for (i = 0; i <= n; i++)
		printf "{\"v\":1,\"event\":\"call\",\"ts\":%d,\"pid\":7,\"tid\":7,\"call\":\"sendto\",\"fd\":3,\"sock\":{\"family\":\"AF_INET\",\"type\":\"SOCK_DGRAM\",\"proto\":\"udp\",\"local\":\"0.0.0.0:53\"},\"addr\":\"10.%d.%d.%d:%d\",\"len\":10,\"ret\":10,\"dur_ns\":100}\n",
			1795304409620099778 + i, (i % n) / 65536, (i % n) / 256 % 256, (i % n) % 256, 1024 + (i % n) % 7
}' >"$T/peers.jsonl"
eq "the trace has N+1 events" "$(wc -l <"$T/peers.jsonl")" "$((N + 1))"

# The work is counted, not timed: SENDTRACE_TABLE_PROBES reports the slots of a table looked
# at. A list searched from the start looks at n^2/2 = 5e9; a table at most half full, fewer
# than 3 per event. The bound (20 per event) leaves room for any hash, not for n^2.
# probes WHO FILE: "ENTRIES PROBES" from the report of WHO in FILE
probes() { sed -n "s/^sendtrace: $1: \([0-9]*\) entries, \([0-9]*\) table probes$/\1 \2/p" "$2"; }
SENDTRACE_TABLE_PROBES=1 "$ST" stats --json "$T/peers.jsonl" >"$T/out" 2>"$T/err"
eq "stats: exit 0" "$?" "0"
cat "$T/err"
set -- $(probes "stats: peers" "$T/err")
eq "stats: $N distinct peers" "${1:-}" "$N"
ok "stats: ${2:-no count of} probes for $((N + 1)) events, under 20 per event" \
	[ "${2:-999999999999}" -lt $((20 * (N + 1))) ]
# And the answer is right: every peer once, the first twice, sorted by calls.
ok "stats --json: $N peers, the first with 2 calls, the bytes of all" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
p = s["peers"]
assert len(p) == int(sys.argv[2]), len(p)
assert p[0]["peer"] == "10.0.0.0:1024" and p[0]["calls"] == 2, p[0]
assert all(x["calls"] == 1 for x in p[1:])
assert sum(x["bytes"] for x in p) == 10 * (int(sys.argv[2]) + 1)
assert len({(x["socket"], x["peer"]) for x in p}) == len(p)' "$T/out" "$N"
# The same through jansson (the scanner hands escaped strings over): "\u0031" is "1", one peer.
printf '%s\n' '{"v":1,"event":"call","ts":1,"pid":7,"tid":7,"call":"sendto","fd":3,"sock":{"family":"AF_INET","type":"SOCK_DGRAM","proto":"udp"},"addr":"10.0.0.\u0031:9","len":1,"ret":1,"dur_ns":1}' \
	'{"v":1,"event":"call","ts":2,"pid":7,"tid":7,"call":"sendto","fd":3,"sock":{"family":"AF_INET","type":"SOCK_DGRAM","proto":"udp"},"addr":"10.0.0.1:9","len":1,"ret":1,"dur_ns":1}' \
	>"$T/esc.jsonl"
"$ST" stats "$T/esc.jsonl" >"$T/out" 2>&1
ok "stats: an escaped and a plain spelling of one peer are one peer" \
	grep -q '^INET/udp  *10.0.0.1:9  *2 ' "$T/out"

# lint: one finding at each of N call sites (the backtrace's top frame), then the first again.
awk -v n=$N 'BEGIN {
	for (i = 0; i <= n; i++)
		printf "{\"v\":1,\"event\":\"call\",\"ts\":%d,\"pid\":7,\"tid\":7,\"call\":\"send\",\"fd\":3,\"sock\":{\"family\":\"AF_UNIX\",\"type\":\"SOCK_STREAM\"},\"bt\":[{\"obj\":\"/app\",\"off\":\"0x%x\"}],\"len\":1,\"flags\":[\"MSG_MORE\"],\"ret\":1,\"dur_ns\":1,\"lint\":[{\"id\":\"msg-more-unix\",\"severity\":\"warning\"}]}\n",
			1795304409620099778 + i, 4096 + i % n
}' >"$T/sites.jsonl"
SENDTRACE_TABLE_PROBES=1 "$ST" lint --json "$T/sites.jsonl" >"$T/out" 2>"$T/err"
eq "lint: exit 1 (findings)" "$?" "1"
cat "$T/err"
set -- $(probes "lint: groups" "$T/err")
eq "lint: $N groups" "${1:-}" "$N"
ok "lint: ${2:-no count of} probes for $((N + 1)) findings, under 20 per finding" \
	[ "${2:-999999999999}" -lt $((20 * (N + 1))) ]
ok "lint --json: $N groups, the first site twice" python3 -c '
import json, sys
g = json.load(open(sys.argv[1]))
assert len(g) == int(sys.argv[2]), len(g)
assert g[0]["count"] == 2 and g[0]["site"] == "/app+0x1000", g[0]
assert all(x["count"] == 1 for x in g[1:])' "$T/out" "$N"

# show --bt: each new frame costs an addr2line process; a trace can name any number of them.
# A stand-in addr2line counts its runs. 3,000 distinct frames of a real module (the sendtrace
# binary): at most 1,024 runs, then one warning, and every frame still shown.
mkdir "$T/bin"
printf '#!/bin/sh\necho x >>"%s/runs"\necho "src.c:1"\n' "$T" >"$T/bin/addr2line"
chmod +x "$T/bin/addr2line"
: >"$T/runs"
awk -v st="$ST" 'BEGIN {
	for (i = 0; i < 3000; i++)
		printf "{\"v\":1,\"event\":\"call\",\"ts\":%d,\"pid\":7,\"tid\":7,\"call\":\"send\",\"fd\":3,\"len\":1,\"ret\":1,\"dur_ns\":1,\"bt\":[{\"obj\":\"%s\",\"off\":\"0x%x\"}]}\n",
			1795304409620099778 + i, st, 4096 + i
}' >"$T/frames.jsonl"
PATH="$T/bin:$PATH" "$ST" show --bt "$T/frames.jsonl" >"$T/out" 2>"$T/err"
eq "show --bt: exit 0" "$?" "0"
runs=$(wc -l <"$T/runs")
ok "show --bt: $runs addr2line runs for 3000 distinct frames, at most 1024" [ "$runs" -le 1024 ]
ok "show --bt: and some (the stand-in is used)" [ "$runs" -gt 0 ]
eq "show --bt: every frame shown" "$(grep -c '^    #0 ' "$T/out")" 3000
ok "show --bt: one warning says the rest have no file:line" \
	grep -q "over 1024 distinct frames: the rest are shown without file:line" "$T/err"
finish
