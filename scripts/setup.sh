#!/bin/sh
# setup.sh: installs what a fresh Debian 12 lacks to build sendtrace, then builds it in place.
set -eu
cd "$(dirname "$0")/.."

# Build tools and libraries; python3, binutils and strace are for the test suite.
pkgs="build-essential autoconf automake libtool pkg-config libjansson-dev libunwind-dev
python3 binutils strace"
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
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure --quiet
make -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
echo "setup.sh: built ./cli/sendtrace and ./lib/.libs/libsendtrace.so" >&2
