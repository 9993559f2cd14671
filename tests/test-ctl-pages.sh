#!/bin/sh
# test-ctl-pages.sh: whatever lies where a control page goes never harms the program nor is written; ctl refuses what is not a page.
. "$ST_SRCDIR/tests/lib.sh"
. "$ST_SRCDIR/tests/ctllib.sh"
EX=$ST_BUILDDIR/examples/echo-pair
D=$T/ctl
plain=$("$EX" 2>&1)

# start NAME PREP ENV...: `ctlhostile loop` dormant under the preload, after the
# shell commands PREP, run by the very process that becomes the program ($$ in
# PREP is its pid, /proc/$$/stat its start time).
start() {
	name=$1 prep=$2
	shift 2
	sh -c "$prep
exec env LD_PRELOAD='$LIB' SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT='$T/$name.jsonl' $* '$H' loop '$T/$name.stop' '$T/$name.pid'" \
		>"$T/$name.out" 2>"$T/$name.err" &
	P=$(pid_of "$T/$name.pid")
}
stop() { touch "$T/$1.stop"; wait; }
START='st=$(cut -d" " -f22 /proc/$$/stat)'

# 1. pid reuse: the page an ended process left under this pid (another start
# time, switched on, with counts) is not trusted: the program starts dormant,
# counts from 0.
start reuse "'$H' mkpage '$D/sendtrace-ctl.'\$\$ \$\$ 1 1"
"$ST" ctl "$P" >"$T/reuse.st" 2>&1
ok "pid reuse: the stale page is not trusted (off, 0 events, its own name)" \
	grep -q "^$P ctlhostile: off, events 0," "$T/reuse.st"
ok "pid reuse: no trace file (the stale switch said on)" test ! -e "$T/reuse.jsonl"
stop reuse

# 2. A symlink by the page's name: its target is never written; the program gets a page.
printf 'precious\n' >"$T/victim"
start symlink "ln -s '$T/victim' '$D/sendtrace-ctl.'\$\$"
ok "symlink: the program has a page of its own (ctl reaches it)" sh -c "'$ST' ctl $P | grep -q '^$P ctlhostile: off'"
eq "symlink: its target is untouched" "$(cat "$T/victim")" "precious"
ok "symlink: the link is gone, a regular file in its place" test -f "$D/sendtrace-ctl.$P" -a ! -L "$D/sendtrace-ctl.$P"
stop symlink

# 3. A hard link of a page (right pid and start time, switched on): the
# other name's file is never written; the program gets a page of its own.
start hardlink "$START
'$H' mkpage '$D/sendtrace-ctl.'\$\$ \$\$ \$st 1 && ln '$D/sendtrace-ctl.'\$\$ '$T/hardlink.other'
cp '$T/hardlink.other' '$T/hardlink.orig'"
ok "hard link: the program has a page (ctl reaches it)" sh -c "'$ST' ctl $P | grep -q '^$P ctlhostile: off'"
ok "hard link: the other name's file is unchanged" cmp -s "$T/hardlink.other" "$T/hardlink.orig"
stop hardlink

# 4. A page too small (its first 100 bytes, the rest cut): not grown, not kept.
start small "$START
'$H' mkpage '$D/sendtrace-ctl.'\$\$ \$\$ \$st 1 && truncate -s 100 '$D/sendtrace-ctl.'\$\$"
ok "too small: the program has a whole page, dormant as it was loaded" \
	sh -c "'$ST' ctl $P | grep -q '^$P ctlhostile: off, events 0'"
stop small

# 5. Another user's file by that name (only root can put one there).
if [ "$(id -u)" = 0 ]; then
	start foreign "$START
'$H' mkpage '$D/sendtrace-ctl.'\$\$ \$\$ \$st 1 && chown 65534:65534 '$D/sendtrace-ctl.'\$\$"
	ok "another user's file: the program has a page of its own" \
		sh -c "'$ST' ctl $P | grep -q '^$P ctlhostile: off, events 0'"
	eq "another user's file: the page is the program's user's" "$(stat -c %u "$D/sendtrace-ctl.$P")" 0
	stop foreign
fi

# 6. A directory by that name: no page, the program unharmed; one warning
# when that leaves it dormant for good, none when it records.
for en in 0 1; do
	out=$(sh -c "mkdir '$D/sendtrace-ctl.'\$\$; exec env LD_PRELOAD='$LIB' SENDTRACE_ENABLE=$en SENDTRACE_OUTPUT='$T/dir$en.jsonl' '$EX'" 2>"$T/dir$en.err")
	eq "a directory in the way, SENDTRACE_ENABLE=$en: status" "$?" 0
	eq "a directory in the way, SENDTRACE_ENABLE=$en: stdout as untraced" "$out" "$plain"
	eq "a directory in the way, SENDTRACE_ENABLE=$en: warnings" "$(warnings "$T/dir$en.err")" $((1 - en))
done
ok "a directory in the way, recording: still traced" test -s "$T/dir1.jsonl"
rmdir "$D"/sendtrace-ctl.*

# 7. ctl refuses a file named as a page that is not one: junk, too small, two links.
for kind in junk small nlink; do
	"$H" mapfake "$D" $kind "$T/fake-$kind.stop" "$T/fake-$kind.pid" &
	F=$(pid_of "$T/fake-$kind.pid")
	cp "$D/sendtrace-ctl.$F" "$T/fake-$kind.before"
	"$ST" ctl "$F" on >"$T/fake-$kind.out" 2>"$T/fake-$kind.err"
	eq "ctl: a $kind file is refused (status 2)" "$?" 2
	ok "ctl: a $kind file: says it is not a control page" grep -q "is not .*control page" "$T/fake-$kind.err"
	ok "ctl: a $kind file is not written" cmp -s "$D/sendtrace-ctl.$F" "$T/fake-$kind.before"
	touch "$T/fake-$kind.stop"
	wait
	rm -f "$D/sendtrace-ctl.$F" "$D.other"
done

# 8. A program whose name is not UTF-8 (the page's comm): --json still
# prints valid JSON, escaped as show prints names.
odd=$T/$(printf 'x\377y')
cp "$H" "$odd"
env LD_PRELOAD="$LIB" SENDTRACE_ENABLE=0 "$odd" loop "$T/odd.stop" "$T/odd.pid" 2>/dev/null &
P=$(pid_of "$T/odd.pid")
"$ST" ctl --json "$P" >"$T/odd.json" 2>&1
ok "a name not UTF-8: --json prints it escaped" grep -qF '"comm":"x\\xffy","on":false' "$T/odd.json"
touch "$T/odd.stop"
wait

# 9. A full file system (a small tmpfs): a write to a mapped hole there is
# SIGBUS. Dormant or recording, the program runs as untraced, one warning.
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	cat >"$T/full.sh" <<EOS
mkdir -p '$T/full' && mount -t tmpfs -o size=64k tmpfs '$T/full' || exit 77
mkdir -m 700 '$T/full/ctl'
dd if=/dev/zero of='$T/full/fill' bs=4k count=64 2>/dev/null
for en in 0 1; do
	out=\$(SENDTRACE_CTL_DIR='$T/full/ctl' SENDTRACE_ENABLE=\$en SENDTRACE_OUTPUT='$T/full.jsonl' LD_PRELOAD='$LIB' '$EX' 2>'$T/full'\$en.err)
	echo "\$en status \$?"
	[ "\$out" = "\$(cat '$T/plain.out')" ] && echo "\$en stdout same"
	echo "\$en warnings \$(grep -c '^sendtrace: ' '$T/full'\$en.err)"
	grep -q ENOSPC '$T/full'\$en.err && echo "\$en says ENOSPC"
done
EOS
	printf '%s\n' "$plain" >"$T/plain.out"
	unshare -m sh "$T/full.sh" >"$T/full.out" 2>&1
	if [ $? = 77 ]; then
		echo "# cannot mount a tmpfs: the full file system is not tested"
	else
		for en in 0 1; do
			ok "full file system, SENDTRACE_ENABLE=$en: no SIGBUS, status 0" grep -qx "$en status 0" "$T/full.out"
			ok "full file system, SENDTRACE_ENABLE=$en: stdout as untraced" grep -qx "$en stdout same" "$T/full.out"
		done
		ok "full file system, dormant: one warning" grep -qx "0 warnings 1" "$T/full.out"
		ok "full file system, dormant: it says why" grep -qx "0 says ENOSPC" "$T/full.out"
		ok "full file system, recording: no warning (its trace is elsewhere)" grep -qx "1 warnings 0" "$T/full.out"
		ok "full file system, recording: traced" test -s "$T/full.jsonl"
	fi
else
	echo "# not root, or no mount namespace: the full file system is not tested"
fi
finish
