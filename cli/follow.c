/* follow.c: show -f: tail a trace that is still being written, chunk padding included. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/*
 * The library reserves chunks of the file as blank padding and fills them
 * later, one thread per chunk. So new events do not only appear at the end:
 * they appear inside every blank stretch that belongs to a live thread. We
 * remember where each blank stretch starts (a "hole"), read it again at
 * every poll, and move the hole past the events that have landed in it.
 */
#define HOLES 4096

static volatile sig_atomic_t stop;

static void on_int(int sig)
{
	(void)sig;
	stop = 1;
}

struct tail {
	int fd;
	off_t end;	    /* everything before is read, except the holes */
	off_t holes[HOLES]; /* starts of blank stretches still being filled */
	size_t nholes;
	char *buf;
	size_t cap;
};

/*
 * Read [from, to) and print the events in it. Returns where the scan stopped
 * being sure: the start of the first blank or unfinished line, or `to`.
 * Every later blank stretch becomes a hole of its own.
 */
static off_t scan(struct tail *t, off_t from, off_t to, int first_only, const struct filter *f,
		  void (*emit)(json_t *, void *), void *arg)
{
	size_t n = (size_t)(to - from), i = 0;
	off_t open_at = -1;
	ssize_t got;

	if (n == 0)
		return to;
	if (n > t->cap) {
		t->buf = realloc(t->buf, n);
		t->cap = n;
		if (!t->buf)
			exit(EXIT_TROUBLE);
	}
	got = pread(t->fd, t->buf, n, from);
	if (got <= 0)
		return from;
	n = (size_t)got;
	while (i < n) {
		char *nl = memchr(t->buf + i, '\n', n - i);
		size_t len;
		const char *why;
		json_t *ev;

		if (!nl) /* a line still being written at the end */
			return open_at >= 0 ? open_at : from + (off_t)i;
		len = (size_t)(nl - (t->buf + i));
		if (len == 0) { /* the newline that ends a chunk: nothing more comes here */
			i++;
			continue;
		}
		if (ev_blank(t->buf + i, len) || !(ev = ev_parse(t->buf + i, len, &why))) {
			/* Padding, or an event caught mid-copy: look again later. */
			if (open_at < 0)
				open_at = from + (off_t)i;
			else if (!first_only && t->nholes < HOLES)
				t->holes[t->nholes++] = from + (off_t)i;
			if (first_only)
				return open_at;
			/* Skip the rest of this blank stretch. */
			i += len + 1;
			while (i < n && (t->buf[i] == ' ' || t->buf[i] == '\n'))
				i++;
			continue;
		}
		if (open_at >= 0 && first_only)
			return open_at;
		if (filter_match(f, ev))
			emit(ev, arg);
		json_decref(ev);
		i += len + 1;
	}
	return open_at >= 0 ? open_at : from + (off_t)n;
}

int follow_file(const char *path, const struct filter *f, void (*emit)(json_t *, void *), void *arg)
{
	struct tail t;
	size_t k;

	memset(&t, 0, sizeof(t));
	t.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t.fd < 0) {
		cli_error("cannot open %s: %s", path, strerror(errno));
		return EXIT_TROUBLE;
	}
	signal(SIGINT, on_int);
	signal(SIGTERM, on_int);
	while (!stop) {
		off_t size = lseek(t.fd, 0, SEEK_END);
		static const struct timespec pause = {0, 200 * 1000 * 1000};

		/* Holes first: each is rescanned up to the next known position. */
		for (k = 0; k < t.nholes; k++) {
			off_t limit = k + 1 < t.nholes ? t.holes[k + 1] : t.end;
			off_t at = scan(&t, t.holes[k], limit, 1, f, emit, arg);

			if (at >= limit) { /* filled: forget the hole */
				memmove(&t.holes[k], &t.holes[k + 1],
					(t.nholes - k - 1) * sizeof(t.holes[0]));
				t.nholes--;
				k--;
			} else {
				t.holes[k] = at;
			}
		}
		if (size > t.end) {
			off_t from = t.end, at = scan(&t, from, size, 0, f, emit, arg);

			/* The unsure start becomes a hole, in file order before the new ones. */
			if (at < size && t.nholes < HOLES) {
				size_t first_new = t.nholes;

				while (first_new > 0 && t.holes[first_new - 1] > at)
					first_new--;
				memmove(&t.holes[first_new + 1], &t.holes[first_new],
					(t.nholes - first_new) * sizeof(t.holes[0]));
				t.holes[first_new] = at;
				t.nholes++;
			}
			t.end = size;
		}
		fflush(stdout);
		nanosleep(&pause, NULL);
	}
	free(t.buf);
	close(t.fd);
	return EXIT_OK;
}
