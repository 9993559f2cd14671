#!/bin/sh
# test-complete-bt.sh: a send caught in complete mode has its backtrace, unwound through the SIGSYS frame into the program's frames.
. "$ST_SRCDIR/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed (apt-get install python3)"

# syscall(2) through ctypes: the raw sendto traps; its frames are libc's
# syscall, then libffi's and python's. Before the restorer had a signal
# frame's unwind information, the walk stopped at it: "bt":[].
cat >"$T/raw.py" <<'PY'
import ctypes, socket
libc = ctypes.CDLL(None, use_errno=True)
a, b = socket.socketpair()
buf = b"raw-bt"
n = libc.syscall(44, a.fileno(), buf, len(buf), 0, None, 0)
print("sent", n, "got", len(b.recv(100)))
PY
plain=$(python3 "$T/raw.py" 2>&1)
eq "untraced: the raw send works" "$plain" "sent 6 got 6"
out=$("$ST" run --complete -k 8 -o "$T/bt.jsonl" -- python3 "$T/raw.py" 2>"$T/err")
eq "traced: the same output" "$out" "$plain"
start=$("$EVQ" "$T/bt.jsonl" event=start complete=true)
if [ "$start" = 0 ]; then
	skip "complete mode is not available here (start record without \"complete\":true)"
fi
eq "one sendto of 6 bytes, via syscall" "$(count "$T/bt.jsonl" event=call call=sendto len=6 via=syscall)" 1
"$ST" show --bt --call=sendto "$T/bt.jsonl" >"$T/show" 2>&1
cat "$T/show"
ok "its backtrace starts at libc's syscall()" grep -q '#0  syscall+0x[0-9a-f]* (.*libc' "$T/show"
ok "and reaches python's own frames" grep -q 'python3\|libpython' "$T/show"
ok "none of the library's frames shows" sh -c '! grep -q libsendtrace "$1"' sh "$T/show"
finish
