/* sys.c: the library's own system calls, made directly: never through its own syscall() wrapper. */
#include "config.h"

#include <errno.h>

#include "st.h"

/*
 * The library exports syscall() (to see seccomp filters and raw closes go
 * in), so its own calls to syscall() would come back into that wrapper.
 * These make the system call themselves and set errno as libc does.
 */
#if defined(__x86_64__)
long st_sud_sys6(long nr, long a, long b, long c, long d, long e, long f) ST_HIDDEN;
#endif

long st_sys6(long nr, long a, long b, long c, long d, long e, long f)
{
	long r;
#if defined(__x86_64__)
	/* From complete.c's allowed range: in complete mode, the library's own calls never trap. */
	r = st_sud_sys6(nr, a, b, c, d, e, f);
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;

	__asm__ volatile("svc #0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	r = x0;
#else
#error "st_sys6: add this architecture's system call instruction"
#endif
	if ((unsigned long)r > -4096UL) {
		errno = (int)-r;
		return -1;
	}
	return r;
}
