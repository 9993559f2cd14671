/* t-fdsafe.c: no byte of the library's (warnings, chunk padding) ever reaches an fd of the program's. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/*
 * (a) A daemon closes every fd, 0, 1 and 2 included, and its own sockets
 * then take those numbers. A library that still treats fd 2 as "stderr"
 * sends its warnings to the daemon's peer, in the middle of its protocol.
 * Two ways to make the library want to warn after the close loop: with
 * backtraces on, libunwind's pipe (kept around fd 990) is gone; with
 * RLIMIT_FSIZE just above the trace file's size, the next chunk cannot be
 * appended.
 *
 * (b) A thread dup2()s a socket over the trace fd and closes it again, over
 * and over, while another thread sends large events (payload capture on) so
 * that the library appends chunks of padding often. Checking the fd and then
 * writing to it is a race: the padding lands in the socket.
 *
 * (c) The race of (b), with our dup2() placed at the worst instant every
 * time, through a seccomp user notification (see below).
 */

/* Everything the peer has received so far, up to `cap` bytes. */
static size_t drain(int peer, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got < cap && (n = recv(peer, buf + got, cap - got, MSG_DONTWAIT)) > 0)
		got += (size_t)n;
	return got;
}

/* A socket of the program's own at number `target`, its peer far from the low numbers. */
static int own_socket_at(int target)
{
	int p[2], a, b;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) != 0)
		exit(90);
	a = fcntl(p[0], F_DUPFD, 100);
	b = fcntl(p[1], F_DUPFD, 100);
	close(p[0]);
	close(p[1]);
	if (a < 0 || b < 0 || dup2(a, target) != target)
		exit(91);
	close(a);
	return b;
}

static void closeall_workload(const char *mode)
{
	static const char *const want[3] = {"zero", "out\n", "err\n"};
	static char buf[65536];
	int peer[3], fd, max, i, zbad = 0;
	size_t zs = 0;
	struct rlimit rl;
	const char *res = getenv("TH_RESULTS");
	int sp[2];

	/* Some events before, so that the library is well under way. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	for (i = 0; i < 10; i++)
		send(sp[0], "x", 1, 0);

	getrlimit(RLIMIT_NOFILE, &rl);
	max = rl.rlim_cur > 65536 ? 65536 : (int)rl.rlim_cur;
	for (fd = 0; fd < max; fd++)
		close(fd);
	for (i = 0; i < 3; i++)
		peer[i] = own_socket_at(i);

	if (!strcmp(mode, "fsize")) {
		struct stat sb;

		/* A byte above what the file holds now: the next chunk does not fit. */
		if (stat(getenv("SENDTRACE_OUTPUT"), &sb) != 0)
			exit(92);
		if (getrlimit(RLIMIT_FSIZE, &rl) != 0)
			exit(93);
		rl.rlim_cur = (rlim_t)sb.st_size + 1;
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			exit(94);
		/* Hundreds of events: several chunks' worth. The peer reads as it
		 * goes (each tiny skb costs the socket buffer far more than a byte). */
		for (i = 0; i < 600; i++) {
			if (send(0, "z", 1, 0) != 1)
				exit(95);
			if (i % 50 == 49) {
				size_t n = drain(peer[0], buf, sizeof(buf));

				zs += n;
				if (strspn(buf, "z") < n)
					zbad = 1;
			}
		}
	}
	/* Fds 0, 1 and 2 are sockets now; the program speaks on each. */
	if (send(0, want[0], 4, 0) != 4 || write(1, want[1], 4) != 4 || write(2, want[2], 4) != 4)
		exit(96);
	/* And once more, in case the library only notices on a later call. */
	send(0, "", 0, 0);

	{
		FILE *f = fopen(res, "a");

		if (!f)
			exit(97);
		for (i = 0; i < 3; i++) {
			size_t n = drain(peer[i], buf, sizeof(buf));
			size_t extra = !strcmp(mode, "fsize") && i == 0 ? 600 - zs : 0;
			int same = n == extra + 4 && !memcmp(buf + extra, want[i], 4);

			if (same && extra)
				same = strspn(buf, "z") == extra;
			if (i == 0 && zbad)
				same = 0;
			fprintf(f, "peer%d %zu same%d %d\n", i, n + (i == 0 ? zs : 0), i, same);
			if (!same)
				fprintf(f, "text%d %.*s\n", i, (int)(n > 200 ? 200 : n), buf);
		}
		fclose(f);
	}
}

/* ---- (b) dup2 over the trace fd while another thread sends ---- */

/*
 * Each attempt is a fork()ed child of the traced program: the first collision
 * decides an attempt (a library that writes its padding into the socket, or
 * one that gives up tracing), so many short attempts catch the race far more
 * reliably than a few long ones.
 */
#define RACE_RUNS     10
#define RACE_ATTEMPTS 4
#define RACE_MS	      80
#define HOLD_US	      5 /* how long our socket sits on the library's fd number */
#define SPAN	      2 /* fd numbers polled from the library's first one upwards */

static int race_sock, race_peer;
static volatile int race_stop;
static long race_sent, race_got, race_foreign, race_swaps, race_fd_seen;

/* The library's trace fd: the one whose link names the trace file. */
static int find_trace_fd(const char *path)
{
	char link[300], target[4096];
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	int found = -1;

	while (dir && (d = readdir(dir))) {
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", d->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (!strcmp(target, path) && atoi(d->d_name) != dirfd(dir)) {
			found = atoi(d->d_name);
			break;
		}
	}
	if (dir)
		closedir(dir);
	return found;
}

/*
 * What both races start from: the payload, the program's socket pair whose
 * peer counts bytes, and a UDP socket to a receiver nobody reads (the big
 * events go there; the kernel drops what does not fit).
 */
static void race_setup(const char *path, char *buf, size_t size, char *resolved, int *udp,
		       int *rx)
{
	struct sockaddr_storage to;
	unsigned int tolen;
	size_t i;
	int sp[2];

	for (i = 0; i < size; i++)
		buf[i] = (char)('A' + i % 26);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0 || !realpath(path, resolved))
		exit(90);
	*rx = th_udp_receiver(AF_INET, &to, &tolen);
	*udp = socket(AF_INET, SOCK_DGRAM, 0);
	if (*udp < 0 || connect(*udp, (struct sockaddr *)&to, tolen) != 0)
		exit(91);
	race_sock = sp[0];
	race_peer = sp[1];
}

static void *race_reader(void *arg)
{
	static char buf[65536];
	ssize_t n, i;

	(void)arg;
	while ((n = recv(race_peer, buf, sizeof(buf), 0)) > 0) {
		race_got += n;
		for (i = 0; i < n; i++)
			if (buf[i] < 'A' || buf[i] > 'Z')
				race_foreign++;
	}
	return NULL;
}

static void spin_us(long us)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000000 + (t.tv_nsec - t0.tv_nsec) / 1000 < us);
}

/*
 * The library keeps its fd at one of a few numbers (it reopens the file at
 * the lowest free number from its base upwards). fstat() on those numbers is
 * cheap enough to catch a freshly reopened fd before the library writes to
 * it; /proc is scanned again only when none of them is the file.
 */
static void *race_swapper(void *arg)
{
	const char *path = arg;
	struct stat want, sb;
	int base = find_trace_fd(path), fd, idle = 0;

	race_fd_seen = base >= 0;
	if (stat(path, &want) != 0)
		return NULL;
	while (!race_stop) {
		int hit = 0;

		for (fd = base; base >= 0 && fd < base + SPAN; fd++) {
			if (fd < 3 || fd == race_sock || fd == race_peer || fstat(fd, &sb) != 0 ||
			    sb.st_ino != want.st_ino || sb.st_dev != want.st_dev)
				continue;
			/*
			 * Our socket over the library's fd, held there a moment (a
			 * library that checked the fd just before now writes to it),
			 * then that number given back.
			 */
			if (dup2(race_sock, fd) == fd) {
				race_swaps++;
				spin_us(HOLD_US);
				close(fd);
				hit = 1;
			}
		}
		if (!hit && (base < 0 || ++idle % 4096 == 0)) {
			int found = find_trace_fd(path);

			if (found >= 0) {
				base = found;
				race_fd_seen = 1;
			}
		}
	}
	return NULL;
}

static void race_attempt(int k)
{
	const char *path = getenv("SENDTRACE_OUTPUT");
	char buf[1000], resolved[4096];
	pthread_t rd, sw;
	int udp, rx, i;
	struct timespec t0, t;

	race_setup(path, buf, sizeof(buf), resolved, &udp, &rx);
	pthread_create(&rd, NULL, race_reader, NULL);
	pthread_create(&sw, NULL, race_swapper, resolved);
	/* For a fixed time, not a count: what matters is how many chunks are appended. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (i = 0; i < 100; i++)
			send(udp, buf, sizeof(buf), 0);
		/* Now and then some bytes on the socket whose number is being swapped. */
		if (send(race_sock, buf, 26, 0) == 26)
			race_sent += 26;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < RACE_MS);
	race_stop = 1;
	pthread_join(sw, NULL);
	shutdown(race_sock, SHUT_WR);
	pthread_join(rd, NULL);
	close(rx);
	th_result("r%d %ld %ld %ld %ld %ld", k, race_sent, race_got, race_foreign, race_swaps,
		  race_fd_seen);
}

static void race_workload(void)
{
	int k;

	/* The parent never races: each child starts with the library in good order. */
	for (k = 0; k < RACE_ATTEMPTS; k++) {
		int status;
		pid_t pid = fork();

		if (pid == 0) {
			race_attempt(k);
			exit(0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			exit(80 + k);
	}
}

/*
 * (c) The same race, decided every time. A real dup2() thread wins it only
 * when it lands between the library's check of its fd and its write, which
 * on a loaded machine may not happen for many runs. Here the sending thread
 * puts itself under a seccomp filter that turns every byte-writing system
 * call on an fd >= 100 into a user notification. Our supervisor thread
 * receives it with the call stopped just before it runs, dup2()s the socket
 * over that fd if it is the trace file, and lets the call continue: exactly
 * what a program's thread can do at that instant. A library that writes
 * through the fd number (after whatever check) writes into the socket; one
 * that never writes bytes through it is not affected.
 */
static int notif_fd = -1;
static long notif_seen, notif_in_time;
static int swap_req[2], swap_ack[2];

/*
 * The dup2() itself runs in a thread of its own. A library may serialize a
 * program's dup2() with its own writes (it interposes dup2 and holds a lock
 * while it writes): then our dup2() waits for the write we are holding up, so
 * the supervisor lets the write go on after a while, and the dup2() lands
 * after it, harmlessly, as it would in the program.
 */
static void *notif_swapper(void *arg)
{
	const char *path = arg;
	struct stat want, sb;
	int fd, prev = -1;

	if (stat(path, &want) != 0)
		return NULL;
	while (read(swap_req[0], &fd, sizeof(fd)) == sizeof(fd)) {
		int done = 0;

		/* The socket we left on an earlier number has done its harm: give it back. */
		if (prev >= 0 && prev != fd && fstat(prev, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
			close(prev);
			prev = -1;
		}
		if (fstat(fd, &sb) == 0 && sb.st_ino == want.st_ino && sb.st_dev == want.st_dev &&
		    dup2(race_sock, fd) == fd) {
			race_swaps++;
			prev = fd;
			done = 1;
		}
		if (write(swap_ack[1], &done, sizeof(done)) != sizeof(done))
			break;
	}
	return NULL;
}

static void *notif_supervisor(void *arg)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	int outstanding = 0, timeouts = 0;

	(void)arg;
	while (__atomic_load_n(&notif_fd, __ATOMIC_ACQUIRE) < 0)
		sched_yield();
	/* Runs until the process exits: the filtered thread may write at exit too. */
	for (;;) {
		int fd;

		memset(&req, 0, sizeof(req));
		if (ioctl(notif_fd, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		notif_seen++;
		fd = (int)req.data.args[0];
		/* A few attempts are enough; a library that writes often is not held up long. */
		if (timeouts < 8 && notif_seen <= 64 &&
		    write(swap_req[1], &fd, sizeof(fd)) == sizeof(fd)) {
			struct pollfd p = {swap_ack[0], POLLIN, 0};

			outstanding++;
			/* Acks come in order: the one that empties the queue is this call's. */
			while (outstanding > 0 && poll(&p, 1, 50) == 1) {
				int done;

				if (read(swap_ack[0], &done, sizeof(done)) != sizeof(done))
					break;
				if (--outstanding == 0 && done)
					notif_in_time++;
			}
			if (outstanding > 0)
				timeouts++;
		}
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(notif_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

static int notif_install(void)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    /* Each of these jumps to the fd check below. */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_write, 6, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_writev, 5, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_pwrite64, 4, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_pwritev, 3, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_pwritev2, 2, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sendfile, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    /* The fd: only numbers >= 100, where the library keeps its file. */
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
	    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 100, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {(unsigned short)(sizeof(f) / sizeof(f[0])), f};
	int fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	/* Without TSYNC the filter is this thread's alone: the supervisor is not under it. */
	fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			  &prog);
	if (fd < 0)
		return -1;
	__atomic_store_n(&notif_fd, fd, __ATOMIC_RELEASE);
	return 0;
}

static void notif_workload(void)
{
	const char *path = getenv("SENDTRACE_OUTPUT");
	char buf[1000], resolved[4096];
	pthread_t rd, sup, swp;
	int udp, rx, i;

	race_setup(path, buf, sizeof(buf), resolved, &udp, &rx);
	if (pipe(swap_req) != 0 || pipe(swap_ack) != 0)
		exit(92);
	pthread_create(&rd, NULL, race_reader, NULL);
	pthread_create(&swp, NULL, notif_swapper, resolved);
	pthread_create(&sup, NULL, notif_supervisor, NULL);
	if (notif_install() != 0) {
		th_result("nonotif %d", errno);
		exit(0);
	}
	/* Several chunks' worth of large events (payload capture is on). */
	for (i = 0; i < 3000; i++) {
		send(udp, buf, sizeof(buf), 0);
		if (i % 100 == 0 && send(race_sock, buf, 26, 0) == 26)
			race_sent += 26;
	}
	shutdown(race_sock, SHUT_WR);
	pthread_join(rd, NULL);
	close(rx);
	th_result("notif %ld %ld %ld %ld %ld", race_sent, race_got, race_foreign, notif_in_time,
		  notif_seen);
}

void th_workload(void)
{
	const char *mode = getenv("ST_FDSAFE");

	if (mode && !strcmp(mode, "race"))
		race_workload();
	else if (mode && !strcmp(mode, "notif"))
		notif_workload();
	else if (mode)
		closeall_workload(mode);
	else
		exit(89);
}

static void check_closeall(const char *mode, const char *const *env)
{
	int status, i;
	char *res;

	unlink(th_trace_path());
	status = th_run(1, env);
	TH_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: the daemon exits 0 (status %#x)",
	      mode, status);
	res = th_results();
	for (i = 0; i < 3; i++) {
		char key[16], key2[16];
		const char *t;

		snprintf(key, sizeof(key), "peer%d", i);
		snprintf(key2, sizeof(key2), "same%d", i);
		t = strstr(res, i == 0 ? "text0 " : i == 1 ? "text1 " : "text2 ");
		TH_OK(th_value(res, key2, 0, -1) == 1,
		      "%s: the peer of fd %d received exactly the program's bytes (got %lld bytes%s%.*s)",
		      mode, i, th_value(res, key, 0, -1), t ? ": " : "",
		      t ? (int)strcspn(t + 6, "\n") : 0, t ? t + 6 : "");
	}
	free(res);
	th_load();
	/* With backtraces tracing goes on (the file is reopened); a full file ends it. */
	if (strcmp(mode, "RLIMIT_FSIZE") != 0)
		TH_OK(th_find("send", 4, 0) != NULL,
		      "%s: the send on fd 0 after the close loop is traced", mode);
}

static void check_notif(void)
{
	const char *env[] = {"ST_FDSAFE=notif", "SENDTRACE_PAYLOAD=1024", NULL};
	long long sent, got, foreign, swaps, seen;
	int status;
	char *res;

	unlink(th_trace_path());
	status = th_run(1, env);
	res = th_results();
	if (th_value(res, "nonotif", 0, -1) >= 0) {
		printf("# seccomp user notification unavailable (errno %lld): part (c) not run\n",
		       th_value(res, "nonotif", 0, -1));
		free(res);
		return;
	}
	sent = th_value(res, "notif", 0, -1);
	got = th_value(res, "notif", 1, -2);
	foreign = th_value(res, "notif", 2, -1);
	swaps = th_value(res, "notif", 3, -1);
	seen = th_value(res, "notif", 4, -1);
	free(res);
	TH_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "dup2 at the instant of the library's write: the program exits 0 (status %#x)", status);
	TH_OK(sent > 0 && got == sent && foreign == 0,
	      "dup2 at the instant of the library's write: the peer got exactly the program's %lld bytes (got %lld, %lld not the program's; %lld writes on fds >= 100 stopped, %lld swapped before the write)",
	      sent, got, foreign, seen, swaps);
	th_load();
}

static int run_all(void)
{
	const char *bt[] = {"ST_FDSAFE=bt", "SENDTRACE_BACKTRACE=4", NULL};
	const char *fsize[] = {"ST_FDSAFE=fsize", NULL};
	const char *race[] = {"ST_FDSAFE=race", "SENDTRACE_PAYLOAD=1024", NULL};
	int run, bad = 0, attempts = 0, fd_seen = 0;
	long long total_swaps = 0;

	check_closeall("backtraces", bt);
	check_closeall("RLIMIT_FSIZE", fsize);
	check_notif();

	for (run = 0; run < RACE_RUNS; run++) {
		int status, k;
		char *res;

		unlink(th_trace_path());
		status = th_run(1, race);
		res = th_results();
		TH_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "dup2 race run %d: the program and its %d children exit 0 (status %#x)", run,
		      RACE_ATTEMPTS, status);
		for (k = 0; k < RACE_ATTEMPTS; k++) {
			char key[16];
			long long sent, got, foreign, swaps;

			snprintf(key, sizeof(key), "r%d", k);
			sent = th_value(res, key, 0, -1);
			got = th_value(res, key, 1, -2);
			foreign = th_value(res, key, 2, -1);
			swaps = th_value(res, key, 3, 0);
			fd_seen += th_value(res, key, 4, 0) > 0;
			total_swaps += swaps;
			attempts++;
			if (sent <= 0 || got != sent || foreign != 0) {
				bad++;
				TH_OK(0,
				      "dup2 race run %d attempt %d: sent %lld bytes, the peer got %lld, %lld of them not the program's (%lld swaps)",
				      run, k, sent, got, foreign, swaps);
			}
		}
		free(res);
		/* Parsing every trace takes long; one in five says the file is whole. */
		if (run % 5 == 4)
			th_load();
	}
	TH_OK(bad == 0,
	      "dup2 race: in each of %d attempts the socket's peer got exactly the program's bytes (%d bad)",
	      attempts, bad);
	/*
	 * Not vacuous: whenever the library kept an fd to its file, our socket
	 * really took that number. (A library that keeps none cannot lose this race.)
	 */
	if (fd_seen)
		TH_OK(total_swaps >= fd_seen,
		      "dup2 race: the trace fd was swapped for a socket %lld times in %d attempts",
		      total_swaps, fd_seen);
	else
		printf("# the library kept no fd to its trace file: nothing to race with\n");
	return 0;
}

void th_check(void)
{
}

__attribute__((constructor)) static void setup(void)
{
	th_main_hook = run_all;
}
