#!/bin/sh
# test-pystack.sh: a python3 thread with threading.stack_size(32768) starts and sends, traced.
. "$ST_SRCDIR/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed (apt-get install python3)"

# 32 KiB is the smallest stack Python accepts. glibc takes the static TLS of
# every loaded module, the preloaded tracer's included, out of each thread's
# stack: a tracer with tens of KiB of it makes the thread fail to start.
cat >"$T/stack.py" <<'PY'
import socket, threading
threading.stack_size(32768)
res = {}
def work():
    a, b = socket.socketpair()
    res["sent"] = a.send(b"s" * 123)
    res["got"] = len(b.recv(1000))
t = threading.Thread(target=work)
t.start()
t.join()
print("sent", res.get("sent"), "got", res.get("got"))
PY
plain=$(python3 "$T/stack.py" 2>&1)
eq "untraced: the small-stack thread sends" "$plain" "sent 123 got 123"
out=$(SENDTRACE_OUTPUT=$T/py.jsonl LD_PRELOAD=$ST_TEST_LIB python3 "$T/stack.py" 2>"$T/err")
eq "traced: python exits 0" "$?" "0"
eq "traced: the thread started and sent, as untraced" "$out" "$plain"
eq "traced: nothing on stderr" "$(cat "$T/err")" ""
eq "the thread's send is in the trace" "$(count "$T/py.jsonl" event=call call=send len=123 ret=123)" 1
finish
