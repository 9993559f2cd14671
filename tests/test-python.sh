#!/bin/sh
# test-python.sh: `sendtrace run -- python3 script` decodes a real interpreter's sendmsg, sendto and sendfile.
. "$ST_SRCDIR/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed (apt-get install python3)"
"$ST" run -o "$T/py.jsonl" -- python3 "$ST_SRCDIR/tests/sendtrace-demo.py" >"$T/out" 2>"$T/err"
eq "python exits 0" "$?" "0"
cat "$T/out"
F=$T/py.jsonl
eq "sendmsg on AF_UNIX with SCM_RIGHTS and two iovecs" \
	"$(count "$F" call=sendmsg sock.family=AF_UNIX iov.0.len=5 iov.1.len=6 len=11 cmsg.0.type=SCM_RIGHTS ret=11)" 1
eq "the fd passed is a number" "$(count "$F" call=sendmsg cmsg.0.fds.0?)" 1
eq "sendto on UDP to the receiver" "$(count "$F" call=sendto sock.proto=udp len=8 ret=8 "addr~127.0.0.1:")" 1
sf=$(count "$F" sock.proto=tcp len=500 ret=500 offset=100 in.kind=file "in.path~st-demo-")
eq "os.sendfile on TCP with its offset and file" "$sf" 1
"$ST" show "$F" >"$T/show"
cat "$T/show"
ok "show prints the sendmsg" grep -q 'sendmsg(.*iov=\[5,6\], len=11, cmsg=\[SCM_RIGHTS{fds=\[' "$T/show"
ok "show prints the sendfile" grep -q 'sendfile.*offset=100, count=500) = 500' "$T/show"
finish
