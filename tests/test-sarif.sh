#!/bin/sh
# test-sarif.sh: `sendtrace lint --format=sarif` writes a SARIF 2.1.0 log: every rule, one result per group, file:line or module+offset.
. "$ST_SRCDIR/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed (apt-get install python3)"
CHECK="python3 $ST_SRCDIR/tests/sarif-check.py"

# t-lint's workload, which breaks every rule, run as the child it re-executes.
env TH_CHILD=1 TH_RESULTS="$T/res" SENDTRACE_OUTPUT="$T/dirty.jsonl" LD_PRELOAD="$ST_TEST_LIB" \
	"$ST_BUILDDIR/tests/t-lint" >/dev/null 2>&1
env TH_CHILD=1 TH_RESULTS="$T/res" SENDTRACE_OUTPUT="$T/bt.jsonl" SENDTRACE_BACKTRACE=4 \
	LD_PRELOAD="$ST_TEST_LIB" "$ST_BUILDDIR/tests/t-lint" >/dev/null 2>&1

# From the source directory: the test's file is a path relative to it.
(cd "$ST_SRCDIR" && "$ST" lint --format=sarif "$T/dirty.jsonl") >"$T/dirty.sarif"
eq "findings: exit 1, as with text" "$?" "1"
$CHECK "$T/dirty.sarif"
eq "the log holds to SARIF 2.1.0" "$?" "0"
"$ST" lint --json "$T/dirty.jsonl" >"$T/dirty.json"

python3 - "$T/dirty.sarif" "$T/dirty.json" "$ST_SRCDIR/tests/t-lint.c" >"$T/facts" <<'PY'
import json, re, sys
log = json.load(open(sys.argv[1]))
groups = json.load(open(sys.argv[2]))
src = open(sys.argv[3]).read().split("\n")
run = log["runs"][0]
drv = run["tool"]["driver"]
res = run["results"]
def line_of(text):
    return next(i + 1 for i, l in enumerate(src) if text in l)
def where(rule):
    r = next(r for r in res if r["ruleId"] == rule)
    pl = r["locations"][0].get("physicalLocation", {})
    return "%s %s %s" % (pl.get("artifactLocation", {}).get("uri"),
                         pl.get("artifactLocation", {}).get("uriBaseId"),
                         pl.get("region", {}).get("startLine"))
print("name", drv["name"])
print("rules", len(drv["rules"]))
print("help", all(r["help"]["text"] and r["help"]["markdown"] and r["fullDescription"]["text"]
                  for r in drv["rules"]))
print("results", len(res), len(groups))
print("same", sorted((r["ruleId"], r["properties"]["count"]) for r in res)
      == sorted((g["id"], g["count"]) for g in groups))
print("levels", " ".join(sorted({r["level"] for r in res})))
print("oob", where("msg-oob-unsupported"), line_of("CASE(5, sendto(u, big, 5, MSG_OOB"))
print("big", where("datagram-too-large"), line_of("CASE(70000,"))
print("base", run["originalUriBaseIds"]["SRCROOT"]["uri"].startswith("file:///"))
oob = next(r for r in res if r["ruleId"] == "msg-oob-unsupported" and
           r["properties"].get("type") == "SOCK_DGRAM")
print("props", oob["properties"]["call"], oob["properties"]["family"],
      isinstance(oob["properties"]["fd"], int), oob["occurrenceCount"],
      bool(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", oob["properties"]["firstSeen"])))
fps = [r["partialFingerprints"]["sendtraceSite/v1"] for r in res]
print("fingerprints", len(set(fps)) == len(fps))
PY
cat "$T/facts" | sed 's/^/# /'
fact() { sed -n "s/^$1 //p" "$T/facts"; }
eq "the tool is sendtrace" "$(fact name)" sendtrace
eq "every rule of the catalogue is listed" "$(fact rules)" "$("$ST" lint --rules | tail -n +2 | wc -l | tr -d ' ')"
eq "each rule has its help, as text and markdown" "$(fact help)" True
eq "one result per group of lint --json" "$(fact same)" True
eq "levels error, note and warning" "$(fact levels)" "error note warning"
set -- $(fact oob)
eq "MSG_OOB: the source line of the call, relative to the current directory" "$1 $2 $3" "tests/t-lint.c SRCROOT $4"
set -- $(fact big)
eq "EMSGSIZE: the source line of the call" "$1 $2 $3" "tests/t-lint.c SRCROOT $4"
eq "the base directory is a file URI" "$(fact base)" True
eq "properties: call, family, fd, count, first time" "$(fact props)" "sendto AF_INET True 1 True"
eq "fingerprints tell the groups apart" "$(fact fingerprints)" True

# Elsewhere: an absolute file URI. With backtraces: the frames as related locations.
(cd "$T" && "$ST" lint --format=sarif "$T/bt.jsonl") >"$T/bt.sarif"
$CHECK "$T/bt.sarif"
eq "with backtraces, the log holds to SARIF 2.1.0" "$?" "0"
python3 - "$T/bt.sarif" >"$T/bt.facts" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["runs"][0]["results"]
r = next(r for r in res if r["ruleId"] == "datagram-too-large")
loc = r["locations"][0]
print(loc["physicalLocation"]["artifactLocation"]["uri"].startswith("file:///"),
      loc["physicalLocation"]["artifactLocation"]["uri"].endswith("/tests/t-lint.c"),
      loc["logicalLocations"][0]["kind"], loc["logicalLocations"][0]["name"],
      len(r.get("relatedLocations", [])) >= 2,
      r["relatedLocations"][1]["logicalLocations"][0].get("name"))
PY
eq "outside the source tree: file:///.../tests/t-lint.c, the function, the callers" \
	"$(cat "$T/bt.facts")" "True True function dirty True main"

# No debug info to be had (the module is gone): the module and offset, as a logical location.
sed 's|"obj":"[^"]*"|"obj":"/nonexistent/prog"|g' "$T/dirty.jsonl" >"$T/gone.jsonl"
"$ST" lint --format=sarif "$T/gone.jsonl" >"$T/gone.sarif"
$CHECK "$T/gone.sarif"
eq "without source lines, the log holds to SARIF 2.1.0" "$?" "0"
# The per-call rules' results (a whole-trace rule's site is the backtrace's text, not an address).
"$ST" lint --rules | awk '$3 == "call" {print $1}' >"$T/call-rules"
python3 - "$T/gone.sarif" "$T/call-rules" >"$T/gone.facts" <<'PY'
import json, re, sys
calls = set(open(sys.argv[2]).read().split())
res = [r for r in json.load(open(sys.argv[1]))["runs"][0]["results"] if r["ruleId"] in calls]
ok = all("physicalLocation" not in r["locations"][0] and
         re.match(r"^/nonexistent/prog\+0x[0-9a-f]+$",
                  r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]) and
         r["locations"][0]["logicalLocations"][0]["kind"] == "module"
         for r in res)
print(len(res) > 10 and ok)
PY
eq "each result: module+0xoffset, kind module" "$(cat "$T/gone.facts")" True

# A clean trace: every rule, no result, exit 0.
"$ST" run -o "$T/clean.jsonl" -- sh -c 'exit 0' >/dev/null 2>&1
: >>"$T/clean.jsonl"
"$ST" lint --format=sarif "$T/clean.jsonl" >"$T/clean.sarif"
eq "no findings: exit 0" "$?" "0"
$CHECK "$T/clean.sarif" >/dev/null
eq "an empty log holds to SARIF 2.1.0 too" "$?" "0"
eq "with an empty results array" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runs"][0]["results"])' "$T/clean.sarif")" "[]"

"$ST" lint --format=xml "$T/clean.jsonl" >/dev/null 2>"$T/err"
eq "an unknown format: exit 2" "$?" "2"
ok "naming the bad value" grep -q "'xml'" "$T/err"

# The checker itself rejects what SARIF does not allow.
for bad in 'd["version"]="2.0.0"' 'd["runs"][0]["results"][0]["count"]=1' \
	'd["runs"][0]["results"][0]["ruleIndex"]+=1' 'del d["runs"][0]["tool"]["driver"]["name"]' \
	'd["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]="a b.c"' \
	'd["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"]="X"' \
	'd["runs"][0]["results"][0]["level"]="fatal"' \
	'd["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"]=0' \
	'del d["runs"][0]["results"][0]["message"]' \
	'd["runs"][0]["tool"]["driver"]["rules"].append(d["runs"][0]["tool"]["driver"]["rules"][0])'; do
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $bad; json.dump(d, open(sys.argv[2], 'w'))" \
		"$T/dirty.sarif" "$T/bad.sarif"
	$CHECK "$T/bad.sarif" >"$T/bad.out" 2>&1
	eq "the checker rejects: $bad" "$?" "1"
	sed 's/^/# /' "$T/bad.out"
	ok "... saying where, without a crash" grep -q '^sarif-check: \$' "$T/bad.out"
done
finish
