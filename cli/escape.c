/* escape.c: prints the strings a trace holds so that none of their bytes can drive a terminal. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

/*
 * Every name in a trace (a socket path, a served file, the program, a
 * function, a peer) was chosen by someone else, maybe to hide an ESC
 * sequence that clears the screen or retitles the window. A terminal acts
 * on C0 controls, DEL, and C1 controls (U+0080-U+009F, which xterm honours
 * in UTF-8 too); and a stray byte that is not UTF-8 can start a sequence
 * the terminal is still waiting to finish. So those bytes are written as
 * text, and everything else (printable ASCII, other valid UTF-8) as it is.
 */

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, UTF-16 surrogates, values past U+10FFFF. */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return len;
}

/* What one unsafe byte becomes: "\xHH" as text, or "\u00HH" inside JSON text. */
static size_t esc_byte(char *out, unsigned char c, int json)
{
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;

	out[k++] = '\\';
	if (json) {
		memcpy(out + k, "u00", 3);
		k += 3;
	} else {
		out[k++] = 'x';
	}
	out[k++] = hex[c >> 4];
	out[k++] = hex[c & 15];
	return k;
}

/*
 * Writes s[0..n) into out (room for 6n+1 bytes, NUL-terminated); returns the
 * length. Text mode writes \xHH, the form the library already uses in names
 * and payloads for bytes that are not UTF-8; the library also doubles a
 * backslash (docs/events.md), so \xHH in a decoded name always means a byte
 * and a backslash needs nothing more here.
 * JSON mode is for JSON text from jansson (a payload, an argv, --json), which
 * has no control byte inside a string: only what JSON leaves raw changes, DEL
 * and the C1 controls, to \u00HH, the same character in JSON.
 */
static size_t esc_into(char *out, const char *s, size_t n, int json)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t l;

		if (c >= 0x20 && c < 0x7f) {
			out[k++] = (char)c;
			i++;
		} else if (c < 0x20 && json) { /* outside strings: jansson's own layout */
			out[k++] = (char)c;
			i++;
		} else if (c < 0x80) { /* C0 controls and DEL */
			k += esc_byte(out + k, c, json);
			i++;
		} else if ((l = utf8_len(p + i, n - i)) == 0) {
			k += esc_byte(out + k, c, 0); /* not UTF-8: never valid JSON */
			i++;
		} else if (l == 2 && c == 0xc2 && p[i + 1] < 0xa0) { /* U+0080-U+009F */
			if (json) {
				k += esc_byte(out + k, p[i + 1], 1);
			} else {
				k += esc_byte(out + k, c, 0);
				k += esc_byte(out + k, p[i + 1], 0);
			}
			i += 2;
		} else {
			memcpy(out + k, p + i, l);
			k += l;
			i += l;
		}
	}
	out[k] = '\0';
	return k;
}

static char *esc_alloc(const char *s, size_t n, int json)
{
	char *out;

	if (n > (((size_t)-1) - 1) / 8 || !(out = malloc(8 * n + 1))) {
		cli_error("out of memory");
		exit(EXIT_TROUBLE);
	}
	esc_into(out, s, n, json);
	return out;
}

char *esc_str(const char *s)
{
	return esc_alloc(s ? s : "", s ? strlen(s) : 0, 0);
}

void esc_putn(FILE *out, const char *s, size_t n)
{
	char buf[6 * 256 + 1];
	size_t i;

	/* In slices, so that a long string needs no allocation. */
	for (i = 0; i < n;) {
		size_t take = n - i < 256 ? n - i : 256;

		/* Never split a UTF-8 sequence between two slices. */
		while (take < n - i && take > 0 && ((unsigned char)s[i + take] & 0xc0) == 0x80 &&
		       take > 256 - 3)
			take--;
		fwrite(buf, 1, esc_into(buf, s + i, take, 0), out);
		i += take;
	}
}

void esc_put(FILE *out, const char *s)
{
	if (s)
		esc_putn(out, s, strlen(s));
}

void esc_put_json(FILE *out, const char *s)
{
	char *e;

	if (!s)
		return;
	e = esc_alloc(s, strlen(s), 1);
	fputs(e, out);
	free(e);
}
