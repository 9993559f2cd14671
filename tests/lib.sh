# lib.sh: shared helpers for the shell tests (sourced): assertions, temp dirs, tool paths.
set -u
ST=$ST_BUILDDIR/cli/sendtrace
EVQ=$ST_BUILDDIR/tests/evq
T=$(mktemp -d "${TMPDIR:-/tmp}/st-sh.XXXXXX")
trap 'rm -rf "$T"' EXIT
passed=0
failed=0

ok() { # ok DESCRIPTION COMMAND...
	desc=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "ok - $desc"
	else
		failed=$((failed + 1))
		echo "FAIL - $desc"
	fi
}

# eq DESCRIPTION GOT WANT
eq() {
	if [ "$2" = "$3" ]; then
		passed=$((passed + 1))
		echo "ok - $1"
	else
		failed=$((failed + 1))
		echo "FAIL - $1: got '$2', want '$3'"
	fi
}

# count FILE CONDITIONS...: events that match every condition
count() { "$EVQ" "$@"; }

skip() {
	echo "SKIP: $*"
	exit 77
}

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
