/* mem.c: copies from the traced program's memory that cannot crash it. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/uio.h>
#include <unistd.h>

#include "st.h"

int st_mem_copy(const struct st_mem *m, void *dst, const void *src, size_t n)
{
	struct iovec local, remote;
	ssize_t r;
	int saved;

	if (n == 0)
		return 0;
	if (!src)
		return -1;
	if (m->trusted) {
		memcpy(dst, src, n);
		return 0;
	}
	if (st_sandboxed())
		return -1; /* no system call may be made */
	/* Reading ourselves through the kernel turns a bad pointer into EFAULT. */
	saved = errno;
	local.iov_base = dst;
	local.iov_len = n;
	remote.iov_base = (void *)src;
	remote.iov_len = n;
	r = process_vm_readv(st_pid ? st_pid : getpid(), &local, 1, &remote, 1, 0);
	errno = saved;
	return r == (ssize_t)n ? 0 : -1;
}

/*
 * `count` fields of `each` bytes, one every `stride` bytes from `src`,
 * packed into dst: the msg_len of a thousand sendmmsg messages, say. In a
 * process with more threads, one process_vm_readv takes as many fields as
 * the caller's `iov` array has entries (remote iovecs, one per field), not
 * one system call per field.
 */
int st_mem_copy_strided(const struct st_mem *m, void *dst, const void *src, size_t each,
			size_t stride, size_t count, struct iovec *iov, size_t niov)
{
	const char *s = src;
	char *d = dst;
	size_t done = 0, n, i;
	ssize_t r;
	int saved;

	if (count == 0)
		return 0;
	if (!src)
		return -1;
	if (m->trusted) {
		for (i = 0; i < count; i++)
			memcpy(d + i * each, s + i * stride, each);
		return 0;
	}
	if (st_sandboxed() || niov == 0)
		return -1;
	saved = errno;
	while (done < count) {
		struct iovec local;

		n = count - done < niov ? count - done : niov;
		for (i = 0; i < n; i++) {
			iov[i].iov_base = (void *)(s + (done + i) * stride);
			iov[i].iov_len = each;
		}
		local.iov_base = d + done * each;
		local.iov_len = n * each;
		r = process_vm_readv(st_pid ? st_pid : getpid(), &local, 1, iov, n, 0);
		if (r != (ssize_t)(n * each))
			break;
		done += n;
	}
	errno = saved;
	return done == count ? 0 : -1;
}

/*
 * The kernel read every argument of a successful call, so in a process with
 * one thread nothing can have unmapped them since (but a signal handler,
 * which is not worth a system call per event). With more threads, another
 * one may unmap the memory the moment the call returns: copies then go
 * through the kernel too. A sandbox that forbids process_vm_readv leaves
 * only the plain copy, and then only after success.
 */
void st_mem_for(struct st_mem *m, const struct st_call *c)
{
	m->trusted = !c->failed && (__libc_single_threaded || st_sandboxed());
}
