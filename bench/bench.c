/* bench.c: the send-path workloads of `make bench`: one workload, N threads, ns per traced call. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

static long iters;
static const char *workload;
static char sfpath[256];

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void tcp_pair(int *c, int *s)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	int lis = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (lis < 0 || bind(lis, (void *)&a, l) || listen(lis, 1) ||
	    getsockname(lis, (void *)&a, &l))
		die("listen");
	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*c, (void *)&a, l))
		die("connect");
	*s = accept(lis, NULL, NULL);
	setsockopt(*c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	close(lis);
}

static void drain_all(int fd, long bytes, char *buf, size_t cap)
{
	while (bytes > 0) {
		ssize_t r = read(fd, buf, cap < (size_t)bytes ? cap : (size_t)bytes);

		if (r <= 0)
			die("read");
		bytes -= r;
	}
}

struct drain {
	int fd;
	long bytes;
};

static void *drainer(void *arg)
{
	struct drain *d = arg;
	static __thread char buf[1 << 16];

	drain_all(d->fd, d->bytes, buf, sizeof(buf));
	return NULL;
}

static void *worker(void *arg);

/* The send loop under 20 frames of the program's own, for backtrace cost. */
__attribute__((noinline)) static void *deep(int depth)
{
	void *r;

	if (depth > 0) {
		r = deep(depth - 1);
		__asm__ volatile("" ::: "memory");
		return r;
	}
	return worker((void *)"send");
}

/* Each thread runs the loop on its own sockets; the traced call is counted. */
static void *worker(void *arg)
{
	char buf[1 << 16] = {0};
	long i;
	int a, b, sp[2];

	if (!arg && !strcmp(workload, "senddeep"))
		return deep(20);
	if (!strcmp(workload, "send") || arg) {
		socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
		for (i = 0; i < iters; i++) {
			send(sp[0], buf, 64, 0);
			recv(sp[1], buf, 64, 0);
		}
	} else if (!strcmp(workload, "sendto")) {
		struct sockaddr_in to = {.sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t l = sizeof(to);

		a = socket(AF_INET, SOCK_DGRAM, 0);
		b = socket(AF_INET, SOCK_DGRAM, 0);
		if (bind(b, (void *)&to, l) || getsockname(b, (void *)&to, &l))
			die("udp");
		for (i = 0; i < iters; i++) {
			sendto(a, buf, 64, 0, (void *)&to, l);
			recv(b, buf, 64, 0);
		}
	} else if (!strcmp(workload, "sendconn")) {
		/* A connected UDP socket: a peer in the fd table, for the filters' peer term. */
		struct sockaddr_in to = {.sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t l = sizeof(to);

		a = socket(AF_INET, SOCK_DGRAM, 0);
		b = socket(AF_INET, SOCK_DGRAM, 0);
		if (bind(b, (void *)&to, l) || getsockname(b, (void *)&to, &l) ||
		    connect(a, (void *)&to, l))
			die("udp");
		for (i = 0; i < iters; i++) {
			send(a, buf, 64, 0);
			recv(b, buf, 64, 0);
		}
	} else if (!strcmp(workload, "sendmsg")) {
		char c1[16], c2[16], c3[32], cbuf[CMSG_SPACE(sizeof(int))], rbuf[64];
		struct iovec iov[3] = {{c1, 16}, {c2, 16}, {c3, 32}}, riov = {rbuf, 64};
		struct msghdr m = {.msg_iov = iov,
				   .msg_iovlen = 3,
				   .msg_control = cbuf,
				   .msg_controllen = sizeof(cbuf)};
		struct msghdr r = {.msg_iov = &riov, .msg_iovlen = 1};
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		int fd0 = 0;

		socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd0, sizeof(int));
		for (i = 0; i < iters; i++) {
			char rc[CMSG_SPACE(sizeof(int))];
			struct cmsghdr *got;

			sendmsg(sp[0], &m, 0);
			r.msg_control = rc;
			r.msg_controllen = sizeof(rc);
			recvmsg(sp[1], &r, 0);
			got = CMSG_FIRSTHDR(&r);
			if (got && got->cmsg_type == SCM_RIGHTS) {
				int fd;

				memcpy(&fd, CMSG_DATA(got), sizeof(fd));
				close(fd);
			}
		}
	} else if (!strcmp(workload, "rawsend")) {
		/* A send no export sees (syscall(2)): recorded only in complete mode. */
		socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
		for (i = 0; i < iters; i++) {
			syscall(SYS_sendto, sp[0], buf, 64, 0, NULL, 0);
			recv(sp[1], buf, 64, 0);
		}
	} else if (!strcmp(workload, "pipe")) {
		/* No send at all: what complete mode costs the system calls it does not record. */
		if (pipe(sp))
			die("pipe");
		for (i = 0; i < iters; i++) {
			if (write(sp[1], buf, 64) != 64 || read(sp[0], buf, 64) != 64)
				die("pipe");
		}
	} else if (!strcmp(workload, "rawpipe")) {
		/* The same by syscall(2): in complete mode, two traps per iteration. */
		if (pipe(sp))
			die("pipe");
		for (i = 0; i < iters; i++) {
			if (syscall(SYS_write, sp[1], buf, 64) != 64 ||
			    syscall(SYS_read, sp[0], buf, 64) != 64)
				die("pipe");
		}
	} else if (!strcmp(workload, "devnull")) {
		/* write() to a file: not traced by default; what it costs is the fd check. */
		a = open("/dev/null", O_WRONLY);
		for (i = 0; i < iters; i++)
			write(a, buf, 64);
	} else if (!strcmp(workload, "write") || !strcmp(workload, "writev")) {
		struct iovec iov[2] = {{buf, 32}, {buf, 32}};

		tcp_pair(&a, &b);
		for (i = 0; i < iters; i++) {
			if (workload[5] == 'v')
				writev(a, iov, 2);
			else
				write(a, buf, 64);
			drain_all(b, 64, buf, 64);
		}
	} else if (!strcmp(workload, "sendfile")) {
		struct drain d;
		pthread_t t;
		int f = open(sfpath, O_RDONLY);

		tcp_pair(&a, &b);
		d.fd = b;
		d.bytes = iters << 20;
		pthread_create(&t, NULL, drainer, &d);
		for (i = 0; i < iters; i++) {
			off_t off = 0;
			long left = 1 << 20;

			while (left > 0) {
				ssize_t w = sendfile(a, f, &off, (size_t)left);

				if (w <= 0)
					die("sendfile");
				left -= w;
			}
		}
		pthread_join(t, NULL);
		close(f);
	} else {
		fprintf(stderr, "bench: unknown workload %s\n", workload);
		exit(2);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	pthread_t t[64];
	int threads, i;
	double ns;

	if (argc != 4) {
		fprintf(stderr, "usage: bench WORKLOAD THREADS ITERATIONS\n"
				"workloads: send senddeep sendto sendconn sendmsg write writev "
				"devnull sendfile rawsend pipe rawpipe\n");
		return 2;
	}
	workload = argv[1];
	threads = atoi(argv[2]);
	iters = atol(argv[3]);
	if (threads < 1 || threads > 64 || iters < 1)
		return 2;
	if (!strcmp(workload, "sendfile")) {
		static char mb[1 << 20];
		int f;

		snprintf(sfpath, sizeof(sfpath), "%s/st-bench-%d.dat",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
		f = open(sfpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (f < 0 || write(f, mb, sizeof(mb)) != (ssize_t)sizeof(mb))
			die("bench file");
		close(f);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (sfpath[0])
		unlink(sfpath);
	ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	/* Wall time per iteration of one thread's loop. */
	printf("%.1f\n", ns / (double)iters);
	return 0;
}
