/* json.h: the allocation-free JSON Lines writer used on the hot path. */
#ifndef ST_JSON_H
#define ST_JSON_H

#include <stddef.h>
#include <stdint.h>

/*
 * A writer over a caller-owned buffer. It never writes past `end`: once a
 * value does not fit, `overflow` is set and everything after is dropped, so
 * the caller can discard the event instead of emitting half a line.
 */
struct st_json {
	char *start;
	char *p;
	char *end;
	int first;     /* no element written yet in the innermost container */
	int after_key; /* a key was written; the next value follows without ',' */
	int overflow;
};

void st_json_init(struct st_json *j, char *buf, size_t size);
size_t st_json_room(const struct st_json *j);
size_t st_json_len(const struct st_json *j);

void st_json_obj(struct st_json *j);
void st_json_obj_end(struct st_json *j);
void st_json_arr(struct st_json *j);
void st_json_arr_end(struct st_json *j);
/*
 * ,"key": with one bounds check. Inline, because keys are literals: with the
 * length known at compile time the copy becomes a few moves, and this runs a
 * dozen times per event.
 */
static inline void st_json_key_n(struct st_json *j, const char *key, size_t n)
{
	char *p = j->p;

	if (j->overflow || (size_t)(j->end - p) < n + 4) {
		j->overflow = 1;
		return;
	}
	if (!j->first)
		*p++ = ',';
	*p++ = '"';
	__builtin_memcpy(p, key, n);
	p += n;
	*p++ = '"';
	*p++ = ':';
	j->p = p;
	j->first = 0;
	j->after_key = 1;
}
#define st_json_key(j, key) st_json_key_n((j), (key), __builtin_strlen(key))

/*
 * A value that is a constant already quoted, ("\"send\"") copied as it is:
 * names from the library's own tables need no escaping, and with the length
 * known at compile time the copy is a few moves.
 */
static inline void st_json_lit_n(struct st_json *j, const char *text, size_t n)
{
	char *p = j->p;

	if (j->overflow || (size_t)(j->end - p) < n + 1) {
		j->overflow = 1;
		return;
	}
	if (j->after_key)
		j->after_key = 0;
	else if (!j->first)
		*p++ = ',';
	j->first = 0;
	__builtin_memcpy(p, text, n);
	j->p = p + n;
}
#define st_json_lit(j, text) st_json_lit_n((j), (text), __builtin_strlen(text))

void st_json_str(struct st_json *j, const void *s, size_t n);
/* At most `max` bytes: 1 whole, 0 a prefix, -1 nothing written (not even ""). */
int st_json_str_max(struct st_json *j, const void *s, size_t n, size_t max);
void st_json_cstr(struct st_json *j, const char *s);
void st_json_int(struct st_json *j, long long v);
void st_json_uint(struct st_json *j, unsigned long long v);
void st_json_bool(struct st_json *j, int v);
void st_json_null(struct st_json *j);
void st_json_hex(struct st_json *j, const void *data, size_t n);
void st_json_hexnum(struct st_json *j, unsigned long long v);
/* Members already encoded as text, starting with their own ',' (an object's tail). */
void st_json_members(struct st_json *j, const char *text, size_t n);
/* A value that the caller has already encoded as JSON text. */
void st_json_raw(struct st_json *j, const char *text, size_t n);

/* Helpers for formatting into small stack buffers (addresses, numbers). */
size_t st_fmt_uint(char *out, unsigned long long v);
size_t st_fmt_hex(char *out, unsigned long long v, int width);

#endif
