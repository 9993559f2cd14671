/* fuzz-sockaddr.c: libFuzzer harness for the address formatter: any bytes, any length, valid JSON
 * out. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
	struct sockaddr_storage ss;
	char out[6 * ST_ADDR_MAX + 16]; /* a control byte escapes to six */
	struct st_json j;
	json_t *v;

	if (n > sizeof(ss))
		n = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, data, n);
	if (st_fmt_sockaddr(out, (struct sockaddr *)&ss, (socklen_t)n) > ST_ADDR_MAX)
		abort();
	st_json_init(&j, out, sizeof(out));
	st_json_sockaddr(&j, (struct sockaddr *)&ss, (socklen_t)n);
	if (j.overflow)
		abort();
	v = json_loadb(out, st_json_len(&j), JSON_DECODE_ANY, NULL);
	if (!json_is_string(v))
		abort(); /* the writer produced something a real parser refuses */
	json_decref(v);
	return 0;
}
