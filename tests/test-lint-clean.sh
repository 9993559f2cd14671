#!/bin/sh
# test-lint-clean.sh: correct Python programs (sendall through partial writes, socket.sendfile to the end of a file) get no finding.
. "$ST_SRCDIR/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed (apt-get install python3)"
F=$T/py.jsonl
"$ST" run -o "$F" -- python3 "$ST_SRCDIR/tests/lint-clean.py" >"$T/out" 2>"$T/err"
eq "the program sends and receives everything" "$?" "0"
cat "$T/out"
# What makes it a test of partial writes: some really were partial.
python3 - "$F" >"$T/shape" <<'PY'
import json, sys
partial = eof = zero = 0
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    ev = json.loads(line)
    if ev.get("event") != "call":
        continue
    if ev["call"] == "send" and 0 < ev["ret"] < ev["len"]:
        partial += 1
    if ev["call"].startswith("sendfile") and 0 < ev["ret"] < ev["len"]:
        eof += 1
    if ev["call"].startswith("sendfile") and ev["ret"] == 0:
        zero += 1
print(partial, eof, zero)
PY
read -r partial eof zero <"$T/shape"
ok "sendall went through partial writes ($partial)" [ "$partial" -gt 0 ]
eq "sendfile of 3 bytes asked for 4 returned 3" "$eof" 1
eq "sendfile at the end of the files returned 0" "$zero" 2
eq "no event has a finding" "$(count "$F" event=call lint?)" 0
"$ST" lint "$F" >"$T/lint" 2>&1
eq "sendtrace lint finds nothing (exit 0)" "$?" "0"
cat "$T/lint"
finish
