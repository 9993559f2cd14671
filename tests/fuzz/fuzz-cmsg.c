/* fuzz-cmsg.c: libFuzzer harness for the msghdr/cmsg decoder: arbitrary control data and names,
 * valid JSON out. */
#define _GNU_SOURCE
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <jansson.h>

#include "st.h"

pid_t st_pid; /* mem.c reads it; lives in init.c in the library */
int st_sandboxed(void) /* sandbox.c in the library: never here */
{
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
	static char buf[ST_EVENT_MAX];
	struct st_mem m = {1}; /* as after a successful call: plain copies */
	struct st_msginfo mi;
	struct iovec iov[2] = {{(void *)data, n}, {NULL, 0}};
	struct msghdr msg, copy;
	struct st_json j;
	unsigned char *control = NULL;
	size_t namelen, ctl;
	json_t *v;

	if (n < 2)
		return 0;
	/* First byte: how much is the name; the rest is control data. */
	namelen = data[0] % 40;
	if (namelen > n - 1)
		namelen = n - 1;
	ctl = n - 1 - namelen;
	/* An exact-size copy, so reading past msg_controllen is caught by ASan. */
	if (ctl) {
		control = malloc(ctl);
		memcpy(control, data + 1 + namelen, ctl);
	}
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = namelen ? (void *)(data + 1) : NULL;
	msg.msg_namelen = (socklen_t)namelen;
	msg.msg_iov = iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = ctl;
	memset(&mi, 0, sizeof(mi));
	st_json_init(&j, buf, sizeof(buf) - 1);
	st_json_obj(&j);
	(void)st_json_msghdr(&j, &m, &msg, &mi, &copy);
	st_json_obj_end(&j);
	if (!j.overflow) {
		v = json_loadb(buf, st_json_len(&j), 0, NULL);
		if (!v)
			abort();
		json_decref(v);
	}
	free(control);
	return 0;
}
