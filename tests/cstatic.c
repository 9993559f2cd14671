/* cstatic.c: a statically linked child for t-complete: a raw send and an exit status, with no preload to arm it. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * Complete mode traps every system call of an armed thread. The kernel
 * clears that at exec, and this program cannot load the library again (it
 * is static: LD_PRELOAD means nothing to it), so it must run exactly as it
 * would untraced: were anything still armed, its first system call would
 * kill it with SIGSYS. It sends "static" on the fd named by its argument
 * and exits 42.
 */
int main(int argc, char **argv)
{
	long r;

	if (argc != 2)
		return 2;
	r = syscall(SYS_sendto, atoi(argv[1]), "static", 6, 0, NULL, 0);
	printf("static child: sendto %ld\n", r);
	return 42;
}
