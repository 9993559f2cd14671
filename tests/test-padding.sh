#!/bin/sh
# test-padding.sh: a trace stays within a small factor of its events' bytes: short-lived threads, idle processes.
. "${ST_SRCDIR:-.}/tests/lib.sh"

# bytes FILE: the file's size; inked FILE: the bytes of its records, not
# counting whitespace or the filler records closed room becomes.
bytes() { wc -c <"$1" | tr -d ' '; }
inked() { grep -v '^{"v":1,"event":"pad"' "$1" | tr -d ' \t\n' | wc -c | tr -d ' '; }

# 10,000 threads, one after the other, one send each, then gone: each used
# to leave a 16 KiB slice behind (164 MB for 2.6 MB of events).
SENDTRACE_OUTPUT=$T/threads.jsonl LD_PRELOAD=$ST_TEST_LIB "$ST_BUILDDIR/tests/threadsend" 10000
eq "10,000 threads ran" "$?" "0"
eq "10,000 send events recorded" "$(count "$T/threads.jsonl" event=call call=send)" "10000"
size=$(bytes "$T/threads.jsonl")
ink=$(inked "$T/threads.jsonl")
echo "# 10,000 threads: $size bytes of trace for $ink bytes of events"
ok "10,000 threads: the trace is at most 4 times its events ($size for $ink)" \
	[ "$size" -le $((4 * ink)) ]

# A shell loop of /bin/true: processes that send nothing. Each used to add
# 16 KiB of padding around its start and exit records; now they leave
# nothing at all, unless SENDTRACE_PROCS=all asks for their records.
SENDTRACE_OUTPUT=$T/idle.jsonl LD_PRELOAD=$ST_TEST_LIB sh -c \
	'i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done'
eq "200 /bin/true, by default: nothing written" "$(bytes "$T/idle.jsonl")" 0
SENDTRACE_PROCS=all SENDTRACE_OUTPUT=$T/true.jsonl LD_PRELOAD=$ST_TEST_LIB sh -c \
	'i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done'
eq "200 /bin/true with SENDTRACE_PROCS=all: each has its start record" \
	"$(count "$T/true.jsonl" event=start argv.0=/bin/true)" "200"
size=$(bytes "$T/true.jsonl")
ink=$(inked "$T/true.jsonl")
echo "# 200 /bin/true: $size bytes of trace for $ink bytes of records"
ok "200 /bin/true: the trace is at most 4 times its records ($size for $ink)" \
	[ "$size" -le $((4 * ink)) ]
finish
