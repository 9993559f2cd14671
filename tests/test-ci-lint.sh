#!/bin/sh
# test-ci-lint.sh: examples/ci-lint.sh fails a job on error-level findings, passes one without, and leaves a SARIF log.
. "$ST_SRCDIR/tests/lib.sh"
CI=$ST_SRCDIR/examples/ci-lint.sh
SENDTRACE=$ST
export SENDTRACE

# A program with error-level findings: t-lint's workload (MSG_OOB on UDP, ...).
env TH_CHILD=1 TH_RESULTS="$T/res" sh "$CI" -o "$T/bad" -- "$ST_BUILDDIR/tests/t-lint" \
	>"$T/bad.out" 2>"$T/bad.err"
eq "errors found: the job fails (exit 1)" "$?" "1"
ok "the findings are printed" grep -q '^error: msg-oob-unsupported' "$T/bad.out"
ok "and kept in lint.txt" grep -q '^error: msg-oob-unsupported' "$T/bad/lint.txt"
ok "it says why it failed" grep -q "findings at or above 'error'" "$T/bad.err"
ok "the SARIF log is written" grep -q '"ruleId": "msg-oob-unsupported"' "$T/bad/sendtrace.sarif"
# --only-lint: only the calls with findings were recorded.
eq "the trace holds only calls with findings" \
	"$(count "$T/bad/trace.jsonl" event=call)" "$(count "$T/bad/trace.jsonl" event=call lint?)"
ok "frames were recorded (-k 8 by default)" [ "$(count "$T/bad/trace.jsonl" event=call bt.0.ip?)" -gt 0 ]
if command -v python3 >/dev/null; then
	python3 "$ST_SRCDIR/tests/sarif-check.py" "$T/bad/sendtrace.sarif" >/dev/null
	eq "the SARIF log holds to SARIF 2.1.0" "$?" "0"
fi

# A program with warnings only (SIGPIPE at its default): the job passes...
sh "$CI" -o "$T/warn" -- "$ST_BUILDDIR/examples/echo-pair" >"$T/warn.out" 2>"$T/warn.err"
eq "warnings only: the job passes (exit 0)" "$?" "0"
ok "the warnings are still shown" grep -q '^warning: sigpipe-default' "$T/warn.out"
ok "and in the SARIF log" grep -q '"level": "warning"' "$T/warn/sendtrace.sarif"
# ... unless asked to fail on them.
sh "$CI" -o "$T/warn2" -l warning -- "$ST_BUILDDIR/examples/echo-pair" >/dev/null 2>&1
eq "-l warning: the job fails" "$?" "1"

# A program that sends nothing, with --full: no trace file is made, no finding.
sh "$CI" -o "$T/none" --full -- sh -c 'exit 0' >"$T/none.out" 2>&1
eq "nothing sent: the job passes" "$?" "0"
ok "the SARIF log has no result" grep -q '"results": \[\]' "$T/none/sendtrace.sarif"

# The command's own failure comes first.
sh "$CI" -o "$T/fail" -- sh -c 'exit 3' >/dev/null 2>"$T/fail.err"
eq "a failing command: its exit status" "$?" "3"
ok "said so" grep -q "the command failed (exit 3)" "$T/fail.err"

sh "$CI" -l bogus -- true >/dev/null 2>"$T/usage.err"
eq "a bad level: exit 2" "$?" "2"
ok "naming the bad value" grep -q "'bogus'" "$T/usage.err"
sh "$CI" >/dev/null 2>"$T/usage.err"
eq "no command: exit 2" "$?" "2"
ok "with the usage line" grep -q "usage: ci-lint.sh" "$T/usage.err"
finish
