#!/usr/bin/env python3
"""sarif-check.py: holds a SARIF log to what SARIF 2.1.0 requires of the objects sendtrace writes.

No SARIF validator or copy of the standard's JSON schema is packaged in
Debian, so the rules are written out here: for each object type the log
uses, its required properties, the properties the standard defines for it
(anything else must go in a "properties" bag), the types and ranges of
their values, and the consistency rules the standard states in prose
(ruleIndex names the rule with that ruleId, uriBaseIds are declared, ...).
Usage: sarif-check.py FILE.sarif; prints each violation, exits 1 if any.
"""
import json
import re
import sys

errors = []


def fail(path, what):
    errors.append("%s: %s" % (path, what))


# The properties SARIF 2.1.0 defines for each object type this checker walks.
DEFINED = {
    "sarifLog": {"$schema", "version", "runs", "inlineExternalProperties", "properties"},
    "run": {"tool", "invocations", "conversion", "language", "versionControlProvenance",
            "originalUriBaseIds", "artifacts", "logicalLocations", "graphs", "results",
            "automationDetails", "runAggregates", "baselineGuid", "redactionTokens",
            "defaultEncoding", "defaultSourceLanguage", "newlineSequences", "columnKind",
            "externalPropertyFileReferences", "threadFlowLocations", "taxonomies",
            "addresses", "translations", "policies", "webRequests", "webResponses",
            "specialLocations", "properties"},
    "tool": {"driver", "extensions", "properties"},
    "toolComponent": {"guid", "name", "organization", "product", "productSuite",
                      "shortDescription", "fullDescription", "fullName", "version",
                      "semanticVersion", "dottedQuadFileVersion", "releaseDateUtc",
                      "downloadUri", "informationUri", "globalMessageStrings",
                      "notifications", "rules", "taxa", "locations", "language", "contents",
                      "isComprehensive", "localizedDataSemanticVersion",
                      "minimumRequiredLocalizedDataSemanticVersion", "associatedComponent",
                      "translationMetadata", "supportedTaxonomies", "properties"},
    "reportingDescriptor": {"id", "deprecatedIds", "guid", "deprecatedGuids", "name",
                            "deprecatedNames", "shortDescription", "fullDescription",
                            "messageStrings", "defaultConfiguration", "helpUri", "help",
                            "relationships", "properties"},
    "multiformatMessageString": {"text", "markdown", "properties"},
    "reportingConfiguration": {"enabled", "level", "rank", "parameters", "properties"},
    "result": {"ruleId", "ruleIndex", "rule", "kind", "level", "message", "analysisTarget",
               "locations", "guid", "correlationGuid", "occurrenceCount",
               "partialFingerprints", "fingerprints", "stacks", "codeFlows", "graphs",
               "graphTraversals", "relatedLocations", "suppressions", "baselineState",
               "rank", "attachments", "hostedViewerUri", "workItemUris", "provenance",
               "fixes", "taxa", "webRequest", "webResponse", "properties"},
    "message": {"text", "markdown", "id", "arguments", "properties"},
    "location": {"id", "physicalLocation", "logicalLocations", "message", "annotations",
                 "relationships", "properties"},
    "physicalLocation": {"address", "artifactLocation", "region", "contextRegion",
                         "properties"},
    "artifactLocation": {"uri", "uriBaseId", "index", "description", "properties"},
    "region": {"startLine", "startColumn", "endLine", "endColumn", "charOffset",
               "charLength", "byteOffset", "byteLength", "snippet", "message",
               "sourceLanguage", "properties"},
    "logicalLocation": {"name", "index", "fullyQualifiedName", "decoratedName",
                        "parentIndex", "kind", "properties"},
}
LEVELS = {"none", "note", "warning", "error"}
KINDS = {"notApplicable", "pass", "fail", "review", "open", "informational"}
# RFC 3986: the characters a URI reference may hold, and %HH escapes only.
URI_CHARS = re.compile(r"^([A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")
ABS_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def obj(v, path, kind, required=()):
    """v is an object of SARIF type `kind` with only defined properties; True if the required are there."""
    if not isinstance(v, dict):
        fail(path, "%s must be an object" % kind)
        return False
    for k in v:
        if k not in DEFINED[kind]:
            fail(path, "%s has no property %r (extra data belongs in \"properties\")" % (kind, k))
    missing = [k for k in required if k not in v]
    for k in missing:
        fail(path, "%s requires %r" % (kind, k))
    if "properties" in v:
        bag(v["properties"], path + ".properties")
    return not missing


def bag(v, path):
    if not isinstance(v, dict):
        fail(path, "a property bag must be an object")
        return
    tags = v.get("tags")
    if tags is not None and (not isinstance(tags, list) or len(set(map(str, tags))) != len(tags)
                             or not all(isinstance(t, str) for t in tags)):
        fail(path + ".tags", "tags must be unique strings")


def string(v, path, nonempty=False):
    if not isinstance(v, str) or (nonempty and not v):
        fail(path, "must be a %sstring" % ("non-empty " if nonempty else ""))
        return False
    return True


def integer(v, path, minimum):
    if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
        fail(path, "must be an integer >= %d" % minimum)


def uri(v, path, absolute=False):
    if string(v, path):
        if not URI_CHARS.match(v):
            fail(path, "not a valid URI reference: %r" % v)
        if absolute and not ABS_URI.match(v):
            fail(path, "must be an absolute URI: %r" % v)


def mfms(v, path):
    if obj(v, path, "multiformatMessageString", ("text",)):
        string(v["text"], path + ".text")
        if "markdown" in v:
            string(v["markdown"], path + ".markdown")


def message(v, path):
    if obj(v, path, "message"):
        if "text" not in v and "id" not in v:
            fail(path, "a message needs text or id")
        if "text" in v:
            string(v["text"], path + ".text", nonempty=True)


def unique(items, path):
    seen = [json.dumps(x, sort_keys=True) for x in items]
    if len(set(seen)) != len(seen):
        fail(path, "items must be unique")


def artifact_location(v, path, bases):
    if obj(v, path, "artifactLocation"):
        if "uri" in v:
            uri(v["uri"], path + ".uri")
        if "uriBaseId" in v:
            string(v["uriBaseId"], path + ".uriBaseId", nonempty=True)
            if v["uriBaseId"] not in bases:
                fail(path + ".uriBaseId", "%r is not declared in run.originalUriBaseIds"
                     % v["uriBaseId"])
            if "uri" in v and ABS_URI.match(v["uri"]):
                fail(path + ".uri", "a uri with a uriBaseId must be relative")


def location(v, path, bases, need_where=True):
    if not obj(v, path, "location"):
        return
    if "id" in v:
        integer(v["id"], path + ".id", -1)
    if "message" in v:
        message(v["message"], path + ".message")
    if need_where and "physicalLocation" not in v and "logicalLocations" not in v:
        fail(path, "a result's location needs a physicalLocation or logicalLocations")
    pl = v.get("physicalLocation")
    if pl is not None and obj(pl, path + ".physicalLocation", "physicalLocation"):
        if "address" not in pl and "artifactLocation" not in pl:
            fail(path + ".physicalLocation", "needs an address or an artifactLocation")
        if "artifactLocation" in pl:
            artifact_location(pl["artifactLocation"], path + ".physicalLocation.artifactLocation",
                              bases)
        rg = pl.get("region")
        if rg is not None and obj(rg, path + ".physicalLocation.region", "region"):
            for k in ("startLine", "startColumn", "endLine", "endColumn"):
                if k in rg:
                    integer(rg[k], path + ".physicalLocation.region." + k, 1)
            if not any(k in rg for k in ("startLine", "charOffset", "byteOffset")):
                fail(path + ".physicalLocation.region", "needs startLine, charOffset or byteOffset")
    lls = v.get("logicalLocations")
    if lls is not None:
        if not isinstance(lls, list) or not lls:
            fail(path + ".logicalLocations", "must be a non-empty array")
        else:
            unique(lls, path + ".logicalLocations")
            for i, ll in enumerate(lls):
                p = "%s.logicalLocations[%d]" % (path, i)
                if obj(ll, p, "logicalLocation"):
                    for k in ("name", "fullyQualifiedName", "kind", "decoratedName"):
                        if k in ll:
                            string(ll[k], p + "." + k, nonempty=True)
                    if not any(k in ll for k in ("name", "fullyQualifiedName", "index")):
                        fail(p, "names nothing")


def check(log):
    if not obj(log, "$", "sarifLog", ("version", "runs")):
        return
    if log.get("version") != "2.1.0":
        fail("$.version", "must be \"2.1.0\"")
    if "$schema" in log:
        uri(log["$schema"], "$.$schema", absolute=True)
        if "2.1.0" not in log["$schema"]:
            fail("$.$schema", "does not name the 2.1.0 schema")
    runs = log.get("runs")
    if not isinstance(runs, list) or not runs:
        fail("$.runs", "must be a non-empty array")
        return
    for ri, run in enumerate(runs):
        rp = "$.runs[%d]" % ri
        if not obj(run, rp, "run", ("tool",)):
            continue
        bases = run.get("originalUriBaseIds", {})
        if not isinstance(bases, dict):
            fail(rp + ".originalUriBaseIds", "must be an object")
            bases = {}
        for name, al in bases.items():
            p = "%s.originalUriBaseIds.%s" % (rp, name)
            if obj(al, p, "artifactLocation") and "uri" in al:
                uri(al["uri"], p + ".uri", absolute=True)
                if not al["uri"].endswith("/"):
                    fail(p + ".uri", "a base URI must end with '/'")
        tool = run.get("tool")
        if not obj(tool, rp + ".tool", "tool", ("driver",)):
            continue
        drv = tool["driver"]
        dp = rp + ".tool.driver"
        rules = []
        obj(drv, dp, "toolComponent", ("name",))
        if isinstance(drv, dict):
            if "name" in drv:
                string(drv["name"], dp + ".name", nonempty=True)
            for k in ("version", "semanticVersion"):
                if k in drv:
                    string(drv[k], dp + "." + k, nonempty=True)
            if "informationUri" in drv:
                uri(drv["informationUri"], dp + ".informationUri", absolute=True)
            rules = drv.get("rules", [])
            if not isinstance(rules, list):
                fail(dp + ".rules", "must be an array")
                rules = []
            unique(rules, dp + ".rules")
            ids = [r.get("id") for r in rules if isinstance(r, dict)]
            if len(set(ids)) != len(ids):
                fail(dp + ".rules", "rule ids must be unique")
            for i, r in enumerate(rules):
                p = "%s.rules[%d]" % (dp, i)
                if not obj(r, p, "reportingDescriptor", ("id",)):
                    continue
                string(r["id"], p + ".id", nonempty=True)
                if "name" in r:
                    string(r["name"], p + ".name", nonempty=True)
                for k in ("shortDescription", "fullDescription", "help"):
                    if k in r:
                        mfms(r[k], p + "." + k)
                if "helpUri" in r:
                    uri(r["helpUri"], p + ".helpUri", absolute=True)
                dc = r.get("defaultConfiguration")
                if dc is not None and obj(dc, p + ".defaultConfiguration",
                                          "reportingConfiguration"):
                    if "level" in dc and dc["level"] not in LEVELS:
                        fail(p + ".defaultConfiguration.level", "not a level: %r" % dc["level"])
        results = run.get("results")
        if results is None:
            continue
        if not isinstance(results, list):
            fail(rp + ".results", "must be an array")
            continue
        for i, res in enumerate(results):
            p = "%s.results[%d]" % (rp, i)
            if not obj(res, p, "result", ("message",)):
                continue
            message(res["message"], p + ".message")
            if "level" in res and res["level"] not in LEVELS:
                fail(p + ".level", "not a level: %r" % res["level"])
            if "kind" in res and res["kind"] not in KINDS:
                fail(p + ".kind", "not a kind: %r" % res["kind"])
            if "ruleId" in res:
                string(res["ruleId"], p + ".ruleId", nonempty=True)
            if "ruleIndex" in res:
                integer(res["ruleIndex"], p + ".ruleIndex", -1)
                ix = res["ruleIndex"]
                if isinstance(ix, int) and ix >= 0:
                    if ix >= len(rules):
                        fail(p + ".ruleIndex", "%d is past the driver's %d rules" % (ix, len(rules)))
                    elif "ruleId" in res and rules[ix].get("id") != res["ruleId"]:
                        fail(p + ".ruleIndex", "rule %d is %r, not ruleId %r"
                             % (ix, rules[ix].get("id"), res["ruleId"]))
            if "occurrenceCount" in res:
                integer(res["occurrenceCount"], p + ".occurrenceCount", 1)
            for k in ("partialFingerprints", "fingerprints"):
                if k in res:
                    fp = res[k]
                    if not isinstance(fp, dict) or not all(isinstance(x, str) for x in fp.values()):
                        fail(p + "." + k, "must map names to strings")
            for k in ("locations", "relatedLocations"):
                locs = res.get(k, [])
                if not isinstance(locs, list):
                    fail(p + "." + k, "must be an array")
                    continue
                unique(locs, p + "." + k)
                for j, loc in enumerate(locs):
                    location(loc, "%s.%s[%d]" % (p, k, j), bases)
            rel_ids = [loc.get("id") for loc in res.get("relatedLocations", [])
                       if isinstance(loc, dict) and "id" in loc]
            if len(set(rel_ids)) != len(rel_ids):
                fail(p + ".relatedLocations", "ids must be unique within a result")


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        log = json.load(f)
    check(log)
    for e in errors:
        print("sarif-check: " + e)
    if not errors:
        runs = log["runs"]
        print("sarif-check: valid: %d run(s), %d rules, %d results" % (
            len(runs), len(runs[0]["tool"]["driver"].get("rules", [])),
            len(runs[0].get("results", []))))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
