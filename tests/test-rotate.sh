#!/bin/sh
# test-rotate.sh: SENDTRACE_MAX_SIZE and SENDTRACE_ROTATE: files stay near the cap, rotate to FILE.1..N, no line split or lost.
. "$ST_SRCDIR/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed (apt-get install python3)"
SEND=$ST_BUILDDIR/tests/rotsend
K=65536
# Per file: the cap, plus one region (an eighth of the cap) and one first
# line per process appending at the same moment: 4 processes here.
BOUND=$((K + 4 * (K / 8) + 4 * 256))

# check BASE PROCS THREADS SENDS: every line of BASE, BASE.1, ... (up to the
# first missing) read by Python's json.loads; prints "key value" lines.
check() {
	python3 - "$@" <<'PY'
import json, os, re, sys
base, procs, threads, sends = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
files = [base]
while os.path.exists("%s.%d" % (base, len(files))):
    files.append("%s.%d" % (base, len(files)))
bad = calls = capped = exits = 0
seqs, first_seen, start_pairs, start_alone = {}, {}, 0, 0
sizes = []
for f in reversed(files):  # oldest first
    sizes.append(os.path.getsize(f))
    lines = open(f, encoding="utf-8").read().split("\n")
    if lines[-1] != "":
        bad += 1  # a file must end with a whole line
    events = []
    for line in lines[:-1]:
        try:
            ev = json.loads(line)
            if not isinstance(ev, dict):
                raise ValueError
        except ValueError:
            bad += 1
            events.append(None)
            continue
        events.append(ev)
    for i, ev in enumerate(events):
        if ev is None:
            continue
        kind = ev["event"]
        if kind == "call":
            calls += 1
            m = re.fullmatch(r"p(\d+)t(\d+)s(\d+)", ev.get("payload", ""))
            if not m:
                continue  # recorded without payloads
            seqs.setdefault((m.group(1), m.group(2)), []).append(int(m.group(3)))
        elif kind == "exit":
            exits += 1
            capped += ev.get("capped", 0)
        elif kind == "start":
            # held back and written with the process's next record, in one slice
            nxt = events[i + 1] if i + 1 < len(events) else None
            if nxt and nxt.get("pid") == ev["pid"] and nxt["event"] in ("call", "exit"):
                start_pairs += 1
            else:
                start_alone += 1
# each thread's events: numbers that follow each other, oldest file first
ordered = sum(1 for v in seqs.values() if v == list(range(v[0], v[0] + len(v))))
complete = sum(1 for v in seqs.values() if v == list(range(sends)))
print("files", len(files))
print("bad", bad)
print("calls", calls)
print("capped", capped)
print("exits", exits)
print("threads", len(seqs))
print("ordered", ordered)
print("complete", complete)
print("largest", max(sizes))
print("start_pairs", start_pairs)
print("start_alone", start_alone)
PY
}
val() { sed -n "s/^$1 //p" "$T/report"; }

# 4 processes x 4 threads, a 64 KiB cap, 3 old files kept: 32,000 events
# of about 300 bytes go through some 140 files, all but 4 of them dropped.
export SENDTRACE_PAYLOAD=32
SENDTRACE_OUTPUT=$T/r.jsonl SENDTRACE_MAX_SIZE=64k SENDTRACE_ROTATE=3 LD_PRELOAD=$ST_TEST_LIB \
	"$SEND" 4 4 2000 2>"$T/err"
eq "4 x 4 x 2000 sends under rotation: the program's status" "$?" 0
eq "no warning" "$(cat "$T/err")" ""
check "$T/r.jsonl" 4 4 2000 >"$T/report"
ok "FILE, FILE.1, FILE.2 and FILE.3 exist" test -f "$T/r.jsonl.3"
ok "FILE.4 does not" test ! -e "$T/r.jsonl.4"
eq "every line of every file parses, none split" "$(val bad)" 0
ok "each file within the cap and a region per process ($(val largest) <= $BOUND)" \
	test "$(val largest)" -le "$BOUND"
ok "the files kept hold the last events (FILE..FILE.3: $(val calls) calls)" \
	test "$(val calls)" -gt 500 -a "$(val calls)" -lt 32000
eq "each thread's events kept follow each other, without a gap" "$(val ordered)" "$(val threads)"
eq "no event dropped by the cap (rotation makes room)" "$(val capped)" 0

# The same with every file kept (no FILE.N reaches the end of the rotation):
# then every send is accounted for, each thread's 1,000 in order across the files.
SENDTRACE_OUTPUT=$T/a.jsonl SENDTRACE_MAX_SIZE=64k SENDTRACE_ROTATE=1000 LD_PRELOAD=$ST_TEST_LIB \
	"$SEND" 4 4 1000 2>"$T/err"
eq "4 x 4 x 1000 sends, nothing rotated out: the program's status" "$?" 0
check "$T/a.jsonl" 4 4 1000 >"$T/report"
echo "# $(val files) files, the largest $(val largest) bytes"
ok "rotated many times ($(val files) files)" test "$(val files)" -gt 40
ok "the next FILE.N does not exist" test ! -e "$T/a.jsonl.$(val files)"
eq "every line of every file parses, none split" "$(val bad)" 0
ok "each file within the cap and a region per process ($(val largest) <= $BOUND)" \
	test "$(val largest)" -le "$BOUND"
eq "recorded call events + capped = the 16,000 sends made" \
	"$(($(val calls) + $(val capped)))" 16000
eq "each of the 16 threads has all its 1,000 events, in order across the files" \
	"$(val complete)" 16
eq "4 exit records" "$(val exits)" 4
eq "every start record is in the file, and slice, of its process's next record" \
	"$(val start_alone)" 0
ok "one start record per process" test "$(val start_pairs)" -eq 4
"$ST" show "$T/a.jsonl.7" >"$T/show" 2>&1
eq "show reads a rotated file without start records" "$?" 0
ok "and names each event's process" grep -q "^[0-9:.]* [0-9]*/[0-9]* send(" "$T/show"
unset SENDTRACE_PAYLOAD

# Without rotation: the file stops at the cap, one warning, the rest counted.
SENDTRACE_OUTPUT=$T/c.jsonl SENDTRACE_MAX_SIZE=64k LD_PRELOAD=$ST_TEST_LIB \
	"$SEND" 1 4 2000 2>"$T/err"
eq "capped: the program's status is unchanged" "$?" 0
cat "$T/err"
eq "exactly one warning" "$(grep -c . "$T/err")" 1
ok "which names the cap" grep -q "reached SENDTRACE_MAX_SIZE (64 KiB)" "$T/err"
size=$(wc -c <"$T/c.jsonl" | tr -d ' ')
echo "# capped file: $size bytes"
ok "the file stops at the cap, and its exit record ($size)" \
	test "$size" -le $((K + 512)) -a "$size" -gt $((K - 8192))
calls=$(count "$T/c.jsonl" event=call)
eq "the exit record counts every call" "$(count "$T/c.jsonl" event=exit events=8000)" 1
eq "its capped count is the calls not written (8000 - $calls)" \
	"$(count "$T/c.jsonl" event=exit capped=$((8000 - calls)))" 1
check "$T/c.jsonl" 1 4 2000 >"$T/report"
eq "every line parses" "$(val bad)" 0
ok "no FILE.1" test ! -e "$T/c.jsonl.1"

# A rotation that cannot be done (FILE.1 is a directory: EISDIR): said once,
# and the file stops at the cap as without rotation.
mkdir "$T/d.jsonl.1"
SENDTRACE_OUTPUT=$T/d.jsonl SENDTRACE_MAX_SIZE=64k SENDTRACE_ROTATE=1 LD_PRELOAD=$ST_TEST_LIB \
	"$SEND" 1 2 2000 2>"$T/err"
eq "rotation refused: the program's status is unchanged" "$?" 0
cat "$T/err"
eq "rotation refused: exactly one warning" "$(grep -c . "$T/err")" 1
ok "which says why" grep -q "cannot rotate trace file .*d.jsonl (EISDIR): it stops at SENDTRACE_MAX_SIZE (64 KiB)" "$T/err"
size=$(wc -c <"$T/d.jsonl" | tr -d ' ')
ok "the file stops at the cap ($size)" test "$size" -le $((K + 512))
calls=$(count "$T/d.jsonl" event=call)
eq "the exit record counts what was capped (4000 - $calls)" \
	"$(count "$T/d.jsonl" event=exit capped=$((4000 - calls)))" 1

# Bad values: one clear warning each, and the program runs as it would.
for bad in "SENDTRACE_MAX_SIZE=12x" "SENDTRACE_MAX_SIZE=1k" "SENDTRACE_MAX_SIZE=64k SENDTRACE_ROTATE=-1" \
	"SENDTRACE_ROTATE=3"; do
	rm -f "$T/b.jsonl"
	# shellcheck disable=SC2086
	env $bad SENDTRACE_OUTPUT="$T/b.jsonl" LD_PRELOAD="$ST_TEST_LIB" "$SEND" 1 1 10 2>"$T/err"
	eq "$bad: the program runs" "$?" 0
	eq "$bad: one warning" "$(grep -c . "$T/err")" 1
	sed 's/^/# /' "$T/err"
	eq "$bad: and the events are recorded" "$(count "$T/b.jsonl" event=call)" 10
done
ok "SENDTRACE_MAX_SIZE=12x is named" sh -c \
	'SENDTRACE_MAX_SIZE=12x SENDTRACE_OUTPUT=$1/b.jsonl LD_PRELOAD=$2 $3 1 1 1 2>&1 | grep -q "SENDTRACE_MAX_SIZE=.12x. is not valid"' \
	sh "$T" "$ST_TEST_LIB" "$SEND"
ok "SENDTRACE_ROTATE without a cap is named" sh -c \
	'SENDTRACE_ROTATE=3 SENDTRACE_OUTPUT=$1/b.jsonl LD_PRELOAD=$2 $3 1 1 1 2>&1 | grep -q "SENDTRACE_ROTATE needs a valid SENDTRACE_MAX_SIZE"' \
	sh "$T" "$ST_TEST_LIB" "$SEND"

# run: the options, checked; the summary across the files; the cap's count.
"$ST" run --max-size=bogus true 2>"$T/err"
eq "run --max-size=bogus: exit 2" "$?" 2
ok "and the message names the value" grep -q "max-size takes a size .*not 'bogus'" "$T/err"
"$ST" run --rotate=3 true 2>"$T/err"
eq "run --rotate without --max-size: exit 2" "$?" 2
ok "and says so" grep -q "rotate needs --max-size" "$T/err"
"$ST" run --max-size=64k --rotate=x true 2>"$T/err"
eq "run --rotate=x: exit 2" "$?" 2
echo '{"v":1,"event":"pad"}' >"$T/run.jsonl.2"
"$ST" run -o "$T/run.jsonl" --max-size=64k --rotate=2 -s 32 -- "$SEND" 2 2 1500 2>"$T/err"
eq "run --max-size --rotate: the program's status" "$?" 0
cat "$T/err"
ok "the summary counts across FILE and its rotations" \
	grep -q "calls from [0-9]* process.* traced to $T/run.jsonl and 2 older files" "$T/err"
ok "and says older events may have been rotated out" grep -q "rotated out" "$T/err"
n=$(($(count "$T/run.jsonl" event=call) + $(count "$T/run.jsonl.1" event=call) +
	$(count "$T/run.jsonl.2" event=call)))
ok "with the number of calls in the three files ($n)" grep -q "^sendtrace: $n calls from" "$T/err"
echo hello >"$T/x.jsonl.1"
"$ST" run -o "$T/x.jsonl" --max-size=64k --rotate=1 true 2>"$T/err"
eq "run refuses to remove a FILE.1 that is not a trace: exit 2" "$?" 2
eq "and leaves it" "$(cat "$T/x.jsonl.1")" hello
"$ST" run -o "$T/cap.jsonl" --max-size=64k -- "$SEND" 1 2 2000 2>"$T/err"
eq "run --max-size: the program's status" "$?" 0
c=$(count "$T/cap.jsonl" event=call)
ok "the summary says how many the cap dropped ($((4000 - c)))" \
	grep -q "; $((4000 - c)) events dropped by the size cap" "$T/err"

# -F: each process's file rotates on its own.
"$ST" run -F -o "$T/pp" --max-size=64k --rotate=2 -- "$SEND" 2 2 1500 2>"$T/err"
eq "run -F --max-size --rotate: the program's status" "$?" 0
cat "$T/err"
eq "two processes, each with FILE.PID, .1 and .2" "$(ls "$T" | grep -c '^pp\.[0-9]*\.2$')" 2
ok "no FILE.PID.3" sh -c '! ls "$1" | grep -q "^pp\.[0-9]*\.3$"' sh "$T"
bad=0
for f in "$T"/pp.*; do
	check "$f" 1 1 1 | grep -q '^bad 0$' || bad=$((bad + 1))
done
eq "every line of every per-process file parses" "$bad" 0
ok "the summary counts them" grep -q "traced to $T/pp.PID (2 files, and 4 rotated" "$T/err"
finish
