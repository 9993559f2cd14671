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
	if (fstat(in_fd, &sb) != 0) {
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
		r = readlink(link, path, sizeof(path));
		st_json_key(j, "path");
		if (r >= 0)
			st_json_str(j, path, (size_t)r);
		else
			st_json_null(j);
		st_json_key(j, "size");
		st_json_int(j, (long long)sb.st_size);
	}
	st_json_obj_end(j);
	errno = saved;
}
