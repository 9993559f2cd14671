#!/bin/sh
# test-rsyslog.sh: examples/rsyslog/sendtrace.conf ships the events of a live trace through a real rsyslogd, parsed.
. "$ST_SRCDIR/tests/lib.sh"
RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
[ -x "$RSYSLOGD" ] || skip "rsyslogd is not installed (apt-get install rsyslog)"

# The example as shipped, with its paths moved under $T.
{
	echo "global(workDirectory=\"$T\")"
	sed -e "s|/var/log/sendtrace-shipped/|$T/out/|" -e "s|/var/log/sendtrace/|$T/in/|" \
		"$ST_SRCDIR/examples/rsyslog/sendtrace.conf"
} >"$T/rs.conf"
mkdir "$T/in" "$T/out"
"$RSYSLOGD" -N1 -f "$T/rs.conf" >"$T/check" 2>&1
eq "rsyslogd accepts the configuration" "$?" "0" || cat "$T/check"

# The live stream: show -f --json appends to the file rsyslog tails.
: >"$T/app.jsonl"
: >"$T/in/app.ndjson"
"$RSYSLOGD" -n -f "$T/rs.conf" -i "$T/rsyslogd.pid" >"$T/rs.log" 2>&1 &
rpid=$!
"$ST" show -f --json "$T/app.jsonl" >>"$T/in/app.ndjson" 2>/dev/null &
spid=$!
SENDTRACE_OUTPUT=$T/app.jsonl LD_PRELOAD=$ST_TEST_LIB "$ST_BUILDDIR/examples/echo-pair" >/dev/null
SENDTRACE_OUTPUT=$T/app.jsonl LD_PRELOAD=$ST_TEST_LIB "$ST_BUILDDIR/examples/echo-pair" >/dev/null
# Bounded waits: the follower polls every 200 ms, imfile every second or so.
i=0
while [ "$(cat "$T"/out/*.json 2>/dev/null | wc -l)" -lt 12 ] && [ $i -lt 120 ]; do
	sleep 0.5
	i=$((i + 1))
done
kill -INT $spid
kill $rpid
wait $spid $rpid 2>/dev/null
cat "$T"/out/*.json >"$T/shipped" 2>/dev/null
eq "the 12 call events of two runs arrive, and only those" "$(wc -l <"$T/shipped")" 12
eq "parsed: the calls named send* (all but the 2 writes)" "$(count "$T/shipped" event=call call~send)" 10
eq "with the sendfile and its peer" "$(count "$T/shipped" call=sendfile "sock.peer~127.0.0.1:")" 2
eq "timestamps intact (19 digits)" "$(grep -c '"ts": *[0-9]\{19\},' "$T/shipped")" 12
finish
