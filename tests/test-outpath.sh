#!/bin/sh
# test-outpath.sh: trace outputs that are not regular files (devices, FIFOs, symlinks, directories) are refused, never replaced or written.
. "$ST_SRCDIR/tests/lib.sh"
EX=$ST_BUILDDIR/examples/echo-pair

plain=$("$EX" 2>/dev/null)
plainst=$?

# ---- sendtrace run -o PATH: only a regular file or a path that does not exist ----
# `run` replaces the output file. Run as root with -o /dev/null, replacing
# means unlinking a device node the whole machine depends on.

# runo NAME PATH: run -o PATH on the example; status in $st, stderr in $T/NAME.err.
runo() {
	"$ST" run -o "$2" -- "$EX" >"$T/$1.out" 2>"$T/$1.err"
	st=$?
}

# refused NAME PATH: the error names the path, and no program ran ("traced to"
# is what run says after a run).
refused() {
	grep -q "$2" "$T/$1.err" && ! grep -q "traced to" "$T/$1.err" && [ ! -s "$T/$1.out" ]
}

if [ "$(id -u)" = 0 ]; then
	# A private character device (the same 1:3 as /dev/null), so that a
	# CLI that unlinks it does no harm.
	mknod -m 666 "$T/null" c 1 3
	runo chr "$T/null"
	eq "run -o CHARDEV: exit status 2" "$st" "2"
	ok "run -o CHARDEV: an error naming the path, the program not run" refused chr "$T/null"
	ok "run -o CHARDEV: still a character device" test -c "$T/null"

	# The real /dev/null only when the private node survived: with the bug,
	# this would delete /dev/null (and it is put back at once if so).
	if [ "$st" = 2 ] && [ -c "$T/null" ]; then
		"$ST" run -o /dev/null -- "$EX" >/dev/null 2>"$T/devnull.err"
		st=$?
		if [ ! -c /dev/null ]; then
			rm -f /dev/null
			mknod -m 666 /dev/null c 1 3
			echo "# /dev/null was replaced by run -o and has been recreated"
			st="$st (and /dev/null was deleted)"
		fi
		eq "run -o /dev/null: exit status 2" "$st" "2"
		ok "run -o /dev/null: the error names it" grep -q "/dev/null" "$T/devnull.err"
		ok "run -o /dev/null: still a character device" test -c /dev/null
	else
		eq "run -o /dev/null: not tried, the private device was not refused" "tried" "refused"
	fi
else
	echo "# character devices: skipped (mknod needs root)"
fi

# A symlink, to a file with contents: refused, the link and its target untouched.
printf 'keep me\n' >"$T/target"
ln -s "$T/target" "$T/link"
runo link "$T/link"
eq "run -o SYMLINK: exit status 2" "$st" "2"
ok "run -o SYMLINK: an error naming the path, the program not run" refused link "$T/link"
ok "run -o SYMLINK: still a symlink" test -L "$T/link"
eq "run -o SYMLINK: the target untouched" "$(cat "$T/target")" "keep me"

# A dangling symlink: refused, and nothing is created where it points.
ln -s "$T/nowhere" "$T/dangling"
runo dangling "$T/dangling"
eq "run -o DANGLING SYMLINK: exit status 2" "$st" "2"
ok "run -o DANGLING SYMLINK: an error naming the path, the program not run" refused dangling "$T/dangling"
ok "run -o DANGLING SYMLINK: still a symlink" test -L "$T/dangling"
ok "run -o DANGLING SYMLINK: nothing created at its target" test ! -e "$T/nowhere"

# A FIFO.
mkfifo "$T/fifo"
runo fifo "$T/fifo"
eq "run -o FIFO: exit status 2" "$st" "2"
ok "run -o FIFO: an error naming the path, the program not run" refused fifo "$T/fifo"
ok "run -o FIFO: still a FIFO" test -p "$T/fifo"

# A directory, with something in it.
mkdir "$T/dir"
: >"$T/dir/inside"
runo dir "$T/dir"
eq "run -o DIRECTORY: exit status 2" "$st" "2"
ok "run -o DIRECTORY: an error naming the path, the program not run" refused dir "$T/dir"
ok "run -o DIRECTORY: still a directory with its file" test -f "$T/dir/inside"

# What is allowed: a path that does not exist, and an existing regular file:
# the trace of an earlier run (replaced, not appended to) or an empty file.
# (Whether any other regular file may be replaced is the CLI's choice.)
runo new "$T/new.jsonl"
eq "run -o NEW PATH: exit status 0" "$st" "0"
eq "run -o NEW PATH: the program's output" "$(cat "$T/new.out")" "$plain"
eq "run -o NEW PATH: six call events in it" "$(count "$T/new.jsonl" event=call)" "6"
runo again "$T/new.jsonl"
eq "run -o EARLIER TRACE: exit status 0" "$st" "0"
eq "run -o EARLIER TRACE: replaced, six call events in it" "$(count "$T/new.jsonl" event=call)" "6"
ok "run -o EARLIER TRACE: still a regular file" test -f "$T/new.jsonl" -a ! -L "$T/new.jsonl"
: >"$T/empty.jsonl"
runo empty "$T/empty.jsonl"
eq "run -o EMPTY FILE: exit status 0" "$st" "0"
eq "run -o EMPTY FILE: six call events in it" "$(count "$T/empty.jsonl" event=call)" "6"

# ---- the library: SENDTRACE_OUTPUT that is not a regular file ----
# traced NAME PATH: the example with the library writing to PATH; checks that
# the program's exit status and stdout are as untraced.
traced() {
	out=$(SENDTRACE_OUTPUT=$2 LD_PRELOAD=$ST_TEST_LIB timeout 10 "$EX" 2>"$T/$1.err")
	st=$?
	eq "$1: exit status as untraced" "$st" "$plainst"
	eq "$1: stdout as untraced" "$out" "$plain"
}

if [ "$(id -u)" = 0 ]; then
	mknod -m 666 "$T/null2" c 1 3
	traced "SENDTRACE_OUTPUT=CHARDEV" "$T/null2"
	ok "SENDTRACE_OUTPUT=CHARDEV: still a character device" test -c "$T/null2"
fi

# A terminal: the only character device that shows what was written to it.
# python3 holds the master side and counts every byte that reaches it while
# the traced program runs with the slave as its trace file.
if command -v python3 >/dev/null; then
	got=$(python3 - "$EX" "$ST_TEST_LIB" <<'EOF'
import os, pty, select, subprocess, sys, tty
master, slave = pty.openpty()
tty.setraw(slave)
path = os.ttyname(slave)
env = dict(os.environ, SENDTRACE_OUTPUT=path, LD_PRELOAD=sys.argv[2])
p = subprocess.Popen([sys.argv[1]], env=env, stdin=subprocess.DEVNULL,
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
got = 0
def drain(timeout):
    global got
    while select.select([master], [], [], timeout)[0]:
        try:
            got += len(os.read(master, 65536))
        except OSError:
            break
while p.poll() is None:
    drain(0.05)
try:
    p.wait(timeout=10)
except subprocess.TimeoutExpired:
    p.kill()
drain(0.3)
out = p.stdout.read().decode()
print(p.returncode, got, out.count("echo-pair: done"))
EOF
)
	eq "SENDTRACE_OUTPUT=TTY: exit 0, no byte reached the terminal, output intact" "$got" "0 0 1"
else
	echo "# terminal: skipped (no python3)"
fi

# A FIFO with a reader: the reader receives nothing. A reader still waiting
# for a writer is then released by an open of our own, read-write so that it
# never blocks (if the library opened and closed the FIFO, the reader is gone).
mkfifo "$T/rfifo"
cat "$T/rfifo" >"$T/rfifo.got" &
reader=$!
traced "SENDTRACE_OUTPUT=FIFO with a reader" "$T/rfifo"
: 1<>"$T/rfifo"
wait $reader
eq "SENDTRACE_OUTPUT=FIFO with a reader: the reader received 0 bytes" "$(wc -c <"$T/rfifo.got")" "0"
ok "SENDTRACE_OUTPUT=FIFO with a reader: still a FIFO" test -p "$T/rfifo"

# A FIFO nobody reads: the program must not block on it (timeout 10 above gives 124).
mkfifo "$T/nfifo"
traced "SENDTRACE_OUTPUT=FIFO without a reader" "$T/nfifo"
ok "SENDTRACE_OUTPUT=FIFO without a reader: still a FIFO" test -p "$T/nfifo"

# A directory.
mkdir "$T/odir"
traced "SENDTRACE_OUTPUT=DIRECTORY" "$T/odir"
eq "SENDTRACE_OUTPUT=DIRECTORY: nothing created in it" "$(ls -A "$T/odir")" ""
finish
