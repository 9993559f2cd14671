/* real.c: binds each interposed function to the next definition, once and safely. */
#include "config.h"

#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "st.h"

struct st_real st_real;

/*
 * dlsym() may allocate, print, or otherwise call back into functions we wrap
 * before the slots are filled. Until a slot is bound, the wrappers fall back
 * to the raw system call (see wrap.c), so nothing recurses into dlsym.
 */
static ST_TLS int st_binding;

#define ST_BIND(fn) st_real.fn = (__typeof__(st_real.fn))dlsym(RTLD_NEXT, #fn)

void st_bind(void)
{
	if (st_binding || st_real.write)
		return;
	st_binding = 1;
	ST_BIND(send);
	ST_BIND(sendto);
	ST_BIND(sendmsg);
	ST_BIND(sendmmsg);
	ST_BIND(writev);
	ST_BIND(sendfile);
	ST_BIND(sendfile64);
	ST_BIND(close);
	ST_BIND(dup2);
	ST_BIND(dup3);
	ST_BIND(prctl);
	ST_BIND(syscall);
	ST_BIND(socket);
	ST_BIND(socketpair);
	ST_BIND(accept);
	ST_BIND(accept4);
	ST_BIND(connect);
	ST_BIND(setsockopt);
	ST_BIND(bind);
	ST_BIND(shutdown);
	ST_BIND(dup);
	ST_BIND(pipe);
	ST_BIND(pipe2);
	ST_BIND(fcntl);
	ST_BIND(fcntl64);
	ST_BIND(fclose);
	ST_BIND(freopen);
	ST_BIND(freopen64);
	ST_BIND(fcloseall);
	ST_BIND(pclose);
	ST_BIND(daemon);
	ST_BIND(abort);
	ST_BIND(execve);
	ST_BIND(execvp);
	ST_BIND(execvpe);
	ST_BIND(fexecve);
	ST_BIND(_exit);
	ST_BIND(_Exit);
	ST_BIND(setuid);
	ST_BIND(seteuid);
	ST_BIND(setreuid);
	ST_BIND(setresuid);
	ST_BIND(recvmsg);
	ST_BIND(recvmmsg);
	ST_BIND(read);
	ST_BIND(readv);
	ST_BIND(recvfrom);
	ST_BIND(poll);
	ST_BIND(select);
	ST_BIND(epoll_wait);
	ST_BIND(nanosleep);
	ST_BIND(clock_nanosleep);
	ST_BIND(sigaction);
	ST_BIND(signal);
	ST_BIND(sigprocmask);
	ST_BIND(pthread_sigmask);
	ST_BIND(longjmp);
	ST_BIND(_longjmp);
	ST_BIND(siglongjmp);
	ST_BIND(__longjmp_chk);
	/* Bound last: a non-NULL write marks the whole table done. */
	ST_BIND(write);
	st_binding = 0;
}

ssize_t st_raw_write(int fd, const void *buf, size_t n)
{
	if (st_real.write)
		return st_real.write(fd, buf, n);
	return st_sys(SYS_write, fd, buf, n);
}
