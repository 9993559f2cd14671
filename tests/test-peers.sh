#!/bin/sh
# test-peers.sh: stats over 100,000 peers does work in proportion to the events, not their square.
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

# The work is counted, not timed: SENDTRACE_STATS_PROBES reports the slots of the peer table
# looked at. A list searched from the start looks at n^2/2 = 5e9; a table at most half full,
# fewer than 3 per event. The bound (20 per event) leaves room for any hash, not for n^2.
SENDTRACE_STATS_PROBES=1 "$ST" stats --json "$T/peers.jsonl" >"$T/out" 2>"$T/err"
eq "stats: exit 0" "$?" "0"
cat "$T/err"
peers=$(sed -n 's/^sendtrace: stats: \([0-9]*\) peers, \([0-9]*\) peer-table probes$/\1/p' "$T/err")
probes=$(sed -n 's/^sendtrace: stats: \([0-9]*\) peers, \([0-9]*\) peer-table probes$/\2/p' "$T/err")
eq "stats: $N distinct peers" "$peers" "$N"
ok "stats: ${probes:-no count of} probes for $((N + 1)) events, under 20 per event" \
	[ "${probes:-999999999999}" -lt $((20 * (N + 1))) ]
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
finish
