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
