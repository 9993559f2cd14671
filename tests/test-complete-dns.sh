#!/bin/sh
# test-complete-dns.sh: complete mode records the sends of glibc's own resolver (UDP, TCP, netlink), call for call as strace sees them.
#
# glibc's getaddrinfo sends its queries with internal calls (sendmmsg, send,
# writev on a TCP connection with `options use-vc`) and asks the kernel for
# the host's addresses on a netlink socket (sendto RTM_GETADDR): none of
# them passes through an exported function, so the preload alone sees
# nothing, which is why complete mode exists. Here a private mount namespace
# points /etc/resolv.conf at tests/dnsd in a private network namespace, and
# `getent ahosts` looks a name up three ways: untraced, under strace, and
# under `sendtrace run --complete`.
if [ -z "${ST_DNS_INNER:-}" ]; then
	. "$ST_SRCDIR/tests/lib.sh"
	[ "$(id -u)" = 0 ] || skip "needs root for a private mount namespace"
	command -v unshare >/dev/null || skip "unshare(1) is not installed (util-linux)"
	command -v getent >/dev/null || skip "getent is not installed (libc-bin)"
	command -v strace >/dev/null || skip "strace is not installed (scripts/setup.sh installs it)"
	unshare -m -n true 2>"$T/err" ||
		skip "unshare -m -n is refused here: $(cat "$T/err")"
	# The rest runs in the namespaces; this shell's temp dir is removed on its exit.
	ST_DNS_INNER=1 unshare -m -n sh "$0"
	exit $?
fi
. "$ST_SRCDIR/tests/lib.sh"
DNSD=$ST_BUILDDIR/tests/dnsd
NAME=some.name.test

# unshare(1) makes the new namespace's mounts private: nothing below leaks out.
printf 'hosts: dns\n' >"$T/nsswitch.conf"
printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:5\n' >"$T/resolv.udp"
printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:5 use-vc\n' >"$T/resolv.tcp"
: >"$T/resolv.conf"
mount --bind "$T/resolv.conf" /etc/resolv.conf &&
	mount --bind "$T/nsswitch.conf" /etc/nsswitch.conf ||
	{ echo "FAIL - cannot bind-mount over /etc/resolv.conf and /etc/nsswitch.conf"; exit 1; }

# A fresh network namespace: only lo, brought up by dnsd, and port 53 is ours.
"$DNSD" -l >"$T/dnsd.out" 2>&1 &
dpid=$!
trap 'kill $dpid 2>/dev/null; rm -rf "$T"' EXIT
i=0
while ! grep -q '^dnsd port 53 ' "$T/dnsd.out" && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
ok "dnsd listens on 127.0.0.1:53 ($(cat "$T/dnsd.out"))" grep -q '^dnsd port 53 ' "$T/dnsd.out"

# The sends to sockets strace saw, as "CALL RET" lines: writes to files are left out
# as the trace (SENDTRACE_FDS=sockets) leaves them out.
strace_sends() { # FILE
	sed -n -E 's/^[0-9]+ +(sendto|sendmsg|sendmmsg|write|writev|sendfile)\([0-9]+<(TCP|UDP|TCPv6|UDPv6|NETLINK|UNIX|UNIX-STREAM|UNIX-DGRAM)[:>].* = (-?[0-9]+)( .*)?$/\1 \3/p' "$1"
}

# Events, or 0 when the run left no file (a process that records nothing writes none).
events() { # FILE CONDITIONS...
	if [ -s "$1" ]; then count "$@"; else echo 0; fi
}

for how in udp tcp; do
	cat "$T/resolv.$how" >"$T/resolv.conf"

	# The program works at all, untraced: the fixed answer comes back.
	getent ahosts $NAME >"$T/plain.$how" 2>&1
	eq "$how: untraced, getent exits 0" "$?" 0
	ok "$how: untraced, getent prints dnsd's 192.0.2.7" grep -q '^192\.0\.2\.7 ' "$T/plain.$how"

	# strace's view of the same lookup.
	strace -f -qq -yy -e trace=%network,write,writev -o "$T/strace.$how" \
		getent ahosts $NAME >"$T/strace-out.$how" 2>&1
	strace_sends "$T/strace.$how" >"$T/sends.$how"
	echo "# $how: strace saw: $(tr '\n' ';' <"$T/sends.$how")"
	case $how in
	udp) ok "udp: strace saw the queries sent over UDP (sendmmsg or sendto)" \
		grep -Eq '^(sendmmsg|sendto) ' "$T/sends.$how" ;;
	tcp) ok "tcp: strace saw the queries written to the TCP connection (writev or write)" \
		grep -Eq '^(writev|write) ' "$T/sends.$how" ;;
	esac

	# Complete mode: the program works the same, and its trace holds every one of those calls.
	rm -f "$T/c.$how"
	"$ST" run --complete -o "$T/c.$how" -- getent ahosts $NAME >"$T/complete.$how" 2>"$T/err.$how"
	eq "$how: under run --complete, getent exits 0" "$?" 0
	eq "$how: and prints what it prints untraced" "$(cat "$T/complete.$how")" "$(cat "$T/plain.$how")"
	ok "$how: no warning that complete mode is unavailable" \
		sh -c "! grep -q 'complete mode is not available' '$T/err.$how'"
	eq "$how: the start record says complete:true" "$(events "$T/c.$how" event=start complete=true)" 1
	n=$(wc -l <"$T/sends.$how")
	eq "$how: as many syscall events as strace saw sends ($n)" \
		"$(events "$T/c.$how" event=call via=syscall)" "$n"
	eq "$how: and no event without via (getent calls no exported send function)" \
		"$(events "$T/c.$how" event=call)" "$n"
	sort "$T/sends.$how" | uniq -c | while read -r k call ret; do
		eq "$how: $k $call returning $ret, as strace saw" \
			"$(events "$T/c.$how" event=call via=syscall call="$call" ret="$ret")" "$k"
	done
	case $how in
	udp) q=$(events "$T/c.$how" event=call via=syscall sock.proto=udp sock.peer=127.0.0.1:53)
		ok "udp: the queries to 127.0.0.1:53 over UDP are recorded ($q events)" test "$q" -ge 1
		eq "udp: each of them a sendmmsg or a sendto" "$(($(events "$T/c.$how" \
			event=call via=syscall sock.proto=udp sock.peer=127.0.0.1:53 call=sendmmsg) + \
			$(events "$T/c.$how" event=call via=syscall sock.proto=udp \
			sock.peer=127.0.0.1:53 call=sendto)))" "$q" ;;
	tcp) q=$(events "$T/c.$how" event=call via=syscall sock.proto=tcp sock.peer=127.0.0.1:53)
		ok "tcp: the queries to 127.0.0.1:53 over TCP are recorded ($q events)" test "$q" -ge 1
		eq "tcp: each of them a writev or a write" "$(($(events "$T/c.$how" \
			event=call via=syscall sock.proto=tcp sock.peer=127.0.0.1:53 call=writev) + \
			$(events "$T/c.$how" event=call via=syscall sock.proto=tcp \
			sock.peer=127.0.0.1:53 call=write)))" "$q" ;;
	esac
	# getaddrinfo's AI_ADDRCONFIG asks the kernel for the host's addresses, when it does.
	nl=$(grep -c '^sendto ' "$T/sends.$how")
	if grep -q 'sendto([0-9]*<NETLINK.*RTM_GETADDR' "$T/strace.$how"; then
		eq "$how: getaddrinfo's netlink sendto (RTM_GETADDR) is recorded" \
			"$(events "$T/c.$how" event=call via=syscall call=sendto sock.family=AF_NETLINK)" \
			"$(grep -c 'sendto([0-9]*<NETLINK.*RTM_GETADDR' "$T/strace.$how")"
	else
		echo "# $how: this resolver made no netlink sendto ($nl sendto in all)"
	fi

	# Without --complete: today's behaviour, none of those calls.
	rm -f "$T/d.$how"
	env -u SENDTRACE_COMPLETE "$ST" run -o "$T/d.$how" -- getent ahosts $NAME >"$T/default.$how" 2>/dev/null
	eq "$how: without --complete, getent prints the same" "$(cat "$T/default.$how")" \
		"$(cat "$T/plain.$how")"
	eq "$how: and none of its sends is recorded" "$(events "$T/d.$how" event=call)" 0
done

kill $dpid
wait $dpid
eq "dnsd exits 0 on SIGTERM" "$?" 0
finish
