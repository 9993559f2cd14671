#!/bin/sh
# test-pcap.sh: `sendtrace pcap` turns a real program's trace into a pcapng that tshark reads back byte for byte.
. "$ST_SRCDIR/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed (apt-get install python3)"

"$ST" run -s 1024 -o "$T/t.jsonl" -- python3 "$ST_SRCDIR/tests/pcap-demo.py" >"$T/ports" 2>"$T/err"
eq "the workload exits 0" "$?" "0"
"$ST" pcap -o "$T/t.pcapng" "$T/t.jsonl" 2>"$T/err"
eq "pcap exits 0" "$?" "0"
cat "$T/err"

# The file's structure, read by a few lines of Python: blocks, interfaces,
# packets with their captured and original lengths, and comments.
python3 - "$T/t.pcapng" >"$T/blocks" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off = 0
while off < len(d):
    t, n = struct.unpack_from("<II", d, off)
    assert n % 4 == 0 and n >= 12 and off + n <= len(d), "bad block length"
    assert struct.unpack_from("<I", d, off + n - 4)[0] == n, "trailing length differs"
    if t == 0x0A0D0D0A:
        print("shb", hex(struct.unpack_from("<I", d, off + 8)[0]))
    elif t == 1:
        print("idb", struct.unpack_from("<H", d, off + 8)[0])
    elif t == 6:
        ifid, hi, lo, cap, orig = struct.unpack_from("<IIIII", d, off + 8)
        data = d[off + 28: off + 28 + cap]
        o = off + 28 + (cap + 3) // 4 * 4
        comment = ""
        while o < off + n - 4:
            code, ln = struct.unpack_from("<HH", d, o)
            if code == 0:
                break
            if code == 1:
                comment = d[o + 4: o + 4 + ln].decode()
            o += 4 + (ln + 3) // 4 * 4
        print("epb", ifid, cap, orig, data.hex() if ifid == 1 else "", comment.replace(" ", "_"))
    off += n
PY
eq "one section, byte-order magic" "$(grep -c '^shb 0x1a2b3c4d' "$T/blocks")" 1
eq "two interfaces: RAW (101) and USER0 (147)" "$(grep '^idb' "$T/blocks" | tr '\n' ' ')" "idb 101 idb 147 "
eq "one frame per send: 5 TCP, 2 UDP, 1 unix" "$(grep -c '^epb' "$T/blocks")" 8
eq "the unix bytes, escapes undone" "$(awk '$1=="epb" && $2==1 {print $5}' "$T/blocks")" "756e697800015c78ff"
eq "the 3000-byte send: 1024 bytes captured of 3000 (+40 of headers)" \
	"$(awk '$1=="epb" && $4==3040 {print $3}' "$T/blocks")" 1064
ok "its comment says it was cut" grep -q 'payload_truncated:_1024_of_3000' "$T/blocks"
ok "comments name pid, comm and call" grep -q 'epb 0 .*pid_[0-9]*_tid_[0-9]*_comm_python3_sendto_fd_' "$T/blocks"

# Bad use: no output, a missing trace, an output that cannot be made.
"$ST" pcap "$T/t.jsonl" >/dev/null 2>"$T/e1"
eq "no -o: exit 2" "$?" "2"
"$ST" pcap -o "$T/x.pcapng" "$T/missing.jsonl" >/dev/null 2>"$T/e2"
eq "a missing trace: exit 2" "$?" "2"
"$ST" pcap -o "$T/no/such/dir.pcapng" "$T/t.jsonl" >/dev/null 2>"$T/e3"
eq "an output that cannot be created: exit 2" "$?" "2"
ok "and says so" grep -q "cannot create" "$T/e3"

if ! command -v tshark >/dev/null; then
	echo "# tshark is not installed (apt-get install tshark): its checks are skipped"
	finish
	exit $?
fi
set -- $(grep '^tcp' "$T/ports")
cport=$2 sport=$3
tshark -r "$T/t.pcapng" -q -z follow,tcp,raw,0 >"$T/follow" 2>"$T/terr"
eq "tshark reads the capture" "$?" "0"
# Raw follow: one hex line per direction change; client lines first-column, server indented.
client=$(sed -n '/^Node 1/,/^====/p' "$T/follow" | grep -v '^Node\|^====\|^	' | tr -d '\n')
server=$(sed -n '/^Node 1/,/^====/p' "$T/follow" | grep '^	' | tr -d '\t\n')
eq "follow,tcp: the client's bytes in order" "$client" \
	"$(printf 'GET / HTTP/1.0\r\nHost: x\r\n\r\n' | od -An -tx1 | tr -d ' \n')"
want_server=$(printf 'HTTP/1.0 200 OK\r\n\r\n' | od -An -tx1 | tr -d ' \n')
case $server in
"$want_server"*) ok "follow,tcp: the server's reply starts the stream back" true ;;
*) ok "follow,tcp: the server's reply starts the stream back (got ${server%"${server#????????????????????????????????}"}...)" false ;;
esac
eq "follow,tcp: the ports are the real ones" \
	"$(grep '^Node 0' "$T/follow" | sed 's/.*://'),$(grep '^Node 1' "$T/follow" | sed 's/.*://')" \
	"$cport,$sport"
set -- $(grep '^udp' "$T/ports")
eq "UDP datagrams carry the real ports" \
	"$(tshark -r "$T/t.pcapng" -Y udp -T fields -e udp.srcport -e udp.dstport -e data.data 2>/dev/null | tr '\t\n' ', ')" \
	"$2,$3,646772616d2d31 $2,$3,646772616d2d32 "
eq "tshark marks the cut frame as limited by the capture" \
	"$(tshark -r "$T/t.pcapng" -Y 'frame.len == 3040' -T fields -e frame.cap_len 2>/dev/null)" 1064
finish
