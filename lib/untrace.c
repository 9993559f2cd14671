/* untrace.c: say, once, when this program or one it execs will escape the library. */
#include "config.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "elfcheck.h"
#include "st.h"

extern char **environ;

static int st_on;	   /* set up (never in secure mode, where nothing is done) */
static int st_image_go;	   /* this image is a Go program */
static int st_by_env;	   /* the library came through LD_PRELOAD, not /etc/ld.so.preload */
static char st_self[1024]; /* the library's own path, to know it in a child's LD_PRELOAD */

/*
 * Is this image a Go program? Go's runtime makes its own system calls, so
 * only what it does through libc (cgo: the resolver, C libraries) meets the
 * wrappers. Read from the program's own headers, already in memory: the
 * Go build-id note in a PT_NOTE segment. No system call, no lock: measured
 * at 60-70 ns a process (and 35 ns for the dladdr() in st_untrace_init).
 */
static int st_self_is_go(void)
{
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
	size_t n = getauxval(AT_PHNUM), i, k;
	uintptr_t bias = 0;
	int have_bias = 0;

	if (!ph || !n)
		return 0;
	for (i = 0; i < n; i++)
		if (ph[i].p_type == PT_PHDR) {
			bias = (uintptr_t)ph - ph[i].p_vaddr;
			have_bias = 1;
		}
	if (!have_bias)
		return 0; /* where the segments are is not known: no guess */
	for (i = 0; i < n; i++) {
		if (ph[i].p_type != PT_NOTE)
			continue;
		/* Only a note that lies in a loaded segment is in memory. */
		for (k = 0; k < n; k++)
			if (ph[k].p_type == PT_LOAD && ph[i].p_vaddr >= ph[k].p_vaddr &&
			    ph[i].p_vaddr + ph[i].p_filesz <= ph[k].p_vaddr + ph[k].p_filesz)
				break;
		if (k < n && st_elf_notes_go((const void *)(bias + ph[i].p_vaddr), ph[i].p_filesz,
					     ph[i].p_align))
			return 1;
	}
	return 0;
}

/* Is complete mode armed (complete.c)? It sees Go's own calls too. */
static int st_complete_asked(void)
{
	return st_complete_state == ST_COMPLETE_ARMED;
}

static void st_untrace_prefork(void);
static void st_untrace_child(void);

void st_untrace_init(void)
{
	Dl_info info;
	const char *pre = secure_getenv("LD_PRELOAD");

	if (dladdr((void *)st_untrace_init, &info) && info.dli_fname &&
	    strlen(info.dli_fname) < sizeof(st_self))
		strcpy(st_self, info.dli_fname);
	/*
	 * Loaded by LD_PRELOAD: a child whose environment lost it runs
	 * untraced. Loaded otherwise (/etc/ld.so.preload, linked in), the
	 * child gets the library the same way, whatever its environment.
	 */
	st_by_env = pre && st_preload_names(pre, st_self);
	st_image_go = st_self_is_go();
	pthread_atfork(st_untrace_prefork, NULL, st_untrace_child);
	st_on = 1;
}

int st_untrace_go(void)
{
	return st_image_go;
}

void st_untrace_start_json(struct st_json *j)
{
	if (st_image_go) {
		st_json_key(j, "go");
		st_json_bool(j, 1);
	}
}

void st_untrace_say_start(void)
{
	/* In complete mode Go's own calls are seen (or complete.c says why not). */
	if (st_image_go && !st_complete_asked())
		st_warn("warning: this is a Go program: Go makes its own system calls, so only "
			"those it makes through libc (cgo) are recorded; ",
			"run it with `sendtrace run --complete` (SENDTRACE_COMPLETE=1) ",
			"to record the others");
}

/*
 * ---- at exec: the image that follows ----
 *
 * Runs in the process that calls exec*(): a fork()ed child (its own memory),
 * the program itself, or a vfork() child on its parent's memory and stack.
 * So: no allocation; static buffers under one busy flag (another thread, or
 * a signal handler execing meanwhile, just goes unchecked); the program's
 * pointers are read through the kernel, since a wild one must make the
 * exec fail with EFAULT as it would have, not crash here; and what it opens
 * is closed before the exec, which happens exactly as it would untraced.
 */
static int st_busy;
static long st_me; /* this process, for process_vm_readv: a vfork child is not st_pid */
static struct {
	char path[4096];
	char interp[4096];
	char scratch[1024];
	char value[4096]; /* a child's LD_PRELOAD */
	char argv[4096];
	char msg[1024];
	char *ptrs[64];
	struct iovec iov[64];
	char heads[64][11];
} st_x;

/* Bytes of the program's memory, through the kernel: how many were read, or -1. */
static long st_peek(void *dst, const void *src, size_t n)
{
	struct iovec local = {dst, n}, remote = {(void *)src, n};

	return src ? st_sys(SYS_process_vm_readv, st_me, &local, 1, &remote, 1, 0) : -1;
}

/* A string of the program's, read a page at a time (a read never splits): its length, or -1. */
static long st_peek_str(char *dst, size_t cap, const char *src)
{
	size_t have = 0;

	while (have + 1 < cap) {
		uintptr_t a = (uintptr_t)src + have;
		size_t n = 4096 - (a & 4095), i;

		if (n > cap - 1 - have)
			n = cap - 1 - have;
		if (st_peek(dst + have, (const void *)a, n) != (long)n)
			return -1;
		for (i = 0; i < n; i++)
			if (dst[have + i] == '\0')
				return (long)(have + i);
		have += n;
	}
	dst[have] = '\0';
	return -1; /* too long to check */
}

/* Up to 64 pointers of an array of the program's, not past the page the first one is on. */
static long st_peek_ptrs(char *const *src)
{
	size_t n = 4096 - ((uintptr_t)src & 4095);

	return st_peek(st_x.ptrs, src, n < sizeof(st_x.ptrs) ? n : sizeof(st_x.ptrs));
}

static long st_pread(void *arg, void *buf, size_t n, unsigned long long off)
{
	return st_sys(SYS_pread64, *(int *)arg, buf, n, off);
}

static int st_open_ro(const char *path)
{
	struct stat sb;

	/* A FIFO or a device: execve refuses it anyway, and opening one could block or act. */
	if (st_sys(SYS_newfstatat, AT_FDCWD, path, &sb, 0) != 0 || !S_ISREG(sb.st_mode))
		return -1;
	return (int)st_sys(SYS_openat, AT_FDCWD, path,
			   O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
}

/*
 * Where execvp() will find `file`: glibc's search, with the caller's PATH
 * (not the new environment's) or "/bin:/usr/bin", taking the first entry
 * that exists and may be executed. Into st_x.path; 0 if found.
 */
static int st_search(const char *file)
{
	const char *path = getenv("PATH"), *p, *e;
	size_t fl = strlen(file);

	if (!path)
		path = "/bin:/usr/bin";
	for (p = path;; p = e + 1) {
		size_t dl;

		e = strchrnul(p, ':');
		dl = (size_t)(e - p);
		if (dl + 1 + fl + 1 <= sizeof(st_x.path)) {
			memcpy(st_x.path, p, dl);
			if (dl && p[dl - 1] != '/')
				st_x.path[dl++] = '/';
			memcpy(st_x.path + dl, file,
			       fl + 1); /* an empty entry: the current directory */
			if (st_sys(SYS_faccessat, AT_FDCWD, st_x.path, X_OK) == 0)
				return 0;
		}
		if (!*e)
			return -1;
	}
}

/* Does the new environment hold LD_PRELOAD naming the library? -1: it could not be read. */
static int st_env_preloads(char *const envp[])
{
	size_t at = 0, n, i;
	long got;

	if (!envp)
		return 0; /* Linux takes NULL for an empty environment */
	for (;;) {
		got = st_peek_ptrs(envp + at);
		if (got < (long)sizeof(char *))
			return -1;
		n = (size_t)got / sizeof(char *);
		for (i = 0; i < n && st_x.ptrs[i]; i++) {
			uintptr_t a = (uintptr_t)st_x.ptrs[i];
			size_t len = 4096 - (a & 4095);

			/* Up to the end of the string's first page: mapped if the string is. */
			st_x.iov[i].iov_base = st_x.ptrs[i];
			st_x.iov[i].iov_len = len < 11 ? len : 11;
			memset(st_x.heads[i], 0, 11);
		}
		if (i) {
			struct iovec local[64];
			size_t k;

			for (k = 0; k < i; k++) {
				local[k].iov_base = st_x.heads[k];
				local[k].iov_len = st_x.iov[k].iov_len;
			}
			(void)st_sys(SYS_process_vm_readv, st_me, local, i, st_x.iov, i, 0);
			for (k = 0; k < i; k++)
				if (!memcmp(st_x.heads[k], "LD_PRELOAD=", 11) &&
				    st_peek_str(st_x.value, sizeof(st_x.value),
						st_x.ptrs[k] + 11) >= 0 &&
				    st_preload_names(st_x.value, st_self))
					return 1;
		}
		if (i < n)
			return 0; /* the NULL that ends it */
		at += n;
	}
}

/* An fd's path, for fexecve: /proc/self/fd/N's link, into st_x.path. */
static void st_fd_path(int fd)
{
	char link[32] = "/proc/self/fd/", digits[12];
	size_t n = 0, at = strlen(link);
	long got;

	do
		digits[n++] = (char)('0' + fd % 10);
	while ((fd /= 10) && n < sizeof(digits));
	while (n)
		link[at++] = digits[--n];
	link[at] = '\0';
	got = st_sys(SYS_readlinkat, AT_FDCWD, link, st_x.path, sizeof(st_x.path) - 1);
	if (got < 0)
		memcpy(st_x.path, link, at + 1);
	else
		st_x.path[got] = '\0';
}

/* a, b and c joined into dst (st_x.msg), cut to fit. */
static void st_cat(char *dst, const char *a, const char *b, const char *c)
{
	const char *parts[3] = {a, b, c};
	size_t n = 0, i, len;

	for (i = 0; i < 3; i++) {
		len = strlen(parts[i]);
		if (len > sizeof(st_x.msg) - 1 - n)
			len = sizeof(st_x.msg) - 1 - n;
		memcpy(dst + n, parts[i], len);
		n += len;
	}
	dst[n] = '\0';
}

/* The file's ELF verdict, then the kernel's secure mode for it: the first reason that holds. */
static enum st_untraced st_judge(int fd, struct st_elfinfo *e)
{
	struct st_secure_in in;
	unsigned char caps[24];
	struct statfs fs;
	struct stat sb;
	enum st_untraced why;
	long n;

	if (st_elf_probe(st_pread, &fd, st_x.scratch, sizeof(st_x.scratch), e) != 0)
		return ST_UNTRACED_NO;
	why = st_elf_untraced(e);
	if (why || e->script || st_fstat(fd, &sb) != 0)
		return why;
	memset(&in, 0, sizeof(in));
	in.mode = sb.st_mode;
	in.owner = sb.st_uid;
	in.group = sb.st_gid;
	n = st_sys(SYS_fgetxattr, fd, "security.capability", caps, sizeof(caps));
	in.caps = caps;
	in.capn = n > 0 ? (size_t)n : 0;
	in.ruid = (uid_t)st_sys(SYS_getuid);
	in.euid = (uid_t)st_sys(SYS_geteuid);
	in.rgid = (gid_t)st_sys(SYS_getgid);
	in.egid = (gid_t)st_sys(SYS_getegid);
	in.setid_ignored = (st_sys(SYS_fstatfs, fd, &fs) == 0 && (fs.f_flags & ST_NOSUID)) ||
			   st_sys(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
	return st_exec_secure(&in);
}

/*
 * Once per target: a table of (device, inode) hashes. A process that
 * forks (a shell running the same static tool in a loop) shares one page
 * with its children, made just before its first fork, so the warning is
 * said once for all of them; before that, and in vfork children (which
 * share memory anyway), the table is this image's own.
 */
#define ST_SEEN 64
static uint64_t st_seen_local[ST_SEEN];
static uint64_t *st_seen = st_seen_local;

static void st_untrace_prefork(void)
{
	void *p;

	if (st_seen != st_seen_local || !st_on || st_sandboxed())
		return;
	p = (void *)st_sys(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			   -1, 0);
	if (p == MAP_FAILED)
		return;
	memcpy(p, st_seen_local, sizeof(st_seen_local));
	st_seen = p;
}

static void st_untrace_child(void)
{
	__atomic_store_n(&st_busy, 0, __ATOMIC_RELEASE); /* a thread of the parent's was inside */
}

/* 1 the first time (dev, ino) is seen, 0 after. */
static int st_first_time(dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)dev * 0x9e3779b97f4a7c15ull) ^ (uint64_t)ino, cur;
	int i;

	if (h == 0)
		h = 1; /* 0 is a free slot (not h |= 1: inodes n and n+1 would be one) */
	for (i = 0; i < ST_SEEN; i++) {
		cur = __atomic_load_n(&st_seen[i], __ATOMIC_ACQUIRE);
		if (cur == h)
			return 0;
		if (cur == 0 && __atomic_compare_exchange_n(&st_seen[i], &cur, h, 0,
							    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return 1;
		if (cur == h)
			return 0;
	}
	return 1; /* full: said again rather than never */
}

/* The argv the next image gets, for its start record: 4 KiB at most, as /proc/PID/cmdline. */
static void st_json_exec_argv(struct st_json *j, char *const argv[])
{
	size_t used = 0, at = 0, i, n;
	int cut = 0;
	long got, len;

	st_json_key(j, "argv");
	st_json_arr(j);
	while (argv && !cut) {
		got = st_peek_ptrs(argv + at);
		if (got < (long)sizeof(char *))
			break;
		n = (size_t)got / sizeof(char *);
		for (i = 0; i < n && st_x.ptrs[i]; i++) {
			len = st_peek_str(st_x.argv, sizeof(st_x.argv) - used, st_x.ptrs[i]);
			if (len < 0) {
				cut = 1;
				break;
			}
			used += (size_t)len + 1;
			if (st_json_str_max(j, st_x.argv, (size_t)len,
					    st_json_room(j) > 256 ? st_json_room(j) - 256 : 0) !=
			    1) {
				cut = 1;
				break;
			}
		}
		if (i < n)
			break;
		at += n;
	}
	st_json_arr_end(j);
	if (cut) {
		st_json_key(j, "argv_truncated");
		st_json_bool(j, 1);
	}
}

/*
 * The start record of the image the exec begins, written by this one, since
 * that image will write nothing: same pid, "how":"exec", and "untraced"
 * saying why. Written from a fork()ed child or the program itself, not from
 * a vfork() child, whose trace state is its parent's.
 */
static void st_record_untraced(const char *path, char *const argv[], enum st_untraced why,
			       const struct st_elfinfo *e)
{
	struct st_rec r;
	struct st_json *j = &r.j;
	int fit;

	if (!st_ready || !st_same_memory_as_pid() || !st_record_begin(&r, "start"))
		return;
	st_json_key(j, "ppid");
	st_json_int(j, (long long)st_sys(SYS_getppid));
	st_json_key(j, "how");
	st_json_cstr(j, "exec");
	st_json_key(j, "exe");
	fit = st_json_str_max(j, path, strlen(path), 4200);
	if (fit < 0)
		st_json_null(j);
	if (fit != 1) {
		st_json_key(j, "exe_truncated");
		st_json_bool(j, 1);
	}
	st_json_exec_argv(j, argv);
	st_json_key(j, "tracer");
	st_json_cstr(j, PACKAGE_VERSION);
	st_json_key(j, "fds");
	st_json_cstr(j, st_config.fds == ST_FDS_ALL ? "all" : "sockets");
	st_json_key(j, "untraced");
	st_json_cstr(j, st_untraced_name(why));
	if (e->go) {
		st_json_key(j, "go");
		st_json_bool(j, 1);
	}
	st_record_emit(&r);
}

void st_untrace_exec(const char *file, int search, int fd, char *const argv[], char *const envp[])
{
	struct st_elfinfo e;
	struct st_fdlock l;
	struct stat sb;
	enum st_untraced why = ST_UNTRACED_NO;
	int saved = errno, own = -1, pre = 1;
	long len;

	if (!st_on || st_sandboxed() || __atomic_exchange_n(&st_busy, 1, __ATOMIC_ACQUIRE))
		return;
	st_me = st_sys(SYS_getpid);
	if (fd < 0) {
		len = st_peek_str(st_x.interp, sizeof(st_x.interp), file);
		if (len <= 0)
			goto out;
		if (search && !strchr(st_x.interp, '/')) {
			if (st_search(st_x.interp) != 0)
				goto out;
		} else {
			memcpy(st_x.path, st_x.interp, (size_t)len + 1);
			/* The exec will fail (EACCES): nothing starts, so nothing to say. */
			if (st_sys(SYS_faccessat, AT_FDCWD, st_x.path, X_OK) != 0)
				goto out;
		}
	} else {
		st_fd_path(fd);
	}
	if (st_tmp_begin(&l) != 0)
		goto out;
	if (fd < 0)
		fd = own = st_open_ro(st_x.path);
	if (fd >= 0) {
		why = st_judge(fd, &e);
		/* A script: the interpreter is the image, with its own set-id bits (one level). */
		if (!why && e.script && e.shebang[0] == '/') {
			memcpy(st_x.interp, e.shebang, strlen(e.shebang) + 1);
			if (own >= 0)
				(void)st_sys_close(own);
			fd = own = st_open_ro(st_x.interp);
			if (fd >= 0)
				why = st_judge(fd, &e);
		}
	}
	if (fd >= 0 && st_fstat(fd, &sb) != 0)
		fd = -1;
	if (own >= 0)
		(void)st_sys_close(own);
	st_tmp_end(&l);
	if (fd < 0)
		goto out; /* nothing to say of a file that cannot be read */
	if (!why && st_by_env) {
		pre = st_env_preloads(envp);
		if (pre == 0)
			why = ST_UNTRACED_NO_PRELOAD;
	}
	if (!why)
		goto out;
	if (st_first_time(sb.st_dev, sb.st_ino)) {
		st_cat(st_x.msg, " ", st_untraced_phrase(why),
		       e.go ? "; it will not be traced (a Go program)" : "; it will not be traced");
		st_warn("warning: ", st_x.path, st_x.msg);
	}
	st_record_untraced(st_x.path, argv, why, &e);
out:
	__atomic_store_n(&st_busy, 0, __ATOMIC_RELEASE);
	errno = saved;
}
