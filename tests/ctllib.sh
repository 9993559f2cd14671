# ctllib.sh: helpers of the ctl tests (sourced after lib.sh): waiting, pid files, warnings, live counts.
H=$ST_BUILDDIR/tests/ctlhostile
LIB=$ST_TEST_LIB
export SENDTRACE_CTL_DIR=$T/ctl
mkdir -m 700 "$T/ctl"
unset SENDTRACE_ENABLE SENDTRACE_CTL SENDTRACE_OUTPUT

wait_for() { # wait_for COMMAND...: up to 10 s
	i=0
	while ! "$@" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 200 ] && return 1
		sleep 0.05
	done
}

# pid_of FILE [N]: the N-th (1, 2) pid of a pid file, once it is there.
pid_of() {
	wait_for test -s "$1" || return 1
	cut -d' ' -f"${2:-1}" <"$1"
}

# warnings FILE: how many lines of the library's a stderr holds.
warnings() { grep -c '^sendtrace: ' "$1"; }

# live FILE CONDITIONS...: events of a trace still being written (evq, skipping events being copied).
live() {
	[ -e "$1" ] || { echo 0; return; }
	EVQ_LIVE=1 "$EVQ" "$@" 2>>"$T/evq.err" || echo unparsed
}

# page_ino PID: the inode of the control page PID maps (empty if none).
page_ino() { awk '$6 ~ /\/sendtrace-ctl\.[0-9]+$/ { print $5; exit }' "/proc/$1/maps" 2>/dev/null; }

# ends PID: the process is gone within 20 s (no deadlock), else it is killed.
ends() {
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 400 ]; then
			kill -9 "$1"
			return 1
		fi
		sleep 0.05
	done
}
