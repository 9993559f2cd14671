/* ok-sendfile-eof.c: sendfile up to the end of its file, the last call short or 0: correct.
 * expect: none
 * run: -e all,lifecycle
 */
#include <sys/sendfile.h>

#include "corpus.h"

/* A file of n bytes, opened for reading (and already unlinked). */
static int file_of(size_t n)
{
	char path[] = "/tmp/st-corpus-XXXXXX";
	int fd = mkstemp(path);
	char *buf = calloc(1, n + 1);

	if (fd < 0 || !buf || write(fd, buf, n) != (ssize_t)n || lseek(fd, 0, SEEK_SET))
		cp_die("file");
	unlink(path);
	free(buf);
	return fd;
}

int main(void)
{
	struct cp_reader r;
	int c, s, small = file_of(3), big = file_of(300000), tiny = file_of(3);
	off_t off = 0;
	ssize_t n;

	signal(SIGPIPE, SIG_IGN); /* sendfile cannot pass MSG_NOSIGNAL */
	cp_tcp_pair(&c, &s);
	cp_reader_start(&r, s, 0, 0);
	/* A 3-byte file sent with count 4: sendfile returns 3, the end of the file. */
	if (sendfile(c, small, &off, 4) != 3)
		cp_die("sendfile 3 of 4");
	/* A file sent in pieces until sendfile returns 0, as Python's socket.sendfile does. */
	off = 0;
	while ((n = sendfile(c, big, &off, 65536)) > 0)
		;
	if (n < 0)
		cp_die("sendfile loop");
	/* From the file position (no offset): short at the end too. */
	if (sendfile(c, tiny, NULL, 10) != 3)
		cp_die("sendfile from the position");
	close(c);
	return cp_reader_join(&r) == 300006 ? 0 : 99;
}
