#!/usr/bin/env bash
# run.sh: `make bench`: every workload untraced, traced, fully traced and under strace, interleaved.
# Usage: bench/run.sh BENCH_BINARY LIBSENDTRACE [REPEATS]
set -u
BENCH=$1
LIB=$2
REPS=${3:-${BENCH_REPEATS:-3}}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/st-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
CALLS="send,sendto,sendmsg,sendmmsg,write,writev,sendfile,sendfile64"

# Record-time filters and sampling: what a call turned away costs beside a
# recorded one, in instructions (valgrind or perf, exact) and in ns (median
# of REPS runs). `BENCH_ONLY=filter bench/run.sh ...` runs this part alone;
# BENCH_N sets its iterations (default 20000; a smoke test can use 200).
filter_bench() {
	local n=${BENCH_N:-20000} w
	echo "filtered and sampled-out sends beside recorded ones, 1 thread"
	echo "(added = over untraced; /rec = added as a share of a recorded call's added cost)"
	printf '%-9s %-34s %12s %10s %10s %6s\n' workload case ns/call added_ns instr/call /rec
	for w in send sendconn; do
		local base_ns base_ir rec_ir=0
		base_ns=$(filter_ns "$w" "$n" X=1)
		base_ir=$(filter_ir "$w" "$n" X=1)
		while IFS='|' read -r label envs; do
			[ "$w" = send ] && [ "$label" = "turned away: peer (fd table)" ] && continue
			# shellcheck disable=SC2086
			ns=$(filter_ns "$w" "$n" SENDTRACE_OUTPUT="$TMP/f.jsonl" LD_PRELOAD="$LIB" $envs)
			# shellcheck disable=SC2086
			ir=$(filter_ir "$w" "$n" SENDTRACE_OUTPUT="$TMP/f.jsonl" LD_PRELOAD="$LIB" $envs)
			if [ "$label" = recorded ]; then
				rec_ir=$(awk -v a="$ir" -v b="$base_ir" 'BEGIN {print a - b}')
			fi
			awk -v w="$w" -v l="$label" -v ns="$ns" -v b="$base_ns" -v ir="$ir" -v bi="$base_ir" \
				-v ri="$rec_ir" 'BEGIN {
				printf "%-9s %-34s %12.0f %10.0f %10s %6s\n", w, l, ns, ns - b,
					(ir == "" ? "n/a" : sprintf("%.0f", ir - bi)),
					(ir == "" || ri <= 0 ? "n/a" : sprintf("%.2f", (ir - bi) / ri)) }'
		done <<-'EOF'
			recorded|X=1
			turned away: call (before it)|SENDTRACE_FILTER=call=write
			turned away: fd (before it)|SENDTRACE_FILTER=fd=999
			turned away: peer (fd table)|SENDTRACE_FILTER=peer=10.9.9.9
			turned away: errors (after it)|SENDTRACE_FILTER=errors
			sampled out (1 in 1000000)|SENDTRACE_SAMPLE=1000000
			sampled out, lint off|SENDTRACE_SAMPLE=1000000 SENDTRACE_LINT=off
		EOF
	done
}
filter_ns() { # workload n env... -> median ns per iteration
	local w=$1 n=$2 r
	shift 2
	for r in $(seq "$REPS"); do
		rm -f "$TMP/f.jsonl"
		env "$@" "$BENCH" "$w" 1 "$n" | awk '{print $1}'
	done | median
}
filter_ir() { # workload n env... -> instructions per iteration (two lengths: start-up cancels)
	local w=$1 n=$2 a b
	shift 2
	case $counter in
	perf)
		a=$(env "$@" perf stat -x, -e instructions:u "$BENCH" "$w" 1 "$n" 2>&1 >/dev/null |
			awk -F, '/instructions/ {print $1}')
		b=$(env "$@" perf stat -x, -e instructions:u "$BENCH" "$w" 1 "$((2 * n))" 2>&1 >/dev/null |
			awk -F, '/instructions/ {print $1}') ;;
	valgrind)
		a=$(env "$@" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BENCH" "$w" 1 "$n" 2>&1 |
			sed -n 's/.*refs: *//p' | tr -d ,)
		b=$(env "$@" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BENCH" "$w" 1 "$((2 * n))" 2>&1 |
			sed -n 's/.*refs: *//p' | tr -d ,) ;;
	*) return ;;
	esac
	rm -f "$TMP/f.jsonl"
	awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN {printf "%.1f\n", (b - a) / n}'
}

# Complete mode (docs/complete.md) beside the default mode and strace. A
# system call made through libc's exported functions that the library
# forwards (send family, read, recv, poll, epoll_wait, ...) does not trap;
# any other traps. The loops: the send loop (send and recv, no trap), a
# send made by syscall(2) (recorded only in complete mode: one trap, and
# the recv none), a pipe loop that sends nothing (write and read: what a
# daemon pays for the calls complete mode does not record, when it makes
# them through libc), and the same by syscall(2) (two traps: what calls
# made inside libc or by the program's own instructions cost).
# BENCH_ONLY=complete runs this part alone; BENCH_N its iterations.
complete_bench() {
	local n=${BENCH_N:-20000} w r m
	echo "complete mode: median ns per loop iteration, 1 thread, $REPS repeats, interleaved"
	echo "(added = over untraced; strace/complete = strace's added cost over complete mode's)"
	printf '%-8s %10s %10s %10s %10s %11s %11s %9s\n' workload untraced default complete \
		strace complete+ strace+ "strace/complete"
	for w in send rawsend pipe rawpipe; do
		local ru="" rd="" rc="" rs="" u d c s
		for r in $(seq "$REPS"); do # interleaved: drift hits every mode alike
			ru+="$(complete_mode untraced "$w" "$n") "
			rd+="$(complete_mode traced "$w" "$n") "
			rc+="$(complete_mode complete "$w" "$n") "
			rs+="$(complete_mode strace "$w" "$n") "
		done
		u=$(tr ' ' '\n' <<<"$ru" | median)
		d=$(tr ' ' '\n' <<<"$rd" | median)
		c=$(tr ' ' '\n' <<<"$rc" | median)
		s=$(tr ' ' '\n' <<<"$rs" | median)
		awk -v w="$w" -v u="$u" -v d="$d" -v c="$c" -v s="$s" 'BEGIN {
			printf "%-8s %10.0f %10.0f %10.0f %10s %11.0f %11s %9s\n", w, u, d, c,
				(s == "" ? "n/a" : sprintf("%.0f", s)), c - u,
				(s == "" ? "n/a" : sprintf("%.0f", s - u)),
				(s == "" || c <= u ? "n/a" : sprintf("%.1f", (s - u) / (c - u))) }'
	done
	if command -v strace >/dev/null; then
		echo "system calls per iteration (strace -c -f; complete mode's traps return by rt_sigreturn)"
		printf '%-8s %10s %10s %10s\n' workload untraced default complete
		for w in send rawsend pipe rawpipe; do
			local a b c2
			a=$(complete_syscalls untraced "$w") b=$(complete_syscalls traced "$w")
			c2=$(complete_syscalls complete "$w")
			printf '%-8s %10s %10s %10s\n' "$w" "$a" "$b" "$c2"
		done
	fi
	echo "events recorded per iteration (default / complete): $(complete_events)"
}
complete_mode() { # mode workload n -> ns per iteration
	local m=$1 w=$2 n=$3 out=$TMP/c.jsonl
	rm -f "$out"
	case $m in
	untraced) "$BENCH" "$w" 1 "$n" ;;
	traced) SENDTRACE_OUTPUT=$out LD_PRELOAD=$LIB "$BENCH" "$w" 1 "$n" ;;
	complete) SENDTRACE_COMPLETE=1 SENDTRACE_OUTPUT=$out LD_PRELOAD=$LIB "$BENCH" "$w" 1 "$n" ;;
	strace) command -v strace >/dev/null &&
		strace -f -qq -e trace=$CALLS -o /dev/null "$BENCH" "$w" 1 "$((n / 4 > 0 ? n / 4 : 1))" ;;
	esac | awk '{print $1}'
	rm -f "$out"
}
complete_syscalls() { # mode workload -> system calls per iteration (two lengths)
	local m=$1 w=$2 env=() t1 t2
	[ "$m" = traced ] && env=(SENDTRACE_OUTPUT="$TMP/cs.jsonl" LD_PRELOAD="$LIB")
	[ "$m" = complete ] && env=(SENDTRACE_COMPLETE=1 SENDTRACE_OUTPUT="$TMP/cs.jsonl" LD_PRELOAD="$LIB")
	env "${env[@]}" strace -f -c -o "$TMP/cs.txt" "$BENCH" "$w" 1 2000 >/dev/null 2>&1
	t1=$(awk '$NF == "total" {print $4 + 0}' "$TMP/cs.txt")
	env "${env[@]}" strace -f -c -o "$TMP/cs.txt" "$BENCH" "$w" 1 4000 >/dev/null 2>&1
	t2=$(awk '$NF == "total" {print $4 + 0}' "$TMP/cs.txt")
	rm -f "$TMP/cs.jsonl"
	awk -v a="$t1" -v b="$t2" 'BEGIN {printf "%.2f\n", (b - a) / 2000}'
}
complete_events() {
	local w out=$TMP/ce.jsonl d c
	for w in send rawsend pipe rawpipe; do
		rm -f "$out"
		SENDTRACE_OUTPUT=$out LD_PRELOAD=$LIB "$BENCH" "$w" 1 1000 >/dev/null
		d=$(grep -c '"event":"call"' "$out" 2>/dev/null)
		rm -f "$out"
		SENDTRACE_COMPLETE=1 SENDTRACE_OUTPUT=$out LD_PRELOAD=$LIB "$BENCH" "$w" 1 1000 >/dev/null
		c=$(grep -c '"event":"call"' "$out" 2>/dev/null)
		printf '%s %s/%s of 1000  ' "$w" "${d:-0}" "${c:-0}"
	done
	rm -f "$out"
	echo
}

# Iterations per workload: enough to dwarf start-up, short enough to repeat.
iters() {
	case $1 in
	send | senddeep) echo 40000 ;; sendto | sendmsg) echo 20000 ;; write | writev) echo 10000 ;;
	devnull) echo 200000 ;;
	sendfile) echo 40 ;;
	esac
}

# full = backtraces and payload capture: recorded once those features exist.
full_env() {
	if strings "$LIB" | grep -q SENDTRACE_BACKTRACE; then
		echo "SENDTRACE_BACKTRACE=16"
	fi
}

run_mode() { # mode workload threads iterations -> ns per iteration
	local mode=$1 w=$2 t=$3 n=$4 out=$TMP/trace.jsonl
	rm -f "$out"
	case $mode in
	untraced) "$BENCH" "$w" "$t" "$n" ;;
	dormant) SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT=$out LD_PRELOAD=$LIB "$BENCH" "$w" "$t" "$n" ;;
	traced) SENDTRACE_OUTPUT=$out LD_PRELOAD=$LIB "$BENCH" "$w" "$t" "$n" ;;
	full) env $(full_env) SENDTRACE_OUTPUT=$out LD_PRELOAD=$LIB "$BENCH" "$w" "$t" "$n" ;;
	strace) strace -f -qq -e trace=$CALLS -o /dev/null "$BENCH" "$w" "$t" "$((n / 4 > 0 ? n / 4 : 1))" ;;
	esac | awk '{print $1}'
}

# The blank lines the space-joined lists leave are not values: counted, they
# made the "median" of three runs their smallest (the blank sorts first).
median() { sort -g | awk 'NF {a[++n]=$1} END {print (n ? a[int((n+1)/2)] : "")}'; }

# Instructions: valgrind counts them exactly, whatever the machine is doing.
if perf stat -x, -e instructions:u true 2>&1 | grep -q '^[0-9]'; then
	counter=perf
elif command -v valgrind >/dev/null; then
	counter=valgrind
else
	counter=none
fi
if [ "${BENCH_ONLY:-}" = filter ]; then
	filter_bench
	exit 0
fi
if [ "${BENCH_ONLY:-}" = complete ]; then
	complete_bench
	exit 0
fi

modes="untraced dormant traced strace"
[ -n "$(full_env)" ] && modes="untraced dormant traced full strace"
have_strace=1
command -v strace >/dev/null || { have_strace=0; modes=${modes/ strace/}; }

echo "sendtrace benchmark: $(nproc) cpus, $REPS repeats, median ns per loop iteration"
echo "(each iteration is one traced call plus its receive; sendfile is 1 MiB;"
echo " senddeep is send under 20 more frames; full = backtraces of 16 frames;"
echo " dormant = loaded with SENDTRACE_ENABLE=0, the library's cost before ctl on)"
printf '%-9s %3s %10s %10s %10s %10s %10s %8s %9s %9s %10s\n' workload thr untraced dormant \
	traced full strace dorm/un traced/un strace/tr added_ns
for w in send senddeep sendto sendmsg write writev devnull sendfile; do
	for t in 1 2 8; do
		[ "$w" = senddeep ] && [ "$t" != 1 ] && continue # the same loop, for backtrace depth
		n=$(iters "$w")
		[ "$t" = 8 ] && n=$((n / 4 > 0 ? n / 4 : 1))
		declare -A res=()
		for r in $(seq "$REPS"); do
			for m in $modes; do # interleaved: drift hits every mode alike
				res[$m]+="$(run_mode "$m" "$w" "$t" "$n") "
			done
		done
		u=$(tr ' ' '\n' <<<"${res[untraced]}" | median)
		d=$(tr ' ' '\n' <<<"${res[dormant]}" | median)
		tr=$(tr ' ' '\n' <<<"${res[traced]}" | median)
		f=$([ -n "${res[full]:-}" ] && tr ' ' '\n' <<<"${res[full]}" | median || echo n/a)
		s=$([ "$have_strace" = 1 ] && tr ' ' '\n' <<<"${res[strace]}" | median || echo n/a)
		awk -v w="$w" -v t="$t" -v u="$u" -v d="$d" -v tr="$tr" -v f="$f" -v s="$s" 'BEGIN {
			printf "%-9s %3d %10.0f %10.0f %10.0f %10s %10s %8.3f %9.2f %9s %10.0f\n", w, t,
				u, d, tr, f, (s == "n/a" ? s : sprintf("%.0f", s)), d / u, tr / u,
				(s == "n/a" ? s : sprintf("%.1f", s / tr)), tr - u }'
		unset res
	done
done

echo
echo "user-space instructions per call ($counter), 1 thread"
count_ir() { # env... -- workload n
	if [ "$counter" = perf ]; then
		env "$@" perf stat -x, -e instructions:u "$BENCH" "$w" 1 "$n" 2>&1 >/dev/null |
			awk -F, '/instructions/ {print $1}'
	else
		env "$@" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BENCH" "$w" 1 "$n" 2>&1 |
			sed -n 's/.*refs: *//p' | tr -d ,
	fi
}
if [ "$counter" != none ]; then
	printf '%-9s %14s %14s %14s %12s %12s\n' workload untraced dormant traced dormant+ traced+
	for w in send sendto sendmsg write writev devnull; do
		n=2000
		a=$(count_ir X=1)
		b=$(count_ir SENDTRACE_OUTPUT="$TMP/ir.jsonl" LD_PRELOAD="$LIB")
		c=$(count_ir SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT="$TMP/ir.jsonl" LD_PRELOAD="$LIB")
		b2=$(n=4000 count_ir SENDTRACE_OUTPUT="$TMP/ir.jsonl" LD_PRELOAD="$LIB")
		c2=$(n=4000 count_ir SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT="$TMP/ir.jsonl" LD_PRELOAD="$LIB")
		a2=$(n=4000 count_ir X=1)
		# The difference of two lengths cancels start-up costs.
		awk -v w="$w" -v a="$a" -v b="$b" -v c="$c" -v a2="$a2" -v b2="$b2" -v c2="$c2" -v n=2000 'BEGIN {
			printf "%-9s %14.0f %14.0f %14.0f %12.0f %12.0f\n", w, (a2 - a) / n, (c2 - c) / n,
				(b2 - b) / n, ((c2 - c) - (a2 - a)) / n, ((b2 - b) - (a2 - a)) / n }'
		rm -f "$TMP/ir.jsonl"
	done
fi

echo
filter_bench

echo
complete_bench

# System calls: strace -c counts them exactly. Two lengths, traced and untraced:
# (traced(2n) - traced(n)) - (untraced(2n) - untraced(n)), over n, is what the
# tracer adds per call in steady state; start-up costs cancel out.
if command -v strace >/dev/null; then
	echo
	echo "system calls added per call in steady state (strace -c -f, 1 thread)"
	printf '%-9s %14s %14s %12s %12s\n' workload untraced traced added/call dormant+
	syscalls() { # mode workload n -> total system calls
		local env=()
		[ "$1" = traced ] && env=(SENDTRACE_OUTPUT="$TMP/sc.jsonl" LD_PRELOAD="$LIB")
		[ "$1" = dormant ] && env=(SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT="$TMP/sc.jsonl" LD_PRELOAD="$LIB")
		env "${env[@]}" strace -f -c -o "$TMP/sc.txt" "$BENCH" "$2" 1 "$3" >/dev/null 2>&1
		awk '$NF == "total" {print $4 + 0; t=1} END {if (!t) print 0}' "$TMP/sc.txt"
		rm -f "$TMP/sc.jsonl"
	}
	for w in send sendto sendmsg write writev devnull; do
		n=2000
		u1=$(syscalls untraced $w $n) u2=$(syscalls untraced $w $((2 * n)))
		t1=$(syscalls traced $w $n) t2=$(syscalls traced $w $((2 * n)))
		d1=$(syscalls dormant $w $n) d2=$(syscalls dormant $w $((2 * n)))
		awk -v w=$w -v u1="$u1" -v u2="$u2" -v t1="$t1" -v t2="$t2" -v d1="$d1" -v d2="$d2" \
			-v n=$n 'BEGIN {
			printf "%-9s %14.2f %14.2f %12.3f %12.3f\n", w, (u2 - u1) / n, (t2 - t1) / n,
				((t2 - t1) - (u2 - u1)) / n, ((d2 - d1) - (u2 - u1)) / n }'
	done
fi

# Memory and volume: one long traced run.
EVENTS=${BENCH_EVENTS:-10000000}
echo
echo "long run: $EVENTS traced send calls on 1 thread"
/usr/bin/env SENDTRACE_OUTPUT="$TMP/long.jsonl" LD_PRELOAD="$LIB" bash -c \
	'"$0" send 1 "$1" >/dev/null & pid=$!; peak=0
	 while kill -0 $pid 2>/dev/null; do
		r=$(awk "/VmHWM/ {print \$2}" /proc/$pid/status 2>/dev/null); [ -n "$r" ] && peak=$r
		sleep 0.5
	 done; wait $pid; echo "peak RSS ${peak} kB"' "$BENCH" "$EVENTS"
echo "trace: $(grep -c '"event":"call"' "$TMP/long.jsonl") call events, $(du -h "$TMP/long.jsonl" | cut -f1)"
rm -f "$TMP/long.jsonl"
for e in 100000 1000000; do
	SENDTRACE_OUTPUT="$TMP/rss.jsonl" LD_PRELOAD="$LIB" bash -c \
		'"$0" send 1 "$1" >/dev/null & pid=$!; peak=0
		 while kill -0 $pid 2>/dev/null; do
			r=$(awk "/VmHWM/ {print \$2}" /proc/$pid/status 2>/dev/null); [ -n "$r" ] && peak=$r
			sleep 0.2
		 done; wait $pid; echo "'"$e"' events: peak RSS ${peak} kB"' "$BENCH" "$e"
	rm -f "$TMP/rss.jsonl"
done

# Second tier: real daemons, when installed.
"$(dirname "$0")/daemons.sh" "$LIB"
