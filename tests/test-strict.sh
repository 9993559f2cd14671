#!/bin/sh
# test-strict.sh: after clean endings (threads, exit, _exit, exec, full slices) every line of a trace passes Python's json.loads.
. "$ST_SRCDIR/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed (apt-get install python3)"

# strict FILE: every line a JSON object, by the strictest reader at hand.
strict() {
	python3 - "$1" <<'PY'
import json, sys
bad = 0
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    try:
        if not isinstance(json.loads(line), dict):
            raise ValueError("not an object")
    except ValueError as e:
        bad += 1
        if bad <= 3:
            print("line %d: %r: %s" % (n, line[:50], e))
print(bad)
PY
}

# Through run: the program (a pyenv shim may exec several times first).
"$ST" run -o "$T/t.jsonl" -- python3 "$ST_SRCDIR/tests/strict-demo.py" >/dev/null 2>"$T/err"
eq "the workload exits 0" "$?" "0"
cat "$T/err"
eq "every line passes json.loads" "$(strict "$T/t.jsonl" | tail -n 1)" 0
strict "$T/t.jsonl" | head -n 3
eq "the sends are all there" "$(count "$T/t.jsonl" event=call call=send)" 4730
ok "closed room became filler records" test "$(count "$T/t.jsonl" event=pad)" -gt 0
eq "a fork that called exit(3)" "$(count "$T/t.jsonl" event=exit status=3)" 1
eq "a fork that called _exit(4): its record too" "$(count "$T/t.jsonl" event=exit status=4)" 1
eq "the exec'd image: its start record" \
	"$(count "$T/t.jsonl" event=start how=exec "argv.1~strict-demo.py" argv.2=exec)" 1

# Straight under LD_PRELOAD, a shell that execs and forks.
SENDTRACE_OUTPUT=$T/sh.jsonl LD_PRELOAD=$ST_TEST_LIB sh -c \
	"exec sh -c '\"$ST_BUILDDIR/examples/echo-pair\" >/dev/null; (exec true); exit 0'" 2>/dev/null
eq "sh, exec, fork, exec: every line passes json.loads" "$(strict "$T/sh.jsonl" | tail -n 1)" 0

# Readers skip the filler records: none in show, and show --json is strict too.
"$ST" show "$T/t.jsonl" >"$T/show" 2>&1
ok "show prints no filler record" sh -c '! grep -q " pad" "$1"' sh "$T/show"
"$ST" show --json "$T/t.jsonl" >"$T/json"
eq "show --json: events only" "$(grep -c '"event":"pad"' "$T/json")" 0
eq "show --json: strict" "$(strict "$T/json" | tail -n 1)" 0

# A crash may leave raw padding; show --json still writes clean JSON Lines.
"$ST" run -o "$T/kill.jsonl" -- python3 -c \
	'import os, socket; a, b = socket.socketpair(); a.send(b"x"); os.kill(os.getpid(), 9)' \
	>/dev/null 2>&1
"$ST" show --json "$T/kill.jsonl" >"$T/kjson"
eq "after SIGKILL: show --json is strict" "$(strict "$T/kjson" | tail -n 1)" 0
eq "and holds the send" "$(count "$T/kjson" event=call call=send)" 1
finish
