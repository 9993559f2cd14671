#!/bin/sh
# test-lintrace.sh: the whole-trace lint rules on made traces, each at the edge where it must fire or
# stay silent: order, endings, sendfile's end of file, thresholds, incomplete traces.
. "$ST_SRCDIR/tests/lib.sh"

T0=1700000000000000000
A=10.0.0.1:5000
B=10.0.0.2:80
tcp() { printf '{"family":"AF_INET","type":"SOCK_STREAM","proto":"tcp","local":"%s","peer":"%s"%s}' "$1" "$2" "${3:-}"; }
udp() { printf '{"family":"AF_INET","type":"SOCK_DGRAM","proto":"udp","local":"%s","peer":%s}' "$1" "$2"; }
# ev PID TID NS CALL FD SOCK LEN RET [MORE]: a call at T0+NS, MORE being ',"key":value...'
ev() {
	printf '{"v":1,"event":"call","ts":%s,"pid":%s,"tid":%s,"comm":"prog","call":"%s","fd":%s,"sock":%s,"len":%s,"ret":%s,"dur_ns":1000%s}\n' \
		"$((T0 + $3))" "$1" "$2" "$4" "$5" "$6" "$7" "$8" "${9:-}"
}
# life PID NS CALL FD SOCK [MORE]: a lifecycle record
life() {
	printf '{"v":1,"event":"call","ts":%s,"pid":%s,"tid":%s,"comm":"prog","call":"%s","fd":%s,"sock":%s,"ret":0,"dur_ns":500%s}\n' \
		"$((T0 + $2))" "$1" "$1" "$3" "$4" "$5" "${6:-}"
}
bye() { printf '{"v":1,"event":"exit","ts":%s,"pid":%s,"tid":%s,"events":1,"dropped":0,"filtered":0,"sampled_out":%s,"status":0}\n' "$((T0 + $2))" "$1" "$1" "${3:-0}"; }
S=$(tcp $A $B)
# lint FILE: its JSON in $T/out, messages in $T/err, status in $st, rule ids found in $ids
lint() {
	"$ST" lint --json "$1" >"$T/out" 2>"$T/err"
	st=$?
	ids=$(grep '^    "id": ' "$T/out" | sed 's/.*"id": "\([^"]*\)".*/\1/' | sort | tr '\n' ' ' | sed 's/ $//')
}

# ---- unsent-remainder ----
{
	ev 7 7 0 send 5 "$S" 100 40
	life 7 1000000 close 5 "$S"
} >"$T/closed.jsonl"
lint "$T/closed.jsonl"
eq "short send, then close: unsent-remainder (exit 1)" "$st $ids" "1 unsent-remainder"
ok "it names fd, peer and the bytes never sent" grep -q '"fd": 5' "$T/out"
ok "the peer" grep -q "\"peer\": \"$B\"" "$T/out"
ok "the bytes" grep -q '"bytes_unsent": 60' "$T/out"
ok "and says how it ended" grep -q 'send of 100 bytes took 40; the fd was closed 999.0 us later' "$T/out"

{
	ev 7 7 0 write 5 "$S" 100 40
	bye 7 5000000
} >"$T/exited.jsonl"
lint "$T/exited.jsonl"
eq "short write, then the exit record: unsent-remainder" "$ids" "unsent-remainder"
ok "the process exited" grep -q 'the process exited 5.0 ms later' "$T/out"

ev 7 7 0 write 5 "$S" 100 40 >"$T/killed.jsonl"
lint "$T/killed.jsonl"
eq "short write and no exit record (killed?): not judged, exit 0" "$st $ids" "0 "
ok "and lint says what it did not judge" grep -q '1 partial write not judged by unsent-remainder' "$T/err"

{
	bye 7 1000
	ev 7 7 5000 write 5 "$S" 100 40
} >"$T/pidreuse.jsonl"
lint "$T/pidreuse.jsonl"
eq "a short write after its pid's exit record (a later process, same pid): not judged" "$st $ids" "0 "

# The carrying send of another thread comes first in the file, as thread slices do.
{
	ev 7 8 2000 send 5 "$S" 60 60
	ev 7 7 1000 send 5 "$S" 100 40
	bye 7 3000
} >"$T/threads.jsonl"
lint "$T/threads.jsonl"
eq "short send carried on by another thread, later in time but earlier in the file: silent" "$st $ids" "0 "
{
	ev 7 8 2000 send 5 "$S" 60 60
	ev 7 8 3000 send 6 "$S" 60 60
	ev 7 7 1000 send 5 "$S" 100 40
	bye 7 4000
} >"$T/late.jsonl"
SENDTRACE_LINT_HOLD=2 "$ST" lint "$T/late.jsonl" >/dev/null 2>"$T/err"
ok "with a hold of 2 calls, a call after its fd was judged further is counted and said" \
	grep -q '1 call came after later calls of their fd had been judged (more than 2 calls held' "$T/err"

# The same socket sent on through another fd (dup), or by a child that inherited it.
{
	ev 7 7 0 send 5 "$S" 100 40
	life 7 1000 close 5 "$S"
	ev 8 8 2000 send 9 "$S" 60 60
	bye 7 3000
	bye 8 4000
} >"$T/dup.jsonl"
lint "$T/dup.jsonl"
eq "short send, its fd closed, the rest sent on the same socket by another process: silent" "$st $ids" "0 "

{
	ev 7 7 0 send 5 "$S" 100 40
	ev 7 7 1000 send 5 "$S" 60 0 ',"errno":"EAGAIN"'
	ev 7 7 2000 send 5 "$S" 60 60
	life 7 3000 close 5 "$S"
} >"$T/loop.jsonl"
lint "$T/loop.jsonl"
eq "short, EAGAIN, the rest, close: silent" "$st $ids" "0 "

{
	ev 7 7 0 send 5 "$S" 100 40
	ev 7 7 1000 send 5 "$(tcp $A 10.0.0.3:80)" 10 10
	bye 7 2000
} >"$T/reused.jsonl"
lint "$T/reused.jsonl"
eq "the fd taken by another socket: unsent-remainder" "$ids" "unsent-remainder"
ok "said so" grep -q 'the fd was taken by another socket' "$T/out"

{
	ev 7 7 0 send 5 "$S" 100 40
	life 7 1000 shutdown 5 "$S" ',"how":"SHUT_WR"'
	bye 7 2000
} >"$T/shut.jsonl"
lint "$T/shut.jsonl"
eq "shutdown(SHUT_WR) after a short send: unsent-remainder" "$ids" "unsent-remainder"
ok "the socket was shut down" grep -q 'the socket was shut down for writing' "$T/out"
{
	ev 7 7 0 send 5 "$S" 100 40
	life 7 1000 shutdown 5 "$S" ',"how":"SHUT_RD"'
	ev 7 7 2000 send 5 "$S" 60 60
	bye 7 3000
} >"$T/shutrd.jsonl"
lint "$T/shutrd.jsonl"
eq "shutdown(SHUT_RD) ends nothing: silent" "$ids" ""

# sendfile: short only when it stopped before the end of its file.
sf() { # NS OFFSET SIZE LEN RET
	ev 7 7 "$1" sendfile 5 "$S" "$4" "$5" ",\"in\":{\"fd\":3,\"kind\":\"file\",\"path\":\"/f\",\"size\":$3},\"offset\":$2"
}
{
	sf 0 0 3 4 3
	sf 1000 null 3 10 3
	sf 2000 100 100 64 0
	life 7 3000 close 5 "$S"
} >"$T/sfeof.jsonl"
lint "$T/sfeof.jsonl"
eq "sendfile at the end of its file (3 of 4; from the position; 0): silent" "$st $ids" "0 "
{
	sf 0 0 100 64 10
	life 7 1000 close 5 "$S"
} >"$T/sfshort.jsonl"
lint "$T/sfshort.jsonl"
eq "sendfile stopped at 10 of a 100-byte file, then close: unsent-remainder" "$ids" "unsent-remainder"

# ---- send-after-error ----
{
	ev 7 7 0 send 5 "$S" 4 -1 ',"errno":"EPIPE"'
	ev 7 7 1000 send 5 "$S" 4 -1 ',"errno":"EPIPE"'
	life 7 2000 close 5 "$S"
} >"$T/err1.jsonl"
lint "$T/err1.jsonl"
eq "one send after EPIPE (a TLS alert): silent" "$ids" ""
{
	ev 7 7 0 send 5 "$S" 4 -1 ',"errno":"ECONNRESET"'
	ev 7 7 1000 send 5 "$S" 4 -1 ',"errno":"EPIPE"'
	ev 7 7 2000 send 5 "$S" 4 -1 ',"errno":"EPIPE"'
} >"$T/err2.jsonl"
lint "$T/err2.jsonl"
eq "two sends after ECONNRESET: send-after-error" "$ids" "send-after-error"
ok "counted" grep -q 'send failed with ECONNRESET, then 2 more send calls' "$T/out"

# ---- eagain-spin ----
spin() { # N STEP_NS: N EAGAIN failures STEP_NS apart, then a success and the exit
	i=0
	while [ "$i" -lt "$1" ]; do
		ev 7 7 $((i * $2)) send 5 "$S" 4096 -1 ',"errno":"EAGAIN"'
		i=$((i + 1))
	done
	ev 7 7 $(($1 * $2)) send 5 "$S" 4096 4096
	bye 7 $(($1 * $2 + 1000))
}
spin 100 50000 >"$T/spin.jsonl"
lint "$T/spin.jsonl"
eq "100 EAGAIN in 5 ms: eagain-spin (warning)" "$st $ids" "1 eagain-spin"
ok "with its rate" grep -q '"rate_per_ms": 20\.' "$T/out"
ok "and how many" grep -q '100 send calls failed with EAGAIN in a row in 5.0 ms' "$T/out"
spin 99 1000 >"$T/spin99.jsonl"
lint "$T/spin99.jsonl"
eq "99 quick EAGAIN: silent" "$ids" ""
spin 150 1000000 >"$T/spinslow.jsonl"
lint "$T/spinslow.jsonl"
eq "150 EAGAIN 1 ms apart (a poll wait between): silent" "$ids" ""

# ---- small-writes-burst ----
burst() { # SOCK GAP_NS [MORE]: three 10-byte sends GAP_NS apart (each lasts 1 us)
	ev 7 7 0 send 5 "$1" 10 10 "${3:-}"
	ev 7 7 $((1000 + $2)) send 5 "$1" 10 10 "${3:-}"
	ev 7 7 $((2000 + 2 * $2)) send 5 "$1" 10 10 "${3:-}"
	bye 7 1000000
}
burst "$S" 2000 >"$T/burst.jsonl"
lint "$T/burst.jsonl"
eq "3 small sends 2 us apart to another host: small-writes-burst (info)" "$st $ids" "1 small-writes-burst"
ok "described" grep -q '3 writes of 10 to 10 bytes in 7.0 us' "$T/out"
burst "$S" 20000 >"$T/slow.jsonl"
lint "$T/slow.jsonl"
eq "20 us apart (a round trip fits): silent" "$ids" ""
burst "$(tcp $A $B ',"nodelay":true')" 2000 >"$T/nodelay.jsonl"
lint "$T/nodelay.jsonl"
eq "with sock.nodelay: silent" "$ids" ""
burst "$(tcp $A $B ',"cork":true')" 2000 >"$T/cork.jsonl"
lint "$T/cork.jsonl"
eq "with sock.cork: silent" "$ids" ""
burst "$S" 2000 ',"flags":["MSG_MORE"],"flags_raw":32768' >"$T/more.jsonl"
lint "$T/more.jsonl"
eq "with MSG_MORE: silent" "$ids" ""
burst "$(tcp 127.0.0.1:5000 127.0.0.1:80)" 2000 >"$T/lo.jsonl"
lint "$T/lo.jsonl"
eq "over loopback, the peer not traced (a reply could come unseen): silent" "$ids" ""
L=$(tcp 127.0.0.1:5000 127.0.0.1:80)
R=$(tcp 127.0.0.1:80 127.0.0.1:5000)
{
	life 7 0 accept 3 '{"family":"AF_INET","type":"SOCK_STREAM","proto":"tcp","local":"127.0.0.1:80","peer":null}' \
		",\"new_sock\":$R"
	burst "$L" 2000
} | sed 's/"call":"accept","fd":3,\(.*\)"ret":0/"call":"accept","fd":3,\1"ret":6/' >"$T/lopeer.jsonl"
lint "$T/lopeer.jsonl"
eq "over loopback, the peer's end in the trace, silent between: small-writes-burst" "$ids" "small-writes-burst"
{
	cat "$T/lopeer.jsonl"
	ev 7 9 1500 send 6 "$R" 2 2
} >"$T/reply.jsonl"
lint "$T/reply.jsonl"
eq "and when the peer replies between them: silent" "$ids" ""

# ---- unconnected-udp-hot-destination ----
U=$(udp 0.0.0.0:4000 null)
hot() { # N DEST [MORE]
	i=0
	while [ "$i" -lt "$1" ]; do
		ev 7 7 $((i * 1000)) sendto 4 "$U" 4 4 ",\"addr\":\"$2\"${3:-}"
		i=$((i + 1))
	done
}
hot 1000 10.0.0.53:53 >"$T/hot.jsonl"
lint "$T/hot.jsonl"
eq "1000 datagrams to one address, unconnected: unconnected-udp-hot-destination" "$st $ids" "1 unconnected-udp-hot-destination"
ok "the destination as its peer" grep -q '"peer": "10.0.0.53:53"' "$T/out"
hot 999 10.0.0.53:53 >"$T/hot999.jsonl"
lint "$T/hot999.jsonl"
eq "999: silent" "$ids" ""
{
	hot 1000 10.0.0.53:53
	ev 7 7 2000000 sendto 4 "$U" 4 4 ',"addr":"10.0.0.54:53"'
} >"$T/hot2.jsonl"
lint "$T/hot2.jsonl"
eq "and another destination once: silent (connect cannot serve it)" "$ids" ""
hot 100 10.0.0.53:53 ',"sample":10' >"$T/hotsampled.jsonl"
lint "$T/hotsampled.jsonl"
eq "100 sampled 1 in 10: 1000 estimated, unconnected-udp-hot-destination" "$ids" "unconnected-udp-hot-destination"

# ---- traces that lack calls, old traces ----
{
	ev 7 7 0 send 5 "$S" 100 40 ',"sample":4'
	life 7 1000 close 5 "$S"
} >"$T/sampled.jsonl"
lint "$T/sampled.jsonl"
eq "a sampled trace: unsent-remainder not applied" "$st $ids" "0 "
ok "and said" grep -q 'not applied to 1 process whose trace may lack calls' "$T/err"
{
	ev 7 7 0 send 5 "$S" 100 40 ',"lint":[{"id":"sigpipe-default","severity":"warning"}]'
	life 7 1000 close 5 "$S"
} >"$T/onlylint.jsonl"
lint "$T/onlylint.jsonl"
eq "every send with a finding (SENDTRACE_ONLY=lint?): only the recorded finding" "$ids" "sigpipe-default"
ok "and said, with what it hid" grep -q 'they would have found something' "$T/err"
{
	ev 7 7 0 send 5 "$S" 100 40 ',"lint":[{"id":"short-write-stream","severity":"info"}]'
	ev 7 7 1000 send 5 "$S" 60 60
	bye 7 2000
} >"$T/retired.jsonl"
lint "$T/retired.jsonl"
eq "a retired rule in an old trace: not a finding, exit 0" "$st $ids" "0 "
ok "said on stderr" grep -q '1 short-write-stream finding of an older libsendtrace ignored: the rule is retired' "$T/err"
"$ST" lint --fail-on=info "$T/retired.jsonl" >"$T/txt" 2>/dev/null
eq "in text too: exit 0" "$?" "0"
ok "and no group" grep -q '^0 findings' "$T/txt"

# ---- several files: one process's calls in two of them ----
ev 7 7 0 send 5 "$S" 100 40 >"$T/part1.jsonl"
{
	ev 7 7 1000 send 5 "$S" 60 60
	bye 7 2000
} >"$T/part2.jsonl"
"$ST" lint "$T/part2.jsonl" "$T/part1.jsonl" >/dev/null 2>&1
eq "a short send in one file carried on in another: silent" "$?" "0"

# ---- hostile numbers: no overflow, no crash ----
{
	printf '{"v":1,"event":"call","ts":9223372036854775807,"pid":7,"tid":7,"call":"send","fd":5,"sock":%s,"len":9223372036854775807,"ret":1,"dur_ns":9223372036854775807}\n' "$S"
	printf '{"v":1,"event":"call","ts":-9223372036854775807,"pid":7,"tid":7,"call":"sendfile","fd":5,"sock":%s,"len":9,"ret":1,"offset":9223372036854775807,"in":{"kind":"file","size":-1}}\n' "$S"
	bye 7 0
} >"$T/hostile.jsonl"
"$ST" lint "$T/hostile.jsonl" >/dev/null 2>&1
ok "extreme numbers: judged, exit 0 or 1" [ "$?" -le 1 ]
finish
