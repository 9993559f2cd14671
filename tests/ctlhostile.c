/* ctlhostile.c: programs that do what daemons do (exec, spawn, fork, close every fd, sandbox themselves) while `sendtrace ctl` switches them. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <spawn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <time.h>
#include <unistd.h>

#include "../lib/ctlpage.h"

/*
 * Each mode is one scenario of the ctl tests (tests/test-ctl-*.sh). They
 * coordinate with the test through files only (a pid file written whole,
 * GO and STOP files polled with stat), so that the program makes no call
 * the test did not ask for, and say what they saw on stdout: the part that
 * must be the same traced or not.
 */
extern char **environ;

static int exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static void nap_ms(long ms)
{
	nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000}, NULL);
}

/* "PID [CHILD]" into `path`, renamed into place whole. */
static void pidfile(const char *path, pid_t a, pid_t b)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		exit(90);
	if (b)
		fprintf(f, "%d %d\n", (int)a, (int)b);
	else
		fprintf(f, "%d\n", (int)a);
	fclose(f);
	rename(tmp, path);
}

/* One datagram each way round a socketpair: 1 if it went through. */
static int ping(int sp[2], size_t len)
{
	static char buf[512];
	char in[512];

	if (send(sp[0], buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len)
		return 0;
	return recv(sp[1], in, sizeof(in), MSG_DONTWAIT) == (ssize_t)len;
}

/* ---- loop STOP PIDFILE [THREADS [LEN]]: send every 2 ms until STOP ---- */

static const char *stop_path;
static size_t loop_len = 7;

static void *sender(void *arg)
{
	int sp[2];

	(void)arg;
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) != 0)
		exit(91);
	while (!exists(stop_path)) {
		ping(sp, loop_len);
		nap_ms(2);
	}
	close(sp[0]);
	close(sp[1]);
	return NULL;
}

static int mode_loop(int argc, char **argv)
{
	pthread_t t[16];
	int n = argc > 4 ? atoi(argv[4]) : 0, i;

	if (argc < 4)
		return 2;
	if (argc > 5)
		loop_len = (size_t)atoi(argv[5]);
	stop_path = argv[2];
	for (i = 0; i < n && i < 16; i++)
		pthread_create(&t[i], NULL, sender, NULL);
	pidfile(argv[3], getpid(), 0);
	sender(NULL);
	for (i = 0; i < n && i < 16; i++)
		pthread_join(t[i], NULL);
	return 0;
}

/* ---- execat GO PIDFILE PROG ARGS...: send until GO, then exec PROG (same pid) ---- */

static int mode_execat(int argc, char **argv)
{
	int sp[2];

	if (argc < 5 || socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) != 0)
		return 2;
	pidfile(argv[3], getpid(), 0);
	while (!exists(argv[2])) {
		ping(sp, 11);
		nap_ms(2);
	}
	execv(argv[4], argv + 4);
	return 127;
}

/* ---- spawn STOP PIDFILE PROG ARGS...: posix_spawn (vfork and exec), then send ---- */

static int mode_spawn(int argc, char **argv)
{
	pid_t child;
	int sp[2], status, r;

	if (argc < 5 || socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) != 0)
		return 2;
	r = posix_spawn(&child, argv[4], NULL, NULL, argv + 4, environ);
	if (r != 0) {
		fprintf(stderr, "posix_spawn: %s\n", strerror(r));
		return 3;
	}
	pidfile(argv[3], getpid(), child);
	while (!exists(argv[2])) {
		ping(sp, 13);
		nap_ms(2);
	}
	if (waitpid(child, &status, 0) != child)
		return 4;
	printf("child status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}

/*
 * ---- forks STOP PIDFILE THREADS: threads send; the main thread forks
 * children (fork, then raw SYS_fork) that send 20 each and exit; until STOP ----
 */
static int mode_forks(int argc, char **argv)
{
	pthread_t t[16];
	int n, i, sp[2], made = 0, bad = 0;

	if (argc < 5 || socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) != 0)
		return 2;
	n = atoi(argv[4]);
	stop_path = argv[2];
	for (i = 0; i < n && i < 16; i++)
		pthread_create(&t[i], NULL, sender, NULL);
	pidfile(argv[3], getpid(), 0);
	while (!exists(stop_path)) {
		int raw = made % 2, status, k;
		pid_t c = raw ? (pid_t)syscall(SYS_fork) : fork();

		if (c == 0) {
			for (k = 0; k < 20; k++)
				ping(sp, 17);
			if (raw)
				_exit(0); /* no atexit in a raw child: it has no handlers of its own */
			exit(0);
		}
		if (c < 0 || waitpid(c, &status, 0) != c || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			bad++;
		made++;
		ping(sp, 19);
		nap_ms(5);
	}
	for (i = 0; i < n && i < 16; i++)
		pthread_join(t[i], NULL);
	printf("forks bad %d\n", bad);
	fprintf(stderr, "forks made %d\n", made);
	return 0;
}

/*
 * ---- rawfork GO STOP PIDFILE: a child made by syscall(SYS_fork) (no atfork
 * handler); both send until STOP. The child's first traced call is after GO ----
 */
static int mode_rawfork(int argc, char **argv)
{
	int sp[2], status;
	pid_t c;

	if (argc < 5 || socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) != 0)
		return 2;
	ping(sp, 23);
	c = (pid_t)syscall(SYS_fork);
	if (c < 0)
		return 3;
	if (c == 0) {
		while (!exists(argv[2]))
			nap_ms(2);
		while (!exists(argv[3])) {
			ping(sp, 29);
			nap_ms(2);
		}
		exit(0);
	}
	pidfile(argv[4], getpid(), c);
	while (!exists(argv[3])) {
		ping(sp, 31);
		nap_ms(2);
	}
	if (waitpid(c, &status, 0) != c)
		return 4;
	printf("child status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}

/*
 * ---- closeall GO STOP PIDFILE: closes every fd (close_range, then a close
 * loop) and dup2()s over fds 0 and 2, dormant, then again after GO (ctl on).
 * Says on stdout how each step went ----
 */
static void close_everything(int how)
{
	int fd;

	if (how == 0) {
		if (syscall(SYS_close_range, 3u, ~0u, 0) != 0)
			printf("close_range failed: %s\n", strerror(errno));
	} else {
		for (fd = 3; fd < 4096; fd++)
			close(fd);
	}
}

static void closeall_round(const char *what)
{
	int sp[2], ok = 0, i, how;

	for (how = 0; how < 2; how++) {
		if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) != 0) {
			printf("%s: socketpair failed\n", what);
			return;
		}
		for (i = 0; i < 50; i++)
			ok += ping(sp, 37);
		close_everything(how);
		/* Closed: both numbers are free again, and a send on them fails as untraced. */
		errno = 0;
		i = (int)send(sp[0], "x", 1, MSG_DONTWAIT);
		printf("%s/%s: %d pings, then send %d errno %s\n", what, how ? "loop" : "close_range",
		       ok, i, strerror(errno));
		ok = 0;
	}
	/* dup2 over fd 0 and fd 2: the program's sockets there now. */
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) != 0)
		return;
	if (dup2(sp[0], 0) != 0 || dup2(sp[1], 2) != 2)
		printf("%s: dup2 failed\n", what);
	for (i = 0; i < 50; i++)
		ok += send(0, "abc", 3, MSG_DONTWAIT) == 3 && recv(2, (char[8]){0}, 8, 0) == 3;
	printf("%s: dup2 pings %d\n", what, ok);
	fflush(stdout);
}

static int mode_closeall(int argc, char **argv)
{
	if (argc < 5)
		return 2;
	closeall_round("dormant");
	pidfile(argv[4], getpid(), 0);
	while (!exists(argv[2]))
		nap_ms(5);
	closeall_round("on");
	while (!exists(argv[3]))
		nap_ms(5);
	return 0;
}

/*
 * ---- errno STOP PIDFILE THREADS: every thread checks that a traced call
 * leaves errno as untraced: untouched after success, the call's after a
 * failure. Says how many calls and how many mismatches ----
 */
static long errno_calls, errno_bad;

static void *errno_worker(void *arg)
{
	int sp[2], pfd[2], i = 0;
	char in[64];

	(void)arg;
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) != 0 || pipe(pfd) != 0)
		exit(92);
	while (!exists(stop_path)) {
		errno = 777 + i % 5;
		if (send(sp[0], "abcd", 4, MSG_DONTWAIT) != 4 || errno != 777 + i % 5)
			__atomic_fetch_add(&errno_bad, 1, __ATOMIC_RELAXED);
		recv(sp[1], in, sizeof(in), MSG_DONTWAIT);
		errno = 0;
		if (send(-1, "x", 1, 0) != -1 || errno != EBADF)
			__atomic_fetch_add(&errno_bad, 1, __ATOMIC_RELAXED);
		errno = ENOTSOCK;
		if (write(pfd[1], "xy", 2) != 2 || errno != ENOTSOCK)
			__atomic_fetch_add(&errno_bad, 1, __ATOMIC_RELAXED);
		read(pfd[0], in, sizeof(in));
		errno = 4242;
		if (sendto(sp[0], "q", 1, MSG_DONTWAIT, (struct sockaddr *)&(struct sockaddr){0}, 1) !=
			-1 ||
		    errno == 4242)
			__atomic_fetch_add(&errno_bad, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&errno_calls, 4, __ATOMIC_RELAXED);
		/* At most 2000 calls a second a thread: a trace of a few MB a second when on. */
		i++;
		nap_ms(2);
	}
	return NULL;
}

static int mode_errno(int argc, char **argv)
{
	pthread_t t[16];
	int n, i;

	if (argc < 5)
		return 2;
	stop_path = argv[2];
	n = atoi(argv[4]);
	for (i = 0; i < n && i < 16; i++)
		pthread_create(&t[i], NULL, errno_worker, NULL);
	pidfile(argv[3], getpid(), 0);
	errno_worker(NULL);
	for (i = 0; i < n && i < 16; i++)
		pthread_join(t[i], NULL);
	printf("errno mismatches %ld\n", errno_bad);
	fprintf(stderr, "errno calls %ld\n", errno_calls);
	return errno_bad != 0;
}

/*
 * ---- seccomp strict|kill PIDFILE: sandboxes itself (strict mode, or an
 * allowlist that kills), then, for each byte read on stdin, sends on a
 * socketpair ('s') or ends ('q'). Whatever the tracer does, the process
 * must end with status 0 ----
 */
#define ALLOW(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
		  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static int mode_seccomp(int argc, char **argv)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    ALLOW(__NR_read),
	    ALLOW(__NR_write),
	    ALLOW(__NR_sendto),
	    ALLOW(__NR_recvfrom),
	    ALLOW(__NR_exit),
	    ALLOW(__NR_exit_group),
	    ALLOW(__NR_rt_sigreturn),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
	int sp[2], strict, sent = 0;
	char c, in[16], msg[32];

	if (argc < 4 || socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0)
		return 2;
	strict = !strcmp(argv[2], "strict");
	ping(sp, 3); /* a call traced (or not) before the sandbox */
	recv(sp[1], in, sizeof(in), MSG_DONTWAIT);
	pidfile(argv[3], getpid(), 0);
	fflush(NULL);
	if (strict ? prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) != 0
		   : prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
			 prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
		return 3;
	while (read(0, &c, 1) == 1 && c != 'q') {
		if (c != 's')
			continue;
		if (write(sp[0], "abc", 3) == 3 && read(sp[1], in, 3) == 3)
			sent++;
	}
	/* No stdio, no exit_group under strict mode: the bytes, then the exit system call. */
	msg[0] = 's';
	msg[1] = 'e';
	msg[2] = 'n';
	msg[3] = 't';
	msg[4] = ' ';
	msg[5] = (char)('0' + sent / 100 % 10);
	msg[6] = (char)('0' + sent / 10 % 10);
	msg[7] = (char)('0' + sent % 10);
	msg[8] = '\n';
	if (write(1, msg, 9) != 9)
		syscall(SYS_exit, 5);
	syscall(SYS_exit, 0);
	return 0;
}

/* ---- mkpage PATH PID START ON: a control page as a process of PID and START left it ---- */

static int mode_mkpage(int argc, char **argv)
{
	static struct st_ctlpage p;
	char buf[ST_CTL_SIZE] = {0};
	int fd;

	if (argc < 6)
		return 2;
	p.magic = ST_CTL_MAGIC;
	p.size = sizeof(p);
	p.pid = atoi(argv[3]);
	p.uid = (uint32_t)geteuid();
	p.starttime = strtoull(argv[4], NULL, 10);
	p.on = (uint32_t)atoi(argv[5]);
	p.backtrace = p.sample = -1;
	p.count[ST_COUNT_EVENTS] = 123456;
	strcpy(p.comm, "stale");
	memcpy(buf, &p, sizeof(p));
	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		return 3;
	return close(fd) != 0;
}

/*
 * ---- mapfake DIR junk|small|nlink STOP PIDFILE: maps a file named as this
 * process's page that is not one (junk bytes, too small, or a second link
 * of a page), so that ctl finds it in /proc/PID/maps ----
 */
static int mode_mapfake(int argc, char **argv)
{
	char path[4096], other[4200], buf[ST_CTL_SIZE];
	size_t len = sizeof(buf);
	void *m;
	int fd;

	if (argc < 6)
		return 2;
	snprintf(path, sizeof(path), "%s/" ST_CTL_PREFIX "%d", argv[2], (int)getpid());
	memset(buf, 'J', sizeof(buf));
	if (!strcmp(argv[3], "small")) {
		len = 100;
	} else if (!strcmp(argv[3], "nlink")) {
		struct st_ctlpage *p = (struct st_ctlpage *)buf;

		memset(buf, 0, sizeof(buf));
		p->magic = ST_CTL_MAGIC;
		p->size = sizeof(*p);
		p->pid = getpid();
		p->backtrace = p->sample = -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return 3;
	if (!strcmp(argv[3], "nlink")) {
		snprintf(other, sizeof(other), "%s.other", argv[2]);
		if (link(path, other) != 0)
			return 4;
	}
	m = mmap(NULL, ST_CTL_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return 5;
	close(fd);
	pidfile(argv[5], getpid(), 0);
	while (!exists(argv[4]))
		nap_ms(5);
	return 0;
}

/*
 * ---- nofile: how many fds it can still open (until EMFILE), then a send
 * on a socketpair made after closing them. What it says must not change
 * with the library loaded dormant: it holds no fd ----
 */
static int mode_nofile(int argc, char **argv)
{
	int fds[4096], n = 0, e, sp[2];

	(void)argc;
	(void)argv;
	while (n < 4096 && (fds[n] = open("/dev/null", O_RDONLY)) >= 0)
		n++;
	e = errno;
	printf("opened %d, then %s\n", n, n < 4096 ? strerrorname_np(e) : "enough");
	while (n > 0)
		close(fds[--n]);
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) != 0)
		printf("socketpair: %s\n", strerrorname_np(errno));
	else
		printf("ping %d\n", ping(sp, 47));
	return 0;
}

/*
 * ---- dropuid UID STOP PIDFILE: a daemon started as root that makes a
 * traced call (its page is made, root's), then drops to UID for good, and
 * sends until STOP. The pid file is written after the drop ----
 */
static int mode_dropuid(int argc, char **argv)
{
	uid_t uid;
	int sp[2];

	if (argc < 5 || socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) != 0)
		return 2;
	uid = (uid_t)atoi(argv[2]);
	ping(sp, 53);
	if (setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0)
		return 3;
	pidfile(argv[4], getpid(), 0);
	while (!exists(argv[3])) {
		ping(sp, 59);
		nap_ms(2);
	}
	return 0;
}

/* ---- idle GO STOP PIDFILE: one call, none until GO, then one every 5 ms until STOP ---- */

static int mode_idle(int argc, char **argv)
{
	int sp[2];

	if (argc < 5 || socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) != 0)
		return 2;
	ping(sp, 41);
	pidfile(argv[4], getpid(), 0);
	while (!exists(argv[2]))
		nap_ms(5);
	while (!exists(argv[3])) {
		ping(sp, 43);
		nap_ms(5);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} modes[] = {
	    {"loop", mode_loop},	 {"execat", mode_execat}, {"spawn", mode_spawn},
	    {"forks", mode_forks},	 {"rawfork", mode_rawfork}, {"closeall", mode_closeall},
	    {"errno", mode_errno},	 {"seccomp", mode_seccomp}, {"mkpage", mode_mkpage},
	    {"mapfake", mode_mapfake}, {"idle", mode_idle},	    {"nofile", mode_nofile},
	    {"dropuid", mode_dropuid},
	};
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; argc > 1 && i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(argv[1], modes[i].name))
			return modes[i].fn(argc, argv);
	fprintf(stderr, "usage: ctlhostile MODE ARGS...\n");
	return 2;
}
