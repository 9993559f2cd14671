/* sendfile.c: what sendfile() reads from: the in_fd's kind and, for a file, its path. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "st.h"

static const char *st_fd_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "file";
	case S_IFIFO:
		return "pipe";
	case S_IFSOCK:
		return "socket";
	case S_IFCHR:
		return "chr";
	case S_IFBLK:
		return "blk";
	case S_IFDIR:
		return "dir";
	default:
		return "other";
	}
}

/*
 * The path of a file costs a readlink through /proc, dearer than the rest
 * of the event; servers send the same files again and again. The last path
 * per in_fd is kept with the file's inode, so a reused fd number is looked
 * up afresh. (A file renamed while open keeps its old path here.)
 */
#define ST_PATHS 256

struct st_path_entry {
	unsigned seq; /* odd while being written */
	dev_t dev;
	ino_t ino;
	size_t len;
	char path[1024];
};

static struct st_path_entry st_paths[ST_PATHS];

static int st_path_cached(struct st_json *j, int fd, const struct stat *sb)
{
	struct st_path_entry *e = &st_paths[fd % ST_PATHS];
	unsigned seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	char copy[sizeof(e->path)];
	size_t len = e->len;

	if ((seq & 1) || e->dev != sb->st_dev || e->ino != sb->st_ino || len > sizeof(copy) || !seq)
		return 0;
	memcpy(copy, e->path, len);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != seq)
		return 0;
	st_json_str(j, copy, len);
	return 1;
}

static void st_path_store(int fd, const struct stat *sb, const char *path, size_t len)
{
	struct st_path_entry *e = &st_paths[fd % ST_PATHS];
	unsigned seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);

	if ((seq & 1) || len > sizeof(e->path) ||
	    !__atomic_compare_exchange_n(&e->seq, &seq, seq + 1, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return;
	e->dev = sb->st_dev;
	e->ino = sb->st_ino;
	e->len = len;
	memcpy(e->path, path, len);
	__atomic_store_n(&e->seq, seq + 2, __ATOMIC_RELEASE);
}

/* "in": {"fd", "kind", "path"}; kind is null when in_fd is not open. */
void st_json_infd(struct st_json *j, int in_fd)
{
	struct stat sb;
	char link[32], path[4096];
	size_t n;
	ssize_t r;
	int saved = errno;

	st_json_obj(j);
	st_json_key(j, "fd");
	st_json_int(j, in_fd);
	st_json_key(j, "kind");
	if (st_fstat(in_fd, &sb) != 0) {
		st_json_null(j);
		st_json_obj_end(j);
		errno = saved;
		return;
	}
	st_json_cstr(j, st_fd_kind(sb.st_mode));
	if (S_ISREG(sb.st_mode)) {
		n = 0;
		memcpy(link, "/proc/self/fd/", 14);
		n = 14 + st_fmt_uint(link + 14, (unsigned)in_fd);
		link[n] = '\0';
		st_json_key(j, "path");
		if (!st_path_cached(j, in_fd, &sb)) {
			r = readlink(link, path, sizeof(path));
			if (r >= 0) {
				st_json_str(j, path, (size_t)r);
				st_path_store(in_fd, &sb, path, (size_t)r);
			} else {
				st_json_null(j);
			}
		}
		st_json_key(j, "size");
		st_json_int(j, (long long)sb.st_size);
	}
	st_json_obj_end(j);
	errno = saved;
}
