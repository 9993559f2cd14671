/* payload.c: the first bytes a call sent, when asked for (SENDTRACE_PAYLOAD=N); off by default. */
#include "config.h"

#include <string.h>

#include "st.h"

/*
 * Payloads can hold passwords and tokens, so nothing is recorded unless the
 * user asks, and then at most N bytes (N <= 1024) of what the kernel
 * actually took: only after a successful call, when the buffer was read by
 * the kernel and is safe to read again. The bytes are a JSON string in the
 * trace's reversible escaping (docs/events.md): text stays readable, any
 * other byte is \xHH.
 */
static void st_payload_fields(struct st_call *c, const char *bytes, size_t n, size_t sent)
{
	st_json_key(&c->j, "payload");
	st_json_str(&c->j, bytes, n);
	if (sent > n) {
		st_json_key(&c->j, "payload_truncated");
		st_json_bool(&c->j, 1);
	}
}

/*
 * The bytes are copied into the thread's block with st_mem_copy before they
 * are encoded: another thread may unmap the buffer the moment the call
 * returns, and reading it must never fault.
 */
void st_json_payload(struct st_call *c, const void *buf, size_t len)
{
	struct st_mem m;
	size_t sent, n;
	char *out;

	(void)len;
	if (!st_config.payload || c->failed || c->ret <= 0 || !buf || c->level < 0)
		return;
	out = c->t->gather[c->level];
	sent = (size_t)c->ret;
	n = sent < (size_t)st_config.payload ? sent : (size_t)st_config.payload;
	st_mem_for(&m, c);
	if (st_mem_copy(&m, out, buf, n) != 0)
		return;
	st_payload_fields(c, out, n, sent);
}

void st_json_payload_iov(struct st_call *c, const struct iovec *iov, size_t cnt)
{
	struct iovec v;
	struct st_mem m;
	char *out;
	size_t want, got = 0, i, sent;

	if (!st_config.payload || c->failed || c->ret <= 0 || !iov || c->level < 0)
		return;
	out = c->t->gather[c->level];
	st_mem_for(&m, c);
	sent = (size_t)c->ret;
	want = sent < (size_t)st_config.payload ? sent : (size_t)st_config.payload;
	for (i = 0; i < cnt && got < want; i++) {
		size_t take;

		if (st_mem_copy(&m, &v, iov + i, sizeof(v)) != 0)
			return;
		take = v.iov_len < want - got ? v.iov_len : want - got;
		if (take && (!v.iov_base || st_mem_copy(&m, out + got, v.iov_base, take) != 0))
			return;
		got += take;
	}
	st_payload_fields(c, out, got, sent);
}
