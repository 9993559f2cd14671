#!/bin/sh
# test-untraceable.sh: programs that will escape the preload are named once on stderr and in the trace, and run exactly as untraced.
. "$ST_SRCDIR/tests/lib.sh"

K=$ST_BUILDDIR/tests/execkids
CC=${CC:-cc}
mkdir -m 755 "$T/b"
B=$T/b
cat >"$B/child.c" <<'C'
#include <stdio.h>
int main(int argc, char **argv) { printf("child %s\n", argc > 1 ? argv[1] : "-"); return 7; }
C
$CC -O2 -o "$B/dyn" "$B/child.c" 2>"$T/cc.err" || skip "cannot build a test program: $(cat "$T/cc.err")"
$CC -O2 -static -o "$B/static" "$B/child.c" 2>"$T/cc.err" ||
	skip "cannot link statically (libc6-dev's static libc missing?): $(cat "$T/cc.err")"
spie=1
$CC -O2 -static-pie -o "$B/spie" "$B/child.c" 2>"$T/cc.err" || spie=0

warnings() { grep -c '^sendtrace: warning:' "$1"; }

# run NAME PROG...: `sendtrace run` against the untraced run: same stdout, same status.
run() {
	n=$1
	shift
	want=$("$@" 2>/dev/null)
	wantst=$?
	got=$("$ST" run -o "$T/$n.jsonl" -- "$@" 2>"$T/$n.err")
	gotst=$?
	eq "$n: exit status as untraced" "$gotst" "$wantst"
	eq "$n: stdout as untraced" "$got" "$want"
}

# 1. `run` on the program itself.
run static "$B/static" kid
eq "run static: one warning" "$(warnings "$T/static.err")" 1
ok "run static: it says statically linked" grep -q "warning: $B/static is statically linked" "$T/static.err"
if [ $spie = 1 ]; then
	readelf -lW "$B/spie" 2>/dev/null | grep -q DYNAMIC || echo "# note: the static-pie has no PT_DYNAMIC here"
	run spie "$B/spie" kid
	eq "run static-pie: one warning" "$(warnings "$T/spie.err")" 1
	ok "run static-pie: it says static-pie (it has PT_DYNAMIC, which fooled the old check)" \
		grep -q "warning: $B/spie is a static-pie executable" "$T/spie.err"
else
	echo "# static-pie cases skipped: $CC -static-pie failed: $(head -n 1 "$T/cc.err")"
fi
run dyn "$B/dyn" kid
eq "run dynamic: no warning" "$(warnings "$T/dyn.err")" 0
printf '#!%s\n' "$B/static" >"$B/script"
chmod 755 "$B/script"
run script "$B/script"
ok "run a script: its static interpreter is named" grep -q "warning: $B/static is statically linked" "$T/script.err"

# 2. A setuid child of another user (nobody): root running it is put in secure mode.
setuid=0
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	cp "$B/dyn" "$B/suid" && chown nobody "$B/suid" && chmod 4755 "$B/suid" && setuid=1
	# A nosuid mount makes the bit inert: then the kernel does not switch users either.
	[ "$(stat -f -c %T "$B" 2>/dev/null)" != "" ] && findmnt -no OPTIONS -T "$B" 2>/dev/null |
		grep -q nosuid && setuid=0 && echo "# setuid cases skipped: $B is on a nosuid mount"
else
	echo "# setuid cases skipped: need root and the user nobody"
fi
if [ $setuid = 1 ]; then
	run runsuid "$B/suid" kid
	eq "run setuid: one warning" "$(warnings "$T/runsuid.err")" 1
	ok "run setuid: it says secure-execution mode" grep -q "warning: $B/suid runs with another effective user (set-user-ID).*secure-execution" "$T/runsuid.err"
fi

# 3. A traced program execs them: the warning once each, a start record each.
set -- fork "$B/static" fork "$B/dyn"
[ $spie = 1 ] && set -- "$@" fork "$B/spie"
[ $setuid = 1 ] && set -- "$@" fork "$B/suid"
run kids "$K" "$@"
eq "kids: one warning per untraceable child" "$(warnings "$T/kids.err")" $((1 + spie + setuid))
eq "kids: static: one warning" "$(grep -c "warning: $B/static is statically" "$T/kids.err")" 1
eq "kids: static: one start record, untraced" "$(count "$T/kids.jsonl" event=start untraced=static)" 1
eq "kids: it names the program and its argv" \
	"$(count "$T/kids.jsonl" event=start untraced=static "exe=$B/static" "argv.0=$B/static" argv.1=kid how=exec)" 1
eq "kids: the dynamic child is not said to be untraced" "$(count "$T/kids.jsonl" untraced? "exe=$B/dyn")" 0
if [ $spie = 1 ]; then
	eq "kids: static-pie: one start record" "$(count "$T/kids.jsonl" event=start untraced=static-pie)" 1
fi
if [ $setuid = 1 ]; then
	eq "kids: setuid: one start record" "$(count "$T/kids.jsonl" event=start untraced=setuid)" 1
	ok "kids: setuid: one warning" grep -q "warning: $B/suid runs with another effective user" "$T/kids.err"
fi
"$ST" show "$T/kids.jsonl" >"$T/kids.show" 2>&1
ok "show prints why" grep -q "+++ start $B/static argv=\[\"$B/static\",\"kid\"\] ppid=[0-9]* (exec) UNTRACED: statically linked +++" "$T/kids.show"
ok "the trace is strict JSON Lines (no open room left)" python3 -c '
import json, sys
for line in open(sys.argv[1]):
    json.loads(line)' "$T/kids.jsonl"

# 4. The same child over and over (a shell loop): said once, recorded each time.
run loop "$K" fork "$B/static" fork "$B/static" vfork "$B/static" fork "$B/static"
eq "loop: one warning for four execs" "$(warnings "$T/loop.err")" 1
eq "loop: a start record per forked exec (the vfork child writes none)" \
	"$(count "$T/loop.jsonl" event=start untraced=static)" 3

# 5. vfork: the child runs on its parent's memory; warned all the same, behaviour unchanged.
run vfork "$K" vfork "$B/static" vfork "$B/dyn"
eq "vfork: one warning" "$(warnings "$T/vfork.err")" 1

# 6. A new environment without LD_PRELOAD.
run noenv "$K" noenv "$B/dyn"
eq "noenv: one warning" "$(warnings "$T/noenv.err")" 1
ok "noenv: it says LD_PRELOAD is missing" grep -q "warning: $B/dyn is run with an environment that has no LD_PRELOAD" "$T/noenv.err"
eq "noenv: one start record" "$(count "$T/noenv.jsonl" event=start untraced=no-preload)" 1

# 7. execvp: found in PATH as the real call finds it; errno of failures left alone.
PATH=$B:$PATH run path "$K" path static path dyn
eq "path: execvp's target found and named" "$(grep -c "warning: $B/static is statically" "$T/path.err")" 1
cp "$B/static" "$B/noexec" && chmod 644 "$B/noexec"
run fail "$K" fail "$B/missing" fail "$B/noexec" fail "$B"
eq "fail: errno left by the failed execs, as untraced" "$("$ST" run -o "$T/fail2.jsonl" -- "$K" fail "$B/missing" fail "$B/noexec" 2>/dev/null)" \
	"fail $B/missing: ENOENT
fail $B/noexec: EACCES"
eq "fail: nothing said of what does not start" "$(warnings "$T/fail.err")" 0

# 8. File capabilities, run by a user who is not root: secure mode.
if ! command -v setcap >/dev/null; then
	echo "# capability cases skipped: setcap is not installed (apt-get install libcap2-bin)"
elif [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1 || ! command -v setpriv >/dev/null; then
	echo "# capability cases skipped: need root, setpriv and the user nobody"
else
	cp "$B/dyn" "$B/caps"
	if ! setcap cap_net_raw+ep "$B/caps" 2>"$T/setcap.err"; then
		echo "# capability cases skipped: setcap failed: $(cat "$T/setcap.err")"
	else
		chmod 711 "$T" # nobody runs $B/caps
		nogroup=$(id -gn nobody)
		asnobody() { setpriv --reuid=nobody --regid="$nogroup" --clear-groups "$@"; }
		if ! asnobody test -x "$ST"; then
			echo "# capability cases skipped: nobody cannot reach the build directory $ST_BUILDDIR"
		else
			mkdir -m 1777 "$T/o"
			want=$(asnobody "$B/caps" kid 2>/dev/null)
			got=$(asnobody "$ST" run -o "$T/o/caps.jsonl" -- "$B/caps" kid 2>"$T/caps.err")
			eq "caps: stdout as untraced" "$got" "$want"
			eq "caps: one warning" "$(warnings "$T/caps.err")" 1
			ok "caps: it says file capabilities" grep -q "warning: $B/caps has file capabilities and the user is not root" "$T/caps.err"
			asnobody "$ST" run -o "$T/o/capkids.jsonl" -- "$K" fork "$B/caps" >/dev/null 2>"$T/capkids.err"
			eq "caps: exec'd by a traced program: one warning" "$(warnings "$T/capkids.err")" 1
			eq "caps: one start record" "$(count "$T/o/capkids.jsonl" event=start untraced=capabilities)" 1
			"$ST" run -o "$T/caproot.jsonl" -- "$B/caps" kid >/dev/null 2>"$T/caproot.err"
			eq "caps: run by root: no warning (no secure mode)" "$(warnings "$T/caproot.err")" 0
		fi
	fi
fi

# 9. Go: a static one (CGO_ENABLED=0) and a dynamic one (cgo).
if ! command -v go >/dev/null; then
	echo "# Go cases skipped: go is not installed (apt-get install golang-go)"
else
	G=$T/go
	mkdir -p "$G"
	cat >"$G/main.go" <<'GO'
package main

import (
	"fmt"
	"net"
)

func main() {
	c, err := net.Dial("udp", "127.0.0.1:9")
	if err == nil {
		c.Write([]byte("hi"))
	}
	fmt.Println("go sent")
}
GO
	printf 'module st\n\ngo 1.13\n' >"$G/go.mod"
	export GOCACHE="$G/cache" GOPATH="$G/path" HOME="$G" GOFLAGS=-mod=mod GOTOOLCHAIN=local
	(cd "$G" && CGO_ENABLED=0 go build -o gostatic . && CGO_ENABLED=1 go build -o godyn .) \
		>"$T/go.err" 2>&1
	if [ ! -x "$G/gostatic" ] || [ ! -x "$G/godyn" ]; then
		echo "# Go cases skipped: go build failed: $(tail -n 3 "$T/go.err")"
	else
		run gostatic "$G/gostatic"
		eq "go static: one warning" "$(warnings "$T/gostatic.err")" 1
		ok "go static: statically linked, a Go program" grep -q "warning: $G/gostatic is statically linked.*(a Go program)" "$T/gostatic.err"
		if readelf -lW "$G/godyn" | grep -q INTERP; then
			run godyn "$G/godyn"
			eq "go dynamic: one warning" "$(warnings "$T/godyn.err")" 1
			ok "go dynamic: Go, and --complete" grep -q "warning: this is a Go program.*--complete" "$T/godyn.err"
			eq "go dynamic: its start record says go" "$(count "$T/godyn.jsonl" event=start go=true "exe=$G/godyn")" 1
			SENDTRACE_COMPLETE=1 "$ST" run -o "$T/gocomplete.jsonl" -- "$G/godyn" >/dev/null 2>"$T/gocomplete.err"
			ok "go dynamic, complete mode asked: the Go warning is not given" \
				sh -c "! grep -q 'this is a Go program' '$T/gocomplete.err'"
		else
			echo "# dynamic Go case skipped: go build made a static binary without cgo"
		fi
	fi
fi
finish
