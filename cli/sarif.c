/* sarif.c: `sendtrace lint --format=sarif`: the findings as a SARIF 2.1.0 log for CI code scanning.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "sarif.h"

/*
 * What is written follows the SARIF 2.1.0 standard (OASIS): one run, its
 * tool's driver carrying every rule of the catalogue (st_rules[], so rules
 * added there appear by themselves), and one result per grouped finding.
 * A result's location is the innermost frame of the call that has a source
 * line (addr2line, through symbols.c, when the module has debug info), as
 * a file under the current directory where it is one; a frame without one
 * is given as a logical location, "module+0xoffset". The other frames of
 * the backtrace are the related locations. tests/sarif-check.py holds the
 * output to the standard's required properties.
 */
#define SARIF_SCHEMA                                                                               \
	"https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json"
#define SARIF_BASE "SRCROOT" /* uriBaseId of paths under the current directory */

static const char *level_of(enum st_severity s)
{
	return s == ST_SEV_ERROR ? "error" : s == ST_SEV_WARNING ? "warning" : "note";
}

/* msg-confirm-not-datagram -> MsgConfirmNotDatagram: the rule's name, as code scanning shows it. */
static json_t *rule_name(const char *id)
{
	char buf[128];
	size_t n = 0;
	int up = 1;

	for (; *id && n + 1 < sizeof(buf); id++) {
		if (*id == '-') {
			up = 1;
			continue;
		}
		buf[n++] = up && *id >= 'a' && *id <= 'z' ? (char)(*id - 'a' + 'A') : *id;
		up = 0;
	}
	buf[n] = '\0';
	return json_string(buf);
}

static json_t *text(const char *s)
{
	return json_pack("{s:s}", "text", s ? s : "");
}

static json_t *rule_json(const struct st_rule *r)
{
	char *plain = NULL, *md = NULL;
	json_t *o;

	if (asprintf(&plain, "%s\n\nFix: %s\nSee: %s", r->why, r->fix, r->man) < 0 ||
	    asprintf(&md, "%s\n\n**Fix:** %s\n\n**See:** %s", r->why, r->fix, r->man) < 0) {
		cli_error("out of memory");
		exit(EXIT_TROUBLE);
	}
	o = json_pack("{s:s, s:o, s:o, s:o, s:{s:s, s:s}, s:{s:s}, s:{s:[s], s:s}}", "id", r->id,
		      "name", rule_name(r->id), "shortDescription", text(r->msg), "fullDescription",
		      text(r->trigger), "help", "text", plain, "markdown", md,
		      "defaultConfiguration", "level", level_of(r->severity), "properties", "tags",
		      "sendtrace", "severity", st_severity_name(r->severity));
	free(plain);
	free(md);
	return o;
}

/* A path as a URI reference: unreserved characters and '/' as they are, the rest %HH. */
static char *uri_path(const char *prefix, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(prefix), cap = n + 3 * strlen(path) + 1;
	char *out = malloc(cap), *p;

	if (!out) {
		cli_error("out of memory");
		exit(EXIT_TROUBLE);
	}
	memcpy(out, prefix, n);
	p = out + n;
	for (; *path; path++) {
		unsigned char c = (unsigned char)*path;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~/", c)) {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return out;
}

/* The current directory, with a trailing '/', for relative URIs (NULL: unknown). */
static const char *cwd_slash(void)
{
	static char buf[4096];
	static int done;

	if (!done) {
		size_t n;

		done = 1;
		if (!getcwd(buf, sizeof(buf) - 1))
			buf[0] = '\0';
		n = strlen(buf);
		if (n && buf[n - 1] != '/') {
			buf[n] = '/';
			buf[n + 1] = '\0';
		}
	}
	return buf[0] == '/' ? buf : NULL;
}

/*
 * addr2line's "FILE:LINE" or "FILE:LINE (discriminator N)" as a physical
 * location; NULL when it does not read as one.
 */
static json_t *physical(const char *file_line)
{
	const char *cwd = cwd_slash();
	char *file, *colon, *end, *uri;
	long line;
	json_t *art, *o;

	if (!file_line || !(file = strdup(file_line)))
		return NULL;
	if ((end = strstr(file, " (discriminator")))
		*end = '\0';
	colon = strrchr(file, ':');
	if (!colon || colon == file) {
		free(file);
		return NULL;
	}
	*colon = '\0';
	line = strtol(colon + 1, &end, 10);
	if (*end || line <= 0) {
		free(file);
		return NULL;
	}
	/*
	 * A VPATH build records "BUILD/../SRC/x.c": the file's own path, with
	 * no "..", is what a code-scanning service matches against the tree.
	 */
	if (file[0] == '/' && strstr(file, "/../")) {
		char *real = realpath(file, NULL);

		if (real) {
			free(file);
			file = real;
		}
	}
	if (cwd && !strncmp(file, cwd, strlen(cwd))) {
		uri = uri_path("", file + strlen(cwd));
		art = json_pack("{s:s, s:s}", "uri", uri, "uriBaseId", SARIF_BASE);
	} else if (file[0] == '/') {
		uri = uri_path("file://", file);
		art = json_pack("{s:s}", "uri", uri);
	} else {
		uri = uri_path("", file); /* as the debug info has it: relative to the build */
		art = json_pack("{s:s}", "uri", uri);
	}
	o = json_pack("{s:o, s:{s:I}}", "artifactLocation", art, "region", "startLine",
		      (json_int_t)line);
	free(uri);
	free(file);
	return o;
}

struct frame {
	const char *obj, *off, *ip, *fn;
};

/* The frames of an event, innermost first: its backtrace, else its call site. */
static size_t frames_of(json_t *ev, struct frame *f, size_t max)
{
	json_t *bt = json_object_get(ev, "bt"), *site = json_object_get(ev, "site"), *x;
	size_t i, n = 0;

	if (json_is_array(bt) && json_array_size(bt) > 0) {
		json_array_foreach (bt, i, x) {
			if (n == max)
				break;
			f[n].obj = json_string_value(json_object_get(x, "obj"));
			f[n].off = json_string_value(json_object_get(x, "off"));
			f[n].ip = json_string_value(json_object_get(x, "ip"));
			f[n].fn = json_string_value(json_object_get(x, "fn"));
			n++;
		}
	} else if (json_is_object(site) && max > 0) {
		f[0].obj = json_string_value(json_object_get(site, "obj"));
		f[0].off = json_string_value(json_object_get(site, "off"));
		f[0].ip = json_string_value(json_object_get(site, "ip"));
		f[0].fn = NULL;
		n = 1;
	}
	return n;
}

/* "module+0xoff", or the bare address. */
static char *frame_name(const struct frame *f)
{
	char *s = NULL;

	if (f->obj && f->off ? asprintf(&s, "%s+%s", f->obj, f->off) < 0
			     : asprintf(&s, "%s", f->ip ? f->ip : "?") < 0) {
		cli_error("out of memory");
		exit(EXIT_TROUBLE);
	}
	return s;
}

/* A SARIF location for one frame: physical when it has a source line, logical always. */
static json_t *location(const struct frame *f, json_t *phys)
{
	char *fq = frame_name(f);
	const char *base = f->obj ? strrchr(fq, '/') : NULL;
	json_t *loc = json_object(), *logical;

	if (phys)
		json_object_set_new(loc, "physicalLocation", phys);
	/* The function when the backtrace named it; else the address in its module. */
	logical = json_pack("{s:s, s:s}", "fullyQualifiedName", fq, "kind",
			    f->fn ? "function" : "module");
	json_object_set_new(logical, "name", json_string(f->fn ? f->fn : base ? base + 1 : fq));
	json_object_set_new(loc, "logicalLocations", json_pack("[o]", logical));
	free(fq);
	return loc;
}

/* 64-bit FNV-1a, for the fingerprint. */
static unsigned long long fnv(unsigned long long h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (h ^ 0xff) * 1099511628211ull;
}

/*
 * What stays the same from one run to the next for the same mistake: the
 * rule and the top frames by function name, or module file name and
 * offset (not the module's directory, which differs between machines).
 */
static json_t *fingerprint(const struct sarif_finding *x, const struct frame *f, size_t n)
{
	unsigned long long h = fnv(14695981039346656037ull, x->rule->id);
	char buf[32];
	size_t i;

	for (i = 0; i < n && i < 3; i++) {
		const char *base = f[i].obj ? strrchr(f[i].obj, '/') : NULL;

		if (f[i].fn) {
			h = fnv(h, f[i].fn);
		} else {
			h = fnv(h, base ? base + 1 : f[i].obj);
			h = fnv(h, f[i].off);
		}
	}
	if (!n)
		h = fnv(h, x->site);
	snprintf(buf, sizeof(buf), "%016llx", h);
	return json_pack("{s:s}", "sendtraceSite/v1", buf);
}

/* ns since the epoch as an ISO 8601 UTC time, as SARIF writes times. */
static json_t *utc(long long ts)
{
	time_t sec = (time_t)(ts / 1000000000);
	struct tm tm;
	char buf[64];

	if (ts <= 0 || !gmtime_r(&sec, &tm))
		return json_null();
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(ts % 1000000000 / 1000000));
	return json_string(buf);
}

/* What a reader of the alert wants to know besides where: counts, times, the socket. */
static json_t *properties(const struct sarif_finding *x)
{
	json_t *p = json_object(), *ev = x->event, *sock = json_object_get(ev, "sock"), *v;
	static const char *const sock_keys[] = {"family", "type", "proto", "local", "peer"};
	size_t i;

	json_object_set_new(p, "count", json_integer((json_int_t)x->count));
	if (x->first > 0) {
		json_object_set_new(p, "firstTs", json_integer(x->first));
		json_object_set_new(p, "lastTs", json_integer(x->last));
		json_object_set_new(p, "firstSeen", utc(x->first));
		json_object_set_new(p, "lastSeen", utc(x->last));
	}
	if (json_is_array(x->pids))
		json_object_set(p, "pids", x->pids);
	if (x->site)
		json_object_set_new(p, "site", json_string(x->site));
	if (x->example)
		json_object_set_new(p, "example", json_string(x->example));
	if ((v = json_object_get(ev, "call")) && json_is_string(v))
		json_object_set(p, "call", v);
	if ((v = json_object_get(ev, "fd")) && json_is_integer(v))
		json_object_set(p, "fd", v);
	for (i = 0; json_is_object(sock) && i < sizeof(sock_keys) / sizeof(sock_keys[0]); i++)
		if ((v = json_object_get(sock, sock_keys[i])) && !json_is_null(v))
			json_object_set(p, sock_keys[i], v);
	return p;
}

#define FRAMES_MAX 64

static json_t *result_json(const struct sarif_finding *x)
{
	struct frame f[FRAMES_MAX];
	json_t *phys[FRAMES_MAX], *r, *locs, *related;
	size_t n = x->event ? frames_of(x->event, f, FRAMES_MAX) : 0, i, primary = 0;
	char *msg = NULL;
	int found = 0;

	for (i = 0; i < n; i++) {
		phys[i] = physical(sym_file_line(f[i].obj, f[i].off));
		if (phys[i] && !found) {
			primary = i;
			found = 1;
		}
	}
	if (asprintf(&msg, "%s. Seen %lu time%s%s%s.", x->rule->msg, x->count,
		     x->count == 1 ? "" : "s", x->example ? ": " : "",
		     x->example ? x->example : "") < 0) {
		cli_error("out of memory");
		exit(EXIT_TROUBLE);
	}
	r = json_pack("{s:s, s:s, s:o}", "ruleId", x->rule->id, "level",
		      level_of(x->rule->severity), "message", text(msg));
	/* Listed in the driver's rules only when it is one of the catalogue's. */
	if (x->rule >= st_rules && x->rule < st_rules + ST_R_COUNT)
		json_object_set_new(r, "ruleIndex", json_integer((json_int_t)(x->rule - st_rules)));
	if (x->count)
		json_object_set_new(r, "occurrenceCount", json_integer((json_int_t)x->count));
	free(msg);
	locs = json_array();
	related = json_array();
	if (n) {
		json_array_append_new(locs, location(&f[primary], phys[primary]));
		phys[primary] = NULL;
	}
	for (i = 0; i < n; i++) {
		json_t *loc;

		if (i == primary) {
			if (n == 1)
				continue;
			/* Listed with the others too, so the related frames read in order. */
			loc = location(&f[i], physical(sym_file_line(f[i].obj, f[i].off)));
		} else {
			loc = location(&f[i], phys[i]);
		}
		json_object_set_new(loc, "id", json_integer((json_int_t)i));
		json_object_set_new(loc, "message", text(i == 0 ? "the call" : "called from here"));
		json_array_append_new(related, loc);
	}
	if (!n && x->site) {
		/* No event to read frames from: the site's text is all there is. */
		json_array_append_new(locs,
				      json_pack("{s:[{s:s, s:s}]}", "logicalLocations",
						"fullyQualifiedName", x->site, "kind", "module"));
	}
	json_object_set_new(r, "locations", locs);
	if (json_array_size(related))
		json_object_set_new(r, "relatedLocations", related);
	else
		json_decref(related);
	json_object_set_new(r, "partialFingerprints", fingerprint(x, f, n));
	json_object_set_new(r, "properties", properties(x));
	return r;
}

void sarif_print(FILE *out, const struct sarif_finding *v, size_t n)
{
	json_t *rules = json_array(), *results = json_array(), *driver, *run, *log;
	const char *cwd = cwd_slash();
	size_t i;
	char *s;

	for (i = 0; i < ST_R_COUNT; i++)
		json_array_append_new(rules, rule_json(&st_rules[i]));
	for (i = 0; i < n; i++)
		if (v[i].rule)
			json_array_append_new(results, result_json(&v[i]));
	driver = json_pack("{s:s, s:s, s:s, s:o}", "name", PACKAGE_NAME, "version", PACKAGE_VERSION,
			   "semanticVersion", PACKAGE_VERSION, "rules", rules);
	/* No web page of the project is known to the build: PACKAGE_URL, when configure has one. */
	if (PACKAGE_URL[0])
		json_object_set_new(driver, "informationUri", json_string(PACKAGE_URL));
	run = json_pack("{s:{s:o}, s:o}", "tool", "driver", driver, "results", results);
	if (cwd) {
		char *uri = uri_path("file://", cwd);

		json_object_set_new(run, "originalUriBaseIds",
				    json_pack("{s:{s:s}}", SARIF_BASE, "uri", uri));
		free(uri);
	}
	log = json_pack("{s:s, s:s, s:[o]}", "$schema", SARIF_SCHEMA, "version", "2.1.0", "runs",
			run);
	s = json_dumps(log, JSON_INDENT(2));
	if (!s) {
		cli_error("out of memory");
		exit(EXIT_TROUBLE);
	}
	esc_put_json(out, s); /* DEL and C1 controls too, as \u00HH */
	fputc('\n', out);
	free(s);
	json_decref(log);
}
