#!/bin/sh
# test-fields.sh: every field the library writes, at any depth, is documented in docs/events.md.
. "$ST_SRCDIR/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed (apt-get install python3)"

# Traces with every option on, from real programs and from the traced
# tests' workloads (run as the child they re-execute).
opts="SENDTRACE_PAYLOAD=16 SENDTRACE_BACKTRACE=2 SENDTRACE_CALLS=all,lifecycle"
"$ST" run -s 16 -k 2 -e all,lifecycle -o "$T/py.jsonl" -- \
	python3 "$ST_SRCDIR/tests/sendtrace-demo.py" >/dev/null 2>&1
eq "run -k 2 (a separate number) traces python3" "$?" "0"
"$ST" run -s 16 -k2 -e all,lifecycle -o "$T/ex.jsonl" -- "$ST_BUILDDIR/examples/echo-pair" \
	>/dev/null 2>&1
eq "run -k2 traces the example" "$?" "0"
ok "with 2 frames per event" [ "$(count "$T/ex.jsonl" event=call bt.1.ip? )" -gt 0 ]
for t in t-send t-msghdr t-sendmmsg t-sendfile t-lint t-errors t-mmsgbig t-sockopt; do
	# shellcheck disable=SC2086
	env TH_CHILD=1 $opts SENDTRACE_OUTPUT="$T/$t.jsonl" LD_PRELOAD="$ST_TEST_LIB" \
		"$ST_BUILDDIR/tests/$t" >/dev/null 2>&1
done
# Complete mode: the start record's "complete", and "via" on raw sends (t-complete's raw part).
env TH_CHILD=1 TC_PART=raw TH_RESULTS="$T/complete.res" SENDTRACE_COMPLETE=1 \
	SENDTRACE_OUTPUT="$T/complete.jsonl" LD_PRELOAD="$ST_TEST_LIB" \
	"$ST_BUILDDIR/tests/t-complete" >/dev/null 2>&1
ok "complete mode wrote a raw send with via" [ "$(count "$T/complete.jsonl" event=call via=syscall)" -gt 0 ]
# A start record cut to fit: argv of 3,000 bytes of \x01.
long=$(head -c 3000 /dev/zero | tr '\0' '\001')
SENDTRACE_PROCS=all SENDTRACE_OUTPUT=$T/long.jsonl LD_PRELOAD=$ST_TEST_LIB /bin/true "$long"
# A start record written for an image that runs untraced (its environment lost LD_PRELOAD).
LD_PRELOAD=$ST_TEST_LIB SENDTRACE_OUTPUT=$T/untraced.jsonl "$ST_BUILDDIR/tests/execkids" \
	noenv /bin/true >/dev/null 2>&1
ok "an untraced exec's start record" [ "$(count "$T/untraced.jsonl" event=start untraced=no-preload)" -eq 1 ]
# A process that reached the size cap: its exit record counts what was capped.
SENDTRACE_MAX_SIZE=64k SENDTRACE_OUTPUT=$T/capped.jsonl LD_PRELOAD=$ST_TEST_LIB \
	"$ST_BUILDDIR/tests/rotsend" 1 1 1000 2>/dev/null
ok "a capped process's exit record" [ "$(count "$T/capped.jsonl" event=exit capped?)" -eq 1 ]

python3 - "$ST_SRCDIR/docs/events.md" "$T"/*.jsonl >"$T/report" <<'PY'
import json, sys
doc = open(sys.argv[1], encoding="utf-8").read()
seen = {}
def walk(o, path, where):
    if isinstance(o, dict):
        for k, v in o.items():
            p = path + "." + k if path else k
            seen.setdefault(p, where)
            walk(v, p, where)
    elif isinstance(o, list):
        for v in o:
            walk(v, path + "[]", where)
for f in sys.argv[2:]:
    for line in open(f, encoding="utf-8", errors="replace"):
        try:
            walk(json.loads(line), "", f.rsplit("/", 1)[-1])
        except ValueError:
            pass
missing = []
for p in sorted(seen):
    leaf = p.rsplit(".", 1)[-1]
    if "`%s`" % leaf not in doc and "`%s`" % p.replace("[]", "") not in doc:
        missing.append("%s (in %s)" % (p, seen[p]))
print(len(seen))
print("\n".join(missing))
PY
n=$(head -n 1 "$T/report")
echo "# $n distinct field paths written"
ok "the workloads wrote fields (at least 90 paths)" [ "$n" -ge 90 ]
tail -n +2 "$T/report" | sed 's/^/# undocumented: /'
eq "every one is documented in docs/events.md" "$(tail -n +2 "$T/report" | grep -c .)" 0
finish
