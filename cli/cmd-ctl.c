/* cmd-ctl.c: `sendtrace ctl`: switch traced processes on or off, change their settings, show their state. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/ctlpage.h"
#include "../lib/filterspec.h"
#include "cli.h"

/* One traced process reached through its control page. */
struct target {
	int pid;
	int fd;
	struct st_ctlpage *p;
	char path[PATH_MAX];
};

enum action { ACT_STATUS, ACT_ON, ACT_OFF, ACT_SET };

struct ctl_opts {
	enum action act;
	int json;
	long backtrace, sample; /* -1: not asked */
	const char *filter;	/* NULL: not asked */
};

/*
 * The pid PID has in its own pid namespace (the last of NSpid in
 * /proc/PID/status), which names its page and is written in it: a process
 * in a container is pid 1 there, whatever it is here. PID itself when the
 * kernel does not say (before Linux 4.1), or the process is gone.
 */
static int inner_pid(int pid)
{
	char path[64], line[512];
	int inner = pid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return pid;
	while (fgets(line, sizeof(line), f)) {
		char *p, *end;
		long v;

		if (strncmp(line, "NSpid:", 6))
			continue;
		for (p = line + 6; (v = strtol(p, &end, 10)), end != p; p = end)
			if (v > 0 && v <= INT_MAX)
				inner = (int)v;
		break;
	}
	fclose(f);
	return inner;
}

/*
 * The page of PID, found in /proc/PID/maps: a file sendtrace-ctl.N, N its
 * pid in its own namespace (its contents are checked once open). Returns 1
 * and fills `path` (as the process sees it), its inode and its address
 * range; 2 the same for a page whose name was taken away ("(deleted)":
 * only /proc/PID/map_files reaches it); 0 if the process maps none (not
 * traced, or not controllable); -1 if its maps cannot be read (gone, or
 * not ours).
 */
static int page_path(int pid, char *path, size_t cap, unsigned long *ino, char *range,
		     size_t rcap)
{
	char maps[64], line[PATH_MAX + 256], want[32];
	FILE *f;
	int found = 0;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	snprintf(want, sizeof(want), "/" ST_CTL_PREFIX "%d", inner_pid(pid));
	f = fopen(maps, "re");
	if (!f)
		return -1;
	while (found != 1 && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/'), *end;
		unsigned long i = 0;
		int deleted;
		size_t n;

		if (!p)
			continue;
		n = strcspn(p, "\n");
		p[n] = '\0';
		deleted = n > 10 && !strcmp(p + n - 10, " (deleted)");
		if (deleted)
			p[n - 10] = '\0';
		end = strrchr(p, '/');
		if (strcmp(end, want) != 0 || sscanf(line, "%*s %*s %*s %*s %lu", &i) != 1)
			continue;
		snprintf(path, cap, "%s", p);
		snprintf(range, rcap, "%.*s", (int)strcspn(line, " "), line);
		*ino = i;
		found = deleted ? 2 : 1;
	}
	if (ferror(f))
		found = -1;
	fclose(f);
	return found;
}

/* The uid a process runs as (its /proc directory's owner), or -1. */
static long proc_uid(int pid)
{
	char d[32];
	struct stat sb;

	snprintf(d, sizeof(d), "/proc/%d", pid);
	return stat(d, &sb) == 0 ? (long)sb.st_uid : -1;
}

/*
 * Open PID's page: through /proc/PID/root (its own mount namespace: a
 * PrivateTmp= service's /tmp), else by the path as we see it. Returns 0, or
 * -1 having said why. `quiet`: say nothing for processes that are simply
 * not traced (--all).
 */
static int target_open(int pid, struct target *t, int quiet)
{
	char path[PATH_MAX], root[PATH_MAX + 32], range[64];
	unsigned long ino = 0;
	struct stat sb;
	long uid = proc_uid(pid);
	int r;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->pid = pid;
	if (uid < 0) {
		if (!quiet)
			cli_error("ctl: %d: no such process", pid);
		return -1;
	}
	if (getuid() != 0 && (uid_t)uid != getuid()) {
		if (!quiet)
			cli_error("ctl: %d: refused: the process runs as uid %ld; only that user or "
				  "root may control it",
				  pid, uid);
		return -1;
	}
	r = page_path(pid, path, sizeof(path), &ino, range, sizeof(range));
	if (r <= 0) {
		if (!quiet)
			cli_error(r < 0 ? "ctl: %d: cannot read its memory map (%s)"
					: "ctl: %d: not traced by sendtrace, loaded with "
					  "SENDTRACE_CTL=off, or without a control page%s",
				  pid, r < 0 ? strerror(errno) : "");
		return -1;
	}
	/*
	 * Through /proc/PID/map_files (root): exactly the file mapped, even
	 * if its name was taken away meanwhile. Else by its name, through
	 * /proc/PID/root (its own mount namespace: a PrivateTmp= service's
	 * /tmp), else as we see it.
	 */
	snprintf(root, sizeof(root), "/proc/%d/map_files/%s", pid, range);
	t->fd = open(root, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (t->fd < 0 && r == 2) {
		if (!quiet)
			cli_error("ctl: %d: its control page %s was removed (by ctl --all while it "
				  "exec'ed, or by a process of the same pid number in another pid "
				  "namespace sharing the directory): only root can reach it",
				  pid, path);
		return -1;
	}
	if (t->fd < 0) {
		snprintf(root, sizeof(root), "/proc/%d/root%s", pid, path);
		t->fd = open(root, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	}
	if (t->fd < 0)
		t->fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (t->fd < 0) {
		if (!quiet || errno == EACCES || errno == EPERM)
			cli_error("ctl: %d: cannot open its control page %s: %s%s", pid, path,
				  strerror(errno),
				  errno == EACCES || errno == EPERM
				      ? " (only the process's user or root may control it)"
				      : "");
		return -1;
	}
	/*
	 * The file the process maps, whole, with one name or none (a second
	 * link could be any file of the user's), and of the process's user: root, who may
	 * open anything, must not write into a third user's file. A process
	 * that made its page as root and then dropped to another user has a
	 * page of root's.
	 */
	if (fstat(t->fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_ino != ino ||
	    sb.st_size < ST_CTL_SIZE || sb.st_nlink > 1 ||
	    (sb.st_uid != (uid_t)uid && sb.st_uid != 0) ||
	    (getuid() != 0 && sb.st_uid != getuid())) {
		cli_error("ctl: %d: %s is not its control page", pid, path);
		close(t->fd);
		return -1;
	}
	t->p = mmap(NULL, ST_CTL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	if (t->p == MAP_FAILED) {
		cli_error("ctl: %d: cannot map %s: %s", pid, path, strerror(errno));
		close(t->fd);
		return -1;
	}
	if (t->p->magic != ST_CTL_MAGIC || t->p->size != sizeof(*t->p) ||
	    t->p->pid != inner_pid(pid)) {
		cli_error("ctl: %d: %s is not a control page of this version of sendtrace", pid,
			  path);
		munmap(t->p, ST_CTL_SIZE);
		close(t->fd);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s", path);
	return 0;
}

static void target_close(struct target *t)
{
	if (t->p)
		munmap(t->p, ST_CTL_SIZE);
	if (t->fd >= 0)
		close(t->fd);
}

/* A string of the page's, bounded: the page is the traced user's to write. */
static void page_str(char *dst, size_t cap, const char *src, size_t srccap)
{
	size_t n = strnlen(src, srccap);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void show_status(struct target *t, int json)
{
	struct st_ctlpage *p = t->p;
	char comm[17], trace[sizeof(p->trace) + 1], filter[sizeof(p->cur_filter) + 1];
	int on = __atomic_load_n(&p->on, __ATOMIC_RELAXED) != 0;
	unsigned long long c[ST_COUNT_MAX];
	int i;

	for (i = 0; i < ST_COUNT_MAX; i++)
		c[i] = __atomic_load_n(&p->count[i], __ATOMIC_RELAXED);
	page_str(comm, sizeof(comm), p->comm, sizeof(p->comm));
	page_str(trace, sizeof(trace), p->trace, sizeof(p->trace));
	page_str(filter, sizeof(filter), p->cur_filter, sizeof(p->cur_filter));
	if (json) {
		/*
		 * The strings are the traced user's (comm, a path) and may not be
		 * UTF-8, which jansson refuses: escaped as `show` prints names.
		 */
		char *ecomm = esc_str(comm), *etrace = esc_str(trace), *efilter = esc_str(filter);
		json_t *o = json_pack(
		    "{s:i, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:i, s:i, s:s, s:s?, s:b}", "pid", t->pid,
		    "comm", ecomm, "on", on, "events", (json_int_t)c[ST_COUNT_EVENTS], "dropped",
		    (json_int_t)c[ST_COUNT_DROPPED], "capped", (json_int_t)c[ST_COUNT_CAPPED],
		    "filtered", (json_int_t)c[ST_COUNT_FILTERED], "sampled_out",
		    (json_int_t)c[ST_COUNT_SAMPLED_OUT], "backtrace", (int)p->cur_backtrace,
		    "sample", p->cur_sample > 1 ? (int)p->cur_sample : 1, "filter", efilter, "trace",
		    p->sink_open == 1 ? etrace : NULL, "trace_failed", p->sink_open == 2);
		char *out = o ? json_dumps(o, JSON_COMPACT) : NULL;

		if (out)
			puts(out);
		else
			cli_error("ctl: %d: cannot encode its status as JSON", t->pid);
		free(out);
		json_decref(o);
		free(ecomm);
		free(etrace);
		free(efilter);
		return;
	}
	printf("%d ", t->pid);
	esc_put(stdout, comm);
	printf(": %s, events %llu, dropped %llu", on ? "on" : "off", c[ST_COUNT_EVENTS],
	       c[ST_COUNT_DROPPED]);
	if (c[ST_COUNT_CAPPED])
		printf(", capped %llu", c[ST_COUNT_CAPPED]);
	if (c[ST_COUNT_FILTERED])
		printf(", filtered out %llu", c[ST_COUNT_FILTERED]);
	if (c[ST_COUNT_SAMPLED_OUT])
		printf(", sampled out %llu", c[ST_COUNT_SAMPLED_OUT]);
	printf("; backtrace=%d sample=%d", (int)p->cur_backtrace,
	       p->cur_sample > 1 ? (int)p->cur_sample : 1);
	if (filter[0]) {
		fputs(" filter='", stdout);
		esc_put(stdout, filter);
		putchar('\'');
	}
	fputs("; trace ", stdout);
	if (p->sink_open == 1)
		esc_put(stdout, trace);
	else if (p->sink_open == 2)
		fputs("(none: it could not be made when switched on; the process said why on its "
		      "stderr)",
		      stdout);
	else
		fputs("(none yet: no file until it records)", stdout);
	putchar('\n');
}

/*
 * New settings, seqlock-style (ctlpage.h); two ctl commands at once are
 * kept apart by a lock on our own fd of the page. Then up to 100 ms for the
 * process to take them: it does at its next traced call.
 */
static int set_settings(struct target *t, const struct ctl_opts *o)
{
	struct st_ctlpage *p = t->p;
	uint32_t seq, done;
	int32_t bt, sample;
	int waited, pending;
	char reply[sizeof(p->reply) + 1];

	/*
	 * Another ctl holds the lock for microseconds; a process of the user's
	 * that took it and kept it must not hang this one (root's --all): 1 s.
	 */
	for (waited = 0; flock(t->fd, LOCK_EX | LOCK_NB) != 0; waited++) {
		if (errno != EWOULDBLOCK || waited == 1000) {
			cli_error("ctl: %d: cannot lock its control page: %s", t->pid,
				  errno == EWOULDBLOCK ? "another process holds it" : strerror(errno));
			return EXIT_TROUBLE;
		}
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	seq = __atomic_load_n(&p->seq, __ATOMIC_RELAXED);
	/*
	 * The request before this one, not taken yet (the process made no
	 * traced call since): what it asked and this one does not is asked
	 * again, or `set backtrace=4` then `set sample=10` would lose the
	 * first. Not one a writer left half-written (seq odd).
	 */
	pending = !(seq & 1) && __atomic_load_n(&p->applied, __ATOMIC_ACQUIRE) != seq;
	bt = o->backtrace >= 0 ? (int32_t)o->backtrace
	     : pending	       ? __atomic_load_n(&p->backtrace, __ATOMIC_RELAXED)
			       : -1;
	sample = o->sample >= 0 ? (int32_t)o->sample
		 : pending	? __atomic_load_n(&p->sample, __ATOMIC_RELAXED)
				: -1;
	seq += (seq & 1) ? 1 : 2; /* a writer that died mid-way left it odd */
	__atomic_store_n(&p->seq, seq - 1, __ATOMIC_RELEASE);
	__atomic_store_n(&p->backtrace, bt, __ATOMIC_RELAXED);
	__atomic_store_n(&p->sample, sample, __ATOMIC_RELAXED);
	if (o->filter) {
		memset(p->filter, 0, sizeof(p->filter));
		memcpy(p->filter, o->filter, strlen(o->filter));
	}
	if (o->filter || !pending)
		__atomic_store_n(&p->has_filter, o->filter != NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&p->seq, seq, __ATOMIC_RELEASE);
	flock(t->fd, LOCK_UN);
	/* Taken when the process took this request or a later one (which holds it). */
	for (waited = 0;; waited += 2) {
		done = __atomic_load_n(&p->applied, __ATOMIC_ACQUIRE);
		if ((int32_t)(done - seq) >= 0 || waited >= 100)
			break;
		nanosleep(&(struct timespec){0, 2000000}, NULL);
	}
	if ((int32_t)(done - seq) < 0) {
		printf("%d: asked; it applies them at its next traced call\n", t->pid);
		return EXIT_OK;
	}
	page_str(reply, sizeof(reply), p->reply, sizeof(p->reply));
	if (reply[0]) {
		fprintf(stderr, "sendtrace: ctl: %d: refused: ", t->pid);
		esc_put(stderr, reply);
		fputc('\n', stderr);
		return EXIT_TROUBLE;
	}
	show_status(t, o->json);
	return EXIT_OK;
}

static int act_on(struct target *t, const struct ctl_opts *o)
{
	switch (o->act) {
	case ACT_ON:
	case ACT_OFF: {
		uint32_t was = __atomic_exchange_n(&t->p->on, o->act == ACT_ON, __ATOMIC_SEQ_CST);

		if (o->json)
			show_status(t, 1);
		else
			printf("%d: %s%s\n", t->pid, o->act == ACT_ON ? "on" : "off",
			       !was == (o->act == ACT_OFF) ? " (already)" : "");
		return EXIT_OK;
	}
	case ACT_SET:
		return set_settings(t, o);
	default:
		show_status(t, o->json);
		return EXIT_OK;
	}
}

/* The inodes of the control pages processes map, as far as we may read their maps. */
struct inos {
	unsigned long *v;
	size_t n, cap;
};

static void mapped_pages(struct inos *s)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char maps[300], line[PATH_MAX + 256];
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(maps, sizeof(maps), "/proc/%s/maps", e->d_name);
		if (!(f = fopen(maps, "re")))
			continue;
		while (fgets(line, sizeof(line), f)) {
			char *p = strstr(line, "/" ST_CTL_PREFIX);
			unsigned long i;

			if (!p || strchr(p + 1, '/') || sscanf(line, "%*s %*s %*s %*s %lu", &i) != 1)
				continue;
			if (s->n == s->cap) {
				unsigned long *v = realloc(s->v, (s->cap * 2 + 16) * sizeof(*v));

				if (!v)
					break;
				s->v = v;
				s->cap = s->cap * 2 + 16;
			}
			s->v[s->n++] = i;
		}
		fclose(f);
	}
	if (d)
		closedir(d);
}

static int mapped(const struct inos *s, unsigned long ino)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i] == ino)
			return 1;
	return 0;
}

/*
 * The private directories this user's pages may be in (control.c picks one
 * of them): what a crashed process left there is swept, if no process maps
 * it. Not just its own process: a child forked without atfork handlers maps
 * its parent's page until its first traced call, and a process in a pid
 * namespace sharing the directory has a page named by its pid there, which
 * here may be another process's. Returns how many were removed.
 */
static int sweep_dir(const char *dir, const struct inos *maps)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int removed = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[PATH_MAX], mine[PATH_MAX], range[64];
		unsigned long ino = 0;
		struct stat sb;
		char *end;
		long pid;

		if (strncmp(e->d_name, ST_CTL_PREFIX, strlen(ST_CTL_PREFIX)))
			continue;
		pid = strtol(e->d_name + strlen(ST_CTL_PREFIX), &end, 10);
		if (*end || pid <= 0 || pid > INT_MAX)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
		    (getuid() != 0 && sb.st_uid != getuid()))
			continue;
		/*
		 * A page made this instant is not mapped yet, nor is one during
		 * an exec (the library touches it first): only old ones.
		 */
		if (time(NULL) - sb.st_mtime < 2 || mapped(maps, sb.st_ino))
			continue;
		if (proc_uid((int)pid) >= 0 &&
		    page_path((int)pid, mine, sizeof(mine), &ino, range, sizeof(range)) < 0)
			continue; /* alive, and its maps unreadable: not ours to judge */
		if (unlink(path) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

static int sweep(void)
{
	const char *env = getenv("SENDTRACE_CTL_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	struct inos maps = {NULL, 0, 0};
	char dir[PATH_MAX];
	int n = 0;

	mapped_pages(&maps);
	if (env && env[0] == '/')
		n += sweep_dir(env, &maps);
	if (xdg && xdg[0] == '/') {
		snprintf(dir, sizeof(dir), "%s/" ST_CTL_DIRNAME, xdg);
		n += sweep_dir(dir, &maps);
	}
	if (getuid() == 0) {
		/* Root's processes, and those that became another user since (creds.c). */
		DIR *d = opendir("/tmp");
		struct dirent *e;

		n += sweep_dir("/run/" ST_CTL_DIRNAME, &maps);
		while (d && (e = readdir(d))) {
			if (strncmp(e->d_name, ST_CTL_DIRNAME "-", strlen(ST_CTL_DIRNAME) + 1))
				continue;
			snprintf(dir, sizeof(dir), "/tmp/%s", e->d_name);
			n += sweep_dir(dir, &maps);
		}
		if (d)
			closedir(d);
		free(maps.v);
		return n;
	}
	snprintf(dir, sizeof(dir), "/tmp/" ST_CTL_DIRNAME "-%u", (unsigned)getuid());
	n += sweep_dir(dir, &maps);
	free(maps.v);
	return n;
}

/* Every process with a page that we may control (ours; everyone's for root). */
static int each_traced(const struct ctl_opts *o, int *found)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int rc = EXIT_OK, self = (int)getpid();

	if (!d) {
		cli_error("ctl: cannot read /proc: %s", strerror(errno));
		return EXIT_TROUBLE;
	}
	while ((e = readdir(d))) {
		char path[PATH_MAX], range[64], *end;
		unsigned long ino;
		struct target t;
		long pid = strtol(e->d_name, &end, 10);
		int r;

		if (*end || pid <= 0 || pid > INT_MAX || pid == self)
			continue;
		if (getuid() != 0 && proc_uid((int)pid) != (long)getuid())
			continue;
		if (page_path((int)pid, path, sizeof(path), &ino, range, sizeof(range)) <= 0)
			continue;
		if (target_open((int)pid, &t, 1) != 0)
			continue;
		(*found)++;
		r = act_on(&t, o);
		if (r > rc)
			rc = r;
		target_close(&t);
	}
	closedir(d);
	return rc;
}

/* The filter as the process will read it: the shared parser (lib/filterspec.c), its words. */
static int ctl_filter_check(const char *spec)
{
	struct st_fs fs;
	struct st_fs_error e;
	char why[512];

	if (st_fs_parse(&fs, spec, strlen(spec), &e) == 0)
		return 0;
	st_fs_error_text(&e, why, sizeof(why));
	cli_error("ctl: %s", why);
	return -1;
}

static int parse_set(struct ctl_opts *o, char **args, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		const char *a = args[i], *eq = strchr(a, '=');
		char *end;
		long v;

		if (!eq) {
			cli_error("ctl: set takes NAME=VALUE (backtrace=N, sample=N, filter=SPEC), "
				  "not '%s'",
				  a);
			return -1;
		}
		if (!strncmp(a, "filter=", 7)) {
			if (strlen(eq + 1) >= sizeof(((struct st_ctlpage *)0)->filter)) {
				cli_error("ctl: the filter is too long (at most %zu bytes)",
					  sizeof(((struct st_ctlpage *)0)->filter) - 1);
				return -1;
			}
			if (ctl_filter_check(eq + 1) != 0)
				return -1; /* said why */
			o->filter = eq + 1;
			continue;
		}
		errno = 0;
		v = strtol(eq + 1, &end, 10);
		if (!strncmp(a, "backtrace=", 10)) {
			if (*end || end == eq + 1 || errno || v < 0 || v > 64) {
				cli_error("ctl: bad value '%s' for backtrace (accepts 0 to 64 frames)",
					  eq + 1);
				return -1;
			}
			o->backtrace = v;
		} else if (!strncmp(a, "sample=", 7)) {
			if (*end || end == eq + 1 || errno || v < 1 || v > 1000000000) {
				cli_error("ctl: bad value '%s' for sample (accepts 1 to 1000000000: "
					  "about one call in N)",
					  eq + 1);
				return -1;
			}
			o->sample = v;
		} else {
			cli_error("ctl: unknown setting '%.*s' (known: backtrace, sample, filter)",
				  (int)(eq - a), a);
			return -1;
		}
	}
	if (!n) {
		cli_error("ctl: set needs at least one NAME=VALUE");
		return -1;
	}
	return 0;
}

static const struct option ctl_longopts[] = {
    {"all", no_argument, NULL, 'A'},
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static int cmd_ctl_exec(int argc, char **argv)
{
	struct ctl_opts o = {ACT_STATUS, 0, -1, -1, NULL};
	int all = 0, c, i, npids = 0, rc = EXIT_OK, found = 0, *pids;

	while ((c = getopt_long(argc, argv, "hVj", ctl_longopts, NULL)) != -1) {
		int r = cli_common_option(c, &cmd_ctl_entry);

		if (r >= 0)
			return r;
		if (c == 'A')
			all = 1;
		else if (c == 'j')
			o.json = 1;
	}
	pids = calloc((size_t)argc + 1, sizeof(*pids));
	if (!pids)
		return EXIT_TROUBLE;
	for (i = optind; i < argc; i++) {
		char *end;
		long v;

		if (!isdigit((unsigned char)argv[i][0]))
			break;
		errno = 0;
		v = strtol(argv[i], &end, 10);
		if (*end || errno || v <= 0 || v > INT_MAX) {
			cli_error("ctl: '%s' is not a process id", argv[i]);
			free(pids);
			return EXIT_TROUBLE;
		}
		pids[npids++] = (int)v;
	}
	if (!npids && !all) {
		cli_error("ctl: name the processes (PID...) or --all");
		cli_usage(&cmd_ctl_entry, stderr);
		free(pids);
		return EXIT_TROUBLE;
	}
	if (npids && all) {
		cli_error("ctl: either PIDs or --all, not both");
		free(pids);
		return EXIT_TROUBLE;
	}
	if (i == argc || !strcmp(argv[i], "status"))
		o.act = ACT_STATUS;
	else if (!strcmp(argv[i], "on"))
		o.act = ACT_ON;
	else if (!strcmp(argv[i], "off"))
		o.act = ACT_OFF;
	else if (!strcmp(argv[i], "set"))
		o.act = ACT_SET;
	else {
		cli_error("ctl: unknown action '%s' (on, off, status or set NAME=VALUE...)",
			  argv[i]);
		free(pids);
		return EXIT_TROUBLE;
	}
	if (o.act == ACT_SET ? parse_set(&o, argv + i + 1, argc - i - 1) != 0
			     : i < argc && i + 1 < argc) {
		if (o.act != ACT_SET)
			cli_error("ctl: '%s' takes nothing after it", argv[i]);
		free(pids);
		return EXIT_TROUBLE;
	}
	if (all) {
		int swept = sweep();

		rc = each_traced(&o, &found);
		if (swept && !o.json)
			fprintf(stderr, "sendtrace: removed %d control page%s left by ended "
					"processes\n",
				swept, swept == 1 ? "" : "s");
		if (!found) {
			cli_error("ctl: no traced process %s", getuid() == 0 ? "found" : "of this user");
			rc = EXIT_FINDINGS;
		}
	}
	for (i = 0; i < npids; i++) {
		struct target t;
		int r;

		if (target_open(pids[i], &t, 0) != 0) {
			rc = EXIT_TROUBLE;
			continue;
		}
		r = act_on(&t, &o);
		if (r > rc)
			rc = r;
		target_close(&t);
	}
	free(pids);
	return rc;
}

const struct cmd_entry cmd_ctl_entry = {
    .name = "ctl",
    .usage = "[--json] PID...|--all [on|off|status|set NAME=VALUE...]",
    .summary =
	"Switch processes running under libsendtrace on or off, change their\n"
	"settings, or show their state, without restarting them. A process loaded\n"
	"dormant (SENDTRACE_ENABLE=0, run --dormant) records nothing and makes no\n"
	"file until it is switched on. Changes take effect at the process's next\n"
	"traced call; set waits up to 100 ms for it and says whether it was taken.\n"
	"Only the process's user, or root, may control it.\n"
	"\n"
	"  on, off             start or stop recording\n"
	"  status              on or off, settings, counts and trace file (the default)\n"
	"  set NAME=VALUE...   backtrace=N (0-64 frames), sample=N (about one call in N),\n"
	"                      filter=SPEC (see FILTERS in sendtrace(1); '' clears it)\n"
	"      --all          every traced process of this user (every one, for root);\n"
	"                     also removes the control pages crashed processes left\n"
	"  -j, --json         status as one JSON object per process\n"
	"  -h, --help         this help\n"
	"  -V, --version      the version\n",
    .exec = cmd_ctl_exec,
};
