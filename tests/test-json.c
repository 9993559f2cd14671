/* test-json.c: the hot-path JSON writer, held to jansson: every byte, every number, every overflow.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "json.h"
#include "unit.h"

/* The documented decoding: "\\" is one backslash, "\xHH" one raw byte. */
static size_t undo(const char *s, size_t n, unsigned char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && s[i + 1] == '\\') {
			out[o++] = '\\';
			i++;
		} else if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x') {
			char hex[3] = {s[i + 2], s[i + 3], 0};

			out[o++] = (unsigned char)strtoul(hex, NULL, 16);
			i += 3;
		} else {
			out[o++] = (unsigned char)s[i];
		}
	}
	return o;
}

/* Encode bytes as {"s":...}, parse with jansson, decode, compare. */
static int roundtrip(const unsigned char *in, size_t n)
{
	static char buf[8192];
	static unsigned char back[4096];
	struct st_json j;
	json_error_t err;
	json_t *root;
	size_t m;
	int ok;

	st_json_init(&j, buf, sizeof(buf));
	st_json_obj(&j);
	st_json_key(&j, "s");
	st_json_str(&j, in, n);
	st_json_obj_end(&j);
	if (j.overflow)
		return 0;
	root = json_loadb(buf, st_json_len(&j), 0, &err);
	if (!root) {
		printf("jansson: %s in %.*s\n", err.text, (int)st_json_len(&j), buf);
		return 0;
	}
	m = undo(json_string_value(json_object_get(root, "s")),
		 json_string_length(json_object_get(root, "s")), back);
	ok = m == n && memcmp(back, in, n) == 0;
	json_decref(root);
	return ok;
}

static const char *encode_str(const char *s, size_t n)
{
	static char buf[256];
	struct st_json j;

	st_json_init(&j, buf, sizeof(buf) - 1);
	st_json_str(&j, s, n);
	buf[st_json_len(&j)] = '\0';
	return buf;
}

/*
 * st_json_str_max: a string in at most `max` bytes, or the longest prefix
 * that fits, as valid JSON; nothing (and the writer unchanged) if not even "".
 */
static void str_max(void)
{
	static char buf[256], in[100];
	struct st_json j;
	json_t *root;
	int r, max;

	memset(in, 1, sizeof(in)); /* \u0001: six characters a byte */
	for (max = 8; max <= 64; max += 7) {
		st_json_init(&j, buf, sizeof(buf));
		st_json_arr(&j);
		r = st_json_str_max(&j, in, sizeof(in), (size_t)max);
		CHECK(r == 0, "max %d: cut (got %d)", max, r);
		CHECK(st_json_len(&j) - 1 <= (size_t)max, "max %d: %zu bytes", max,
		      st_json_len(&j) - 1);
		st_json_arr_end(&j);
		root = json_loadb(buf, st_json_len(&j), 0, NULL);
		CHECK(root && json_string_length(json_array_get(root, 0)) == (size_t)(max - 2) / 6,
		      "max %d: the longest prefix, %d bytes", max, (max - 2) / 6);
		json_decref(root);
	}
	st_json_init(&j, buf, sizeof(buf));
	CHECK(st_json_str_max(&j, "abc", 3, 5) == 1 && st_json_len(&j) == 5, "whole in 5 bytes");
	st_json_init(&j, buf, sizeof(buf));
	CHECK(st_json_str_max(&j, "abc", 3, 1) == -1 && st_json_len(&j) == 0 && !j.overflow,
	      "nothing in 1 byte, the writer unchanged");
}

int main(void)
{
	unsigned char all[256], rnd[64];
	char buf[256], small[16];
	struct st_json j;
	int b, i, ok = 1;
	json_t *root;

	/* Every byte value alone, and all of them in one string. */
	for (b = 0; b < 256; b++) {
		unsigned char c = (unsigned char)b;

		all[b] = c;
		if (!roundtrip(&c, 1)) {
			ok = 0;
			printf("byte 0x%02x does not round-trip\n", b);
		}
	}
	CHECK(ok, "every single byte round-trips through jansson");
	CHECK(roundtrip(all, 256), "all 256 bytes in one string round-trip");
	srand(1);
	for (ok = 1, i = 0; i < 20000; i++) {
		size_t n = (size_t)(rand() % 64), k;

		for (k = 0; k < n; k++)
			rnd[k] =
			    (unsigned char)(rand() % 4 == 0 ? 0x80 + rand() % 0x80 : rand() % 256);
		if (!roundtrip(rnd, n))
			ok = 0;
	}
	CHECK(ok, "20000 random byte strings round-trip");

	/* Valid UTF-8 stays as it is; invalid bytes and backslashes are escaped. */
	CHECK_STR(encode_str("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14),
		  "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	CHECK_STR(encode_str("\xc0\x80", 2), "\"\\\\xc0\\\\x80\"");
	CHECK_STR(encode_str("\xed\xa0\x80", 3), "\"\\\\xed\\\\xa0\\\\x80\"");
	CHECK_STR(encode_str("\xf5\x80\x80\x80", 4), "\"\\\\xf5\\\\x80\\\\x80\\\\x80\"");
	CHECK_STR(encode_str("a\\b", 3), "\"a\\\\\\\\b\"");
	CHECK_STR(encode_str("\"\n\t\r\x01\x7f", 6), "\"\\\"\\n\\t\\r\\u0001\\u007f\"");
	CHECK_STR(encode_str("a\0b", 3), "\"a\\\\x00b\"");

	/* Structure, separators and numbers, checked as text and by jansson. */
	st_json_init(&j, buf, sizeof(buf));
	st_json_obj(&j);
	st_json_key(&j, "a");
	st_json_arr(&j);
	st_json_int(&j, -9223372036854775807LL - 1);
	st_json_int(&j, 9223372036854775807LL);
	st_json_obj(&j);
	st_json_key(&j, "b");
	st_json_null(&j);
	st_json_obj_end(&j);
	st_json_arr_end(&j);
	st_json_key(&j, "c");
	st_json_bool(&j, 1);
	st_json_key(&j, "d");
	st_json_uint(&j, 18446744073709551615ULL);
	st_json_key(&j, "e");
	st_json_hex(&j, "\x00\xff", 2);
	st_json_key(&j, "f");
	st_json_hexnum(&j, 0x100000);
	st_json_key(&j, "g");
	st_json_arr(&j);
	st_json_arr_end(&j);
	st_json_obj_end(&j);
	buf[st_json_len(&j)] = '\0';
	CHECK_STR(buf, "{\"a\":[-9223372036854775808,9223372036854775807,{\"b\":null}],"
		       "\"c\":true,\"d\":\"18446744073709551615\",\"e\":\"00ff\","
		       "\"f\":\"0x100000\",\"g\":[]}");
	root = json_loads(buf, 0, NULL);
	CHECK(root != NULL, "jansson parses the structured sample");
	CHECK(json_integer_value(json_array_get(json_object_get(root, "a"), 0)) == INT64_MIN,
	      "INT64_MIN survives");
	json_decref(root);

	/* Overflow: never a byte past the end, and the flag is set. */
	memset(small, 'Z', sizeof(small));
	st_json_init(&j, small, 8);
	st_json_obj(&j);
	st_json_key(&j, "long-key");
	st_json_cstr(&j, "value");
	CHECK(j.overflow, "overflow is flagged");
	CHECK(st_json_len(&j) <= 8, "nothing written past the end");
	for (ok = 1, i = 8; i < 16; i++)
		ok &= small[i] == 'Z';
	CHECK(ok, "the bytes after the buffer are untouched");
	str_max();
	return unit_done();
}
