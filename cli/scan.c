/* scan.c: a validating, allocation-free reader of one event line, for stats over millions of
 * events. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

/*
 * jansson builds every value of an event and frees it again; for stats over
 * a million events that is most of the time. This scanner checks the same
 * JSON grammar without building anything, and keeps only the fields stats
 * and the filters read. A line it does not accept goes to jansson, which
 * either reads it after all or says precisely what is wrong with it.
 */
struct scan {
	const char *p, *end;
	int depth;
};

static void ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
		s->p++;
}

static int hex4(const char *p)
{
	int i;

	for (i = 0; i < 4; i++) {
		char c = p[i] | 32;

		if (!((p[i] >= '0' && p[i] <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
}

/* A string; sets *v to its raw contents (escapes not decoded), *plain if it has none. */
static int string(struct scan *s, struct evs *v)
{
	const char *start;
	int plain = 1;

	if (s->p >= s->end || *s->p != '"')
		return 0;
	start = ++s->p;
	while (s->p < s->end) {
		unsigned char c = (unsigned char)*s->p;

		if (c == '"') {
			if (v) {
				v->p = start;
				v->n = (size_t)(s->p - start);
				v->plain = plain;
			}
			s->p++;
			return 1;
		}
		if (c < 0x20)
			return 0;
		if (c == '\\') {
			plain = 0;
			if (s->end - s->p < 2)
				return 0;
			c = (unsigned char)s->p[1];
			if (c == 'u') {
				/* \u0000 and lone surrogates: let jansson judge those. */
				if (s->end - s->p < 6 || !hex4(s->p + 2) ||
				    !memcmp(s->p + 2, "0000", 4) || (s->p[2] | 32) == 'd')
					return 0;
				s->p += 6;
				continue;
			}
			/* (strchr would also find the terminating NUL) */
			if (!c || !strchr("\"\\/bfnrt", c))
				return 0;
			s->p += 2;
			continue;
		}
		if (c >= 0x80) {
			/* Well-formed UTF-8, as jansson requires. */
			int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0, i;

			if (!len || c > 0xf4 || s->end - s->p < len)
				return 0;
			for (i = 1; i < len; i++)
				if ((s->p[i] & 0xc0) != 0x80)
					return 0;
			if ((c == 0xe0 && (unsigned char)s->p[1] < 0xa0) ||
			    (c == 0xed && (unsigned char)s->p[1] >= 0xa0) ||
			    (c == 0xf0 && (unsigned char)s->p[1] < 0x90) ||
			    (c == 0xf4 && (unsigned char)s->p[1] >= 0x90))
				return 0;
			s->p += len;
			continue;
		}
		s->p++;
	}
	return 0;
}

/* A number; an integer that fits sets *iv and *is_int. */
static int number(struct scan *s, long long *iv, int *is_int)
{
	const char *start = s->p;
	int frac = 0;

	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p >= s->end || *s->p < '0' || *s->p > '9')
		return 0;
	if (*s->p == '0')
		s->p++;
	else
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	if (s->p < s->end && *s->p == '.') {
		frac = 1;
		s->p++;
		if (s->p >= s->end || *s->p < '0' || *s->p > '9')
			return 0;
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		frac = 1;
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (s->p >= s->end || *s->p < '0' || *s->p > '9')
			return 0;
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	if (is_int)
		*is_int = 0;
	/*
	 * Our writer only writes integers. Anything else (fractions, exponents,
	 * integers past int64, which jansson refuses) goes to jansson.
	 */
	if (frac)
		return 0;
	{
		const char *d = start + (*start == '-');
		unsigned long long u = 0;

		for (; d < s->p; d++) {
			if (u > (9223372036854775808ULL - (unsigned)(*d - '0')) / 10)
				return 0;
			u = u * 10 + (unsigned)(*d - '0');
		}
		if (*start != '-' && u > 9223372036854775807ULL)
			return 0;
		if (iv)
			*iv = *start == '-' ? (long long)(0ULL - u) : (long long)u;
		if (is_int)
			*is_int = 1;
	}
	return 1;
}

static int value(struct scan *s, struct evf *f, int in_sock);

static int literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n))
		return 0;
	s->p += n;
	return 1;
}

static int key_is(const struct evs *k, const char *name)
{
	return k->plain && k->n == strlen(name) && !memcmp(k->p, name, k->n);
}

/*
 * A key we keep that appears twice: jansson (with JSON_REJECT_DUPLICATES, as
 * the readers use it) refuses the line, so the scanner hands it over too.
 */
static const char *const kept_keys[] = {
    "v",    "event", "ts",   "pid",   "tid",  "fd",	"ret",	   "dur_ns", "len",  "bytes_sent",
    "call", "errno", "addr", "flags", "lint", "sock", "sample", "flags_raw",
    /* in "sock" */
    "family", "type", "proto", "peer"};
#define TOP_KEYS 18

static int seen_twice(struct evf *f, const struct evs *k, int level)
{
	unsigned i, from = level == 1 ? 0 : TOP_KEYS,
		    to = level == 1 ? TOP_KEYS : sizeof(kept_keys) / sizeof(kept_keys[0]);

	/* Most keys are none of ours: rule them out by length and first letter. */
	if (!k->plain || k->n == 0 || k->n > 10 || !strchr("vetpfrdlbcspa", k->p[0]))
		return 0;
	for (i = from; i < to; i++) {
		if (kept_keys[i][0] != k->p[0] || !key_is(k, kept_keys[i]))
			continue;
		if (f->seen & (1u << i))
			return 1;
		f->seen |= 1u << i;
		return 0;
	}
	return 0;
}

/* The members of an object; at the top, and in "sock", the fields are kept. */
static int object(struct scan *s, struct evf *f, int level)
{
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 1;
	}
	for (;;) {
		struct evs k;
		const char *vstart;

		ws(s);
		if (!string(s, &k))
			return 0;
		ws(s);
		if (s->p >= s->end || *s->p != ':')
			return 0;
		s->p++;
		ws(s);
		vstart = s->p;
		if (f && level && seen_twice(f, &k, level))
			f->odd = 1;
		if (f && level == 1) {
			long long iv = 0;
			int is_int = 0;

			if (s->p < s->end && *s->p == '"') {
				struct evs sv;

				if (!string(s, &sv))
					return 0;
				if (key_is(&k, "event"))
					f->event = sv;
				else if (key_is(&k, "call"))
					f->call = sv;
				else if (key_is(&k, "errno"))
					f->err = sv;
				else if (key_is(&k, "addr"))
					f->addr = sv;
				else if (key_is(&k, "bytes_sent"))
					f->big_bytes = 1;
			} else if (key_is(&k, "new_sock")) {
				/* accept's peer is in here: jansson's path reads it. */
				f->odd = 1;
				if (!value(s, NULL, 0))
					return 0;
			} else if (s->p < s->end &&
				   (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))) {
				if (!number(s, &iv, &is_int))
					return 0;
				if (!is_int)
					f->odd = 1;
				if (key_is(&k, "v"))
					f->v = iv;
				else if (key_is(&k, "ts"))
					f->ts = iv;
				else if (key_is(&k, "pid"))
					f->pid = iv;
				else if (key_is(&k, "tid"))
					f->tid = iv;
				else if (key_is(&k, "fd"))
					f->fd = iv, f->has_fd = 1;
				else if (key_is(&k, "ret"))
					f->ret = iv;
				else if (key_is(&k, "dur_ns"))
					f->dur = iv;
				else if (key_is(&k, "len"))
					f->len = iv, f->has_len = 1;
				else if (key_is(&k, "sample"))
					f->sample = iv;
				else if (key_is(&k, "flags_raw"))
					f->flags_raw = iv, f->has_flags = 1;
				else if (key_is(&k, "bytes_sent"))
					f->bytes_sent = iv;
			} else {
				if (!value(s, f, key_is(&k, "sock")))
					return 0;
				if (key_is(&k, "flags") && *vstart == '[') {
					f->flags.p = vstart;
					f->flags.n = (size_t)(s->p - vstart);
				} else if (key_is(&k, "lint") && *vstart == '[') {
					f->lint = 1;
				} else if (key_is(&k, "sock") && *vstart == '{') {
					f->has_sock = 1;
				}
			}
		} else if (f && level == 2) {
			struct evs sv = {NULL, 0, 0};

			if (s->p < s->end && *s->p == '"') {
				if (!string(s, &sv))
					return 0;
				if (key_is(&k, "family"))
					f->family = sv;
				else if (key_is(&k, "type"))
					f->type = sv;
				else if (key_is(&k, "proto"))
					f->proto = sv;
				else if (key_is(&k, "peer"))
					f->peer = sv;
			} else if (!value(s, NULL, 0)) {
				return 0;
			}
		} else if (!value(s, NULL, 0)) {
			return 0;
		}
		ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			return 1;
		}
		return 0;
	}
}

static int array(struct scan *s)
{
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 1;
	}
	for (;;) {
		ws(s);
		if (!value(s, NULL, 0))
			return 0;
		ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return 1;
		}
		return 0;
	}
}

static int value(struct scan *s, struct evf *f, int in_sock)
{
	int ok;

	if (s->p >= s->end || ++s->depth > 64)
		return 0;
	switch (*s->p) {
	case '{':
		ok = object(s, in_sock ? f : NULL, in_sock ? 2 : 0);
		break;
	case '[':
		ok = array(s);
		break;
	case '"':
		ok = string(s, NULL);
		break;
	case 't':
		ok = literal(s, "true");
		break;
	case 'f':
		ok = literal(s, "false");
		break;
	case 'n':
		ok = literal(s, "null");
		break;
	default:
		ok = number(s, NULL, NULL);
		break;
	}
	s->depth--;
	return ok;
}

int scan_event(const char *line, size_t n, struct evf *f)
{
	struct scan s = {line, line + n, 0};

	memset(f, 0, sizeof(*f));
	ws(&s);
	if (s.p >= s.end || *s.p != '{' || !object(&s, f, 1))
		return 0;
	ws(&s);
	/* One v1 event, nothing after it, and no number we could not hold. */
	return s.p == s.end && f->v == 1 && f->event.p && !f->odd;
}

int evs_eq(const struct evs *v, const char *s)
{
	return v->p && v->plain && v->n == strlen(s) && !memcmp(v->p, s, v->n);
}
