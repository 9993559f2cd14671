#!/bin/sh
# test-syscalls.sh: in steady state the tracer makes no system call of its own (counted with strace -c).
. "$ST_SRCDIR/tests/lib.sh"
command -v strace >/dev/null || skip "strace is not installed (scripts/setup.sh installs it)"
LOOP=$ST_BUILDDIR/tests/sysloop

# Total system calls of a run of N iterations (send, sendto to an unconnected
# UDP socket, write to /dev/null), traced or not.
calls() { # traced|untraced N [VAR=VALUE...]
	if [ "$1" = traced ]; then
		n=$2
		shift 2
		rm -f "$T"/t.jsonl*
		env "$@" SENDTRACE_OUTPUT="$T/t.jsonl" LD_PRELOAD="$ST_TEST_LIB" \
			strace -f -c -o "$T/c.txt" "$LOOP" "$n" 2>"$T/err"
	else
		strace -f -c -o "$T/c.txt" "$LOOP" "$2"
	fi
	awk '$NF == "total" {print $4 + 0}' "$T/c.txt"
}

# Two lengths: start-up costs cancel out in the difference.
u1=$(calls untraced 1000) u2=$(calls untraced 3000)
t1=$(calls traced 1000) t2=$(calls traced 3000)
echo "# untraced: $u1 / $u2 system calls; traced: $t1 / $t2 (1000 / 3000 iterations)"
extra=$(( (t2 - t1) - (u2 - u1) ))
echo "# system calls the tracer added for 2000 iterations x 3 calls: $extra"
# Re-checks of each fd every 100 ms and a few appends of trace room are allowed; one per event is not.
ok "no system call per event in steady state ($extra extra for 6000 calls)" test "$extra" -lt 60
eq "the send and sendto events of the last run are all there" "$(count "$T/t.jsonl" event=call)" 6000

# A size cap: checked per region, not per event; past it (64 KiB, reached
# within the first 200 iterations), events are counted and cost no system
# call; rotating (1 MiB, a dozen times here), each region claimed checks the
# path too, and each rotation renames.
for v in "SENDTRACE_MAX_SIZE=1G" "SENDTRACE_MAX_SIZE=64k" \
	"SENDTRACE_MAX_SIZE=1M SENDTRACE_ROTATE=3"; do
	# shellcheck disable=SC2086
	c1=$(calls traced 10000 $v)
	# shellcheck disable=SC2086
	c2=$(calls traced 30000 $v)
	extra=$(( (c2 - c1) - (u2 - u1) * 10 ))
	echo "# $v: $c1 / $c2 system calls (10000 / 30000 iterations): $extra added for 60,000 calls"
	case $v in
	*ROTATE*) ok "$v: $extra system calls for 60,000 events (rotating)" test "$extra" -lt 3000
		ok "$v: it rotated" test -f "$T/t.jsonl.3" ;;
	*) ok "$v: no system call per event ($extra for 60,000)" test "$extra" -lt 600 ;;
	esac
done
finish
