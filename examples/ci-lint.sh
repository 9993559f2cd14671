#!/bin/sh
# ci-lint.sh: a CI job: run a program's tests under sendtrace, fail on lint errors, leave SARIF for code scanning.
#
# usage: ci-lint.sh [-o DIR] [-l LEVEL] [-k N] [--full] [--] COMMAND [ARGS...]
#
# Runs COMMAND (a test suite, say `make check` or `pytest`) under
# `sendtrace run`, which traces it and every process it starts, then lints
# the trace. It writes into DIR (default ./sendtrace-ci):
#
#   trace.jsonl     the trace
#   lint.txt        the findings, for people (also printed)
#   sendtrace.sarif the findings as SARIF 2.1.0, for code scanning
#                   (GitHub: upload it with github/codeql-action/upload-sarif)
#
#   -o DIR      where the files go
#   -l LEVEL    fail on findings at or above LEVEL: error (default), warning,
#               info, or never
#   -k N        backtrace frames per call (default 8; 0 for none): results
#               then point at the first frame with a source line, even when
#               the send is made inside a library
#   --full      record every call, not only those with findings
#               (--only-lint): the whole-trace rules of `sendtrace lint`
#               look at what a program does over time, and need it all
#
# Exit status: COMMAND's own when it failed (the tests come first); else 1
# when lint found something at or above LEVEL, 2 when the trace could not
# be read, 0 otherwise. Source lines come from addr2line (binutils) and the
# programs' debug info: build the tests with -g for file:line results.
# The sendtrace command is $SENDTRACE, or `sendtrace` on the PATH.
set -u

dir=sendtrace-ci
level=error
frames=8
only=--only-lint
st=${SENDTRACE:-sendtrace}

usage() {
	sed -n 's/^# \{0,1\}//; 4p' "$0" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	-o) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
	-l) [ $# -ge 2 ] || usage; level=$2; shift 2 ;;
	-k) [ $# -ge 2 ] || usage; frames=$2; shift 2 ;;
	--full) only=; shift ;;
	--) shift; break ;;
	-*) echo "ci-lint.sh: unknown option '$1'" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || usage
case $level in
error | warning | info | never) ;;
*) echo "ci-lint.sh: -l takes error, warning, info or never, not '$level'" >&2; exit 2 ;;
esac
case $frames in
'' | *[!0-9]*) echo "ci-lint.sh: -k takes a number of frames, not '$frames'" >&2; exit 2 ;;
esac

mkdir -p "$dir" || exit 2
trace=$dir/trace.jsonl
bt=
[ "$frames" -gt 0 ] && bt=--backtrace=$frames

# shellcheck disable=SC2086 # $only and $bt are one word or none
"$st" run -o "$trace" $only $bt -- "$@"
status=$?
# A run whose processes never sent anything leaves no file: nothing to find.
[ -e "$trace" ] || : >"$trace"

"$st" lint --format=sarif --fail-on=never "$trace" >"$dir/sendtrace.sarif"
sarif=$?
"$st" lint --fail-on="$level" "$trace" >"$dir/lint.txt"
lint=$?
cat "$dir/lint.txt"
echo "ci-lint.sh: SARIF in $dir/sendtrace.sarif" >&2

if [ "$status" -ne 0 ]; then
	echo "ci-lint.sh: the command failed (exit $status)" >&2
	exit "$status"
fi
if [ "$sarif" -ne 0 ] || [ "$lint" -eq 2 ]; then
	echo "ci-lint.sh: the trace could not be read whole" >&2
	exit 2
fi
if [ "$lint" -ne 0 ]; then
	echo "ci-lint.sh: findings at or above '$level'" >&2
	exit 1
fi
exit 0
