#!/bin/sh
# setup.sh: installs what a fresh Debian 12 lacks to build sendtrace, then builds it in place.
set -eu
cd "$(dirname "$0")/.."

# Quiet unless something fails: then the step's whole output, and its status.
log=$(mktemp "${TMPDIR:-/tmp}/sendtrace-setup.XXXXXX")
trap 'rm -f "$log"' EXIT
quiet() { # quiet WHAT COMMAND...
	what=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		cat "$log" >&2
		echo "setup.sh: $what failed" >&2
		exit 1
	fi
}

# Build tools and libraries; python3, binutils, strace and libcap2-bin (setcap) are for the test suite.
pkgs="build-essential autoconf automake libtool pkg-config libjansson-dev libunwind-dev
python3 binutils strace libcap2-bin"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup.sh: missing packages:$missing; run as root or install them" >&2
		exit 2
	fi
	echo "setup.sh: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	quiet "apt-get update" apt-get update -qq
	# shellcheck disable=SC2086
	quiet "apt-get install" apt-get install -y -qq --no-install-recommends $missing
fi

[ -x configure ] || quiet autoreconf autoreconf -fi
[ -f Makefile ] || quiet configure ./configure --quiet
quiet make make -j"$(nproc 2>/dev/null || echo 2)"
echo "setup.sh: built ./cli/sendtrace and ./lib/.libs/libsendtrace.so" >&2
