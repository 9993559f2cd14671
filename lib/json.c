/* json.c: allocation-free JSON writer; strings keep arbitrary bytes recoverable. */
#include "config.h"

#include <string.h>

#include "json.h"

static const char st_hexdig[] = "0123456789abcdef";

void st_json_init(struct st_json *j, char *buf, size_t size)
{
	j->start = j->p = buf;
	j->end = buf + size;
	j->first = 1;
	j->after_key = 0;
	j->overflow = 0;
}

size_t st_json_room(const struct st_json *j)
{
	return j->overflow ? 0 : (size_t)(j->end - j->p);
}

size_t st_json_len(const struct st_json *j)
{
	return (size_t)(j->p - j->start);
}

static void st_put(struct st_json *j, const char *s, size_t n)
{
	if (j->overflow || (size_t)(j->end - j->p) < n) {
		j->overflow = 1;
		return;
	}
	memcpy(j->p, s, n);
	j->p += n;
}

static void st_putc(struct st_json *j, char c)
{
	if (j->overflow || j->p >= j->end) {
		j->overflow = 1;
		return;
	}
	*j->p++ = c;
}

/* Separator before a value: none after a key, ',' between array elements. */
static void st_sep(struct st_json *j)
{
	if (j->after_key)
		j->after_key = 0;
	else if (!j->first)
		st_putc(j, ',');
	j->first = 0;
}

void st_json_obj(struct st_json *j)
{
	st_sep(j);
	st_putc(j, '{');
	j->first = 1;
}

void st_json_obj_end(struct st_json *j)
{
	st_putc(j, '}');
	j->first = 0;
}

void st_json_arr(struct st_json *j)
{
	st_sep(j);
	st_putc(j, '[');
	j->first = 1;
}

void st_json_arr_end(struct st_json *j)
{
	st_putc(j, ']');
	j->first = 0;
}

/* Length of a well-formed UTF-8 sequence at s (RFC 3629), or 0 if invalid. */
static size_t st_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, i;
	unsigned int cp;

	if (c < 0xc2 || c > 0xf4)
		return 0;
	len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (n < len)
		return 0;
	cp = c & (0x3f >> (len - 1));
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and values past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/*
 * Strings hold arbitrary bytes (paths, argv, comm, abstract socket names) but
 * JSON text must be UTF-8. The decoded string is the original bytes, except
 * that a backslash is doubled, and a NUL or a byte that is not part of valid
 * UTF-8 becomes the four characters \xHH. That keeps valid text readable in jq and
 * makes every byte string recoverable without ambiguity.
 */
void st_json_str(struct st_json *j, const void *data, size_t n)
{
	const unsigned char *s = data;
	char esc[8];
	size_t i = 0, run;

	st_sep(j);
	st_putc(j, '"');
	while (i < n && !j->overflow) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			/* Copy the run of plain ASCII in one go. */
			run = i;
			while (run < n && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' &&
			       s[run] != '\\')
				run++;
			st_put(j, (const char *)s + i, run - i);
			i = run;
			continue;
		}
		if (c >= 0x80 || c == 0) {
			size_t l = c ? st_utf8_len(s + i, n - i) : 0;

			if (l) {
				st_put(j, (const char *)s + i, l);
				i += l;
				continue;
			}
			/* NUL too: many readers (jansson by default) refuse \u0000. */
			esc[0] = '\\';
			esc[1] = '\\';
			esc[2] = 'x';
			esc[3] = st_hexdig[c >> 4];
			esc[4] = st_hexdig[c & 15];
			st_put(j, esc, 5);
			i++;
			continue;
		}
		switch (c) {
		case '"':
			st_put(j, "\\\"", 2);
			break;
		case '\\':
			st_put(j, "\\\\\\\\", 4);
			break;
		case '\n':
			st_put(j, "\\n", 2);
			break;
		case '\t':
			st_put(j, "\\t", 2);
			break;
		case '\r':
			st_put(j, "\\r", 2);
			break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = st_hexdig[c >> 4];
			esc[5] = st_hexdig[c & 15];
			st_put(j, esc, 6);
			break;
		}
		i++;
	}
	st_putc(j, '"');
}

/*
 * A string in at most `max` bytes of the buffer (its separator and quotes
 * included): the whole string (1), or the longest prefix of its bytes that
 * fits (0), or nothing at all with the writer as it was (-1). Escaping
 * makes a byte take one to six characters, so the prefix is found by
 * bisection; this is for the rare long string (argv, paths), not per event.
 */
int st_json_str_max(struct st_json *j, const void *s, size_t n, size_t max)
{
	struct st_json save = *j;
	char *limit = max < st_json_room(j) ? j->p + max : j->end;
	size_t lo = 0, hi = n;

	if (j->overflow)
		return -1;
	j->end = limit;
	st_json_str(j, s, n);
	if (!j->overflow) {
		j->end = save.end;
		return 1;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;

		*j = save;
		j->end = limit;
		st_json_str(j, s, mid);
		if (j->overflow)
			hi = mid - 1;
		else
			lo = mid;
	}
	*j = save;
	j->end = limit;
	st_json_str(j, s, lo);
	if (j->overflow) {
		*j = save;
		return -1;
	}
	j->end = save.end;
	return 0;
}

void st_json_cstr(struct st_json *j, const char *s)
{
	st_json_str(j, s, strlen(s));
}

static const char st_digits2[] = "00010203040506070809101112131415161718192021222324"
				 "25262728293031323334353637383940414243444546474849"
				 "50515253545556575859606162636465666768697071727374"
				 "75767778798081828384858687888990919293949596979899";

static size_t st_ndigits(unsigned long long v)
{
	size_t n = 1;

	while (v >= 10000) {
		v /= 10000;
		n += 4;
	}
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/* Two digits per step, written in place from the end: timestamps have nineteen. */
size_t st_fmt_uint(char *out, unsigned long long v)
{
	size_t n;
	char *p;

	/* fds, small lengths and return values: most numbers of an event. */
	if (v < 10) {
		out[0] = (char)('0' + v);
		return 1;
	}
	if (v < 100) {
		out[0] = st_digits2[2 * v];
		out[1] = st_digits2[2 * v + 1];
		return 2;
	}
	n = st_ndigits(v);
	p = out + n;

	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		p -= 2;
		p[0] = st_digits2[2 * r];
		p[1] = st_digits2[2 * r + 1];
	}
	if (v >= 10) {
		p[-2] = st_digits2[2 * v];
		p[-1] = st_digits2[2 * v + 1];
	} else {
		p[-1] = (char)('0' + v);
	}
	return n;
}

/* Lower-case hex without prefix, at least `width` digits. */
size_t st_fmt_hex(char *out, unsigned long long v, int width)
{
	char tmp[16];
	size_t n = 0, i;

	do {
		tmp[n++] = st_hexdig[v & 15];
		v >>= 4;
	} while (v);
	while ((int)n < width && n < sizeof(tmp))
		tmp[n++] = '0';
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/*
 * Readers (jansson, and jq's doubles) hold integers as int64 at best; the
 * rare value beyond that (a length of SIZE_MAX) is written as a string of
 * digits rather than as a number they would reject or round.
 */
void st_json_uint(struct st_json *j, unsigned long long v)
{
	char buf[24];

	if (v > 0x7fffffffffffffffULL) {
		st_json_str(j, buf, st_fmt_uint(buf, v));
		return;
	}
	st_sep(j);
	if (j->overflow || j->end - j->p < 20) {
		j->overflow = 1;
		return;
	}
	j->p += st_fmt_uint(j->p, v); /* digits straight into the event */
}

void st_json_int(struct st_json *j, long long v)
{
	unsigned long long u = (unsigned long long)v;

	st_sep(j);
	if (j->overflow || j->end - j->p < 21) {
		j->overflow = 1;
		return;
	}
	if (v < 0) {
		*j->p++ = '-';
		u = 0ULL - u;
	}
	j->p += st_fmt_uint(j->p, u);
}

void st_json_bool(struct st_json *j, int v)
{
	st_sep(j);
	if (v)
		st_put(j, "true", 4);
	else
		st_put(j, "false", 5);
}

void st_json_null(struct st_json *j)
{
	st_sep(j);
	st_put(j, "null", 4);
}

void st_json_hex(struct st_json *j, const void *data, size_t n)
{
	const unsigned char *s = data;
	size_t i;

	st_sep(j);
	st_putc(j, '"');
	if (j->overflow || (size_t)(j->end - j->p) < 2 * n) {
		j->overflow = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		*j->p++ = st_hexdig[s[i] >> 4];
		*j->p++ = st_hexdig[s[i] & 15];
	}
	st_putc(j, '"');
}

void st_json_hexnum(struct st_json *j, unsigned long long v)
{
	char buf[20];

	buf[0] = '"';
	buf[1] = '0';
	buf[2] = 'x';
	size_t n = 3 + st_fmt_hex(buf + 3, v, 1);
	buf[n++] = '"';
	st_sep(j);
	st_put(j, buf, n);
}

void st_json_members(struct st_json *j, const char *text, size_t n)
{
	st_put(j, text, n);
	j->first = 0;
}

void st_json_raw(struct st_json *j, const char *text, size_t n)
{
	st_sep(j);
	st_put(j, text, n);
}
