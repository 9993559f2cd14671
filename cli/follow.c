/* follow.c: show -f: tail a trace that is still being written, chunk padding included. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/*
 * The library appends room to the file as blank padding and fills it later,
 * each thread its own slice. So new events do not only appear at the end:
 * they appear in any blank stretch that a live thread may still write. We
 * keep those stretches ("holes", a bounded table), read them again at every
 * poll, and shrink each to what is still blank. docs/events.md gives the
 * writer's side of the contract that makes this sound:
 * - an event is copied with its first byte last, so a line whose first byte
 *   was '{' when read is whole when read again (a torn line is never shown);
 * - room that will never be written is closed into filler records
 *   ({"v":1,"event":"pad" ...}, or blank lines led by a tab from older
 *   versions): not a hole;
 * - a line starts at a newline, and nothing is ever written in the middle of
 *   a line, except by the event that began it.
 * Memory is bounded: two windows and the hole table, whatever the file's size.
 */
#define WIN   (1u << 20) /* bytes read at a time; a longer line is not an event */
#define HOLES 4096
#define MARK  64 /* bytes of one whole line, to notice the file being rewritten */
#define GRAIN 256 /* the library's padding lines: 255 blanks and a newline */

static volatile sig_atomic_t stop;

static void on_int(int sig)
{
	(void)sig;
	stop = 1;
}

struct hole {
	off_t a, b;    /* every line that starts in [a, b) may still change */
	unsigned idle; /* polls since an event last came out of it */
};

struct tail {
	const char *path;
	int fd;
	dev_t dev;
	ino_t ino;
	off_t size;
	off_t end;  /* everything before is read, except the holes */
	off_t done; /* this poll: lines starting before it are read */
	struct hole *holes, *next;
	size_t nholes, nnext;
	char *w1, *w2; /* the same bytes read twice: first bytes from w1, lines from w2 */
	off_t mark_at; /* where a whole line was seen, and its first bytes */
	char mark[MARK];
	size_t mark_len;
	int evict_said;
	const struct filter *f;
	void (*emit)(json_t *, void *);
	void *arg;
};

/*
 * Too many holes: the ones idle longest (a thread that died, a process that
 * was killed, leave theirs blank forever) are no longer watched.
 */
static void holes_evict(struct tail *t, size_t keep)
{
	while (t->nnext > keep) {
		unsigned most = 0;
		size_t i, j;

		for (i = 0; i < t->nnext; i++)
			if (t->next[i].idle > most)
				most = t->next[i].idle;
		for (i = j = 0; i < t->nnext; i++)
			if (t->next[i].idle != most || t->nnext - (i - j) <= keep)
				t->next[j++] = t->next[i];
		t->nnext = j;
	}
	if (!t->evict_said) {
		t->evict_said = 1;
		cli_error("show -f: more than %d blank stretches of %s are still open; the "
			  "longest idle are no longer watched",
			  HOLES, t->path);
	}
}

/* [a, b) may still change: merged with the hole before it when they touch. */
static void hole_add(struct tail *t, off_t a, off_t b, unsigned idle)
{
	struct hole *last = t->nnext ? &t->next[t->nnext - 1] : NULL;

	if (last && a == last->b) {
		last->b = b;
		if (idle < last->idle)
			last->idle = idle;
		return;
	}
	if (t->nnext == 2 * HOLES)
		holes_evict(t, HOLES);
	t->next[t->nnext].a = a;
	t->next[t->nnext].b = b;
	t->next[t->nnext].idle = idle;
	t->nnext++;
}

/* Past a line longer than a window, jumping over what a sparse file does not hold. */
static off_t skip_line(struct tail *t, off_t at)
{
	while (at < t->size) {
		off_t data = lseek(t->fd, at, SEEK_DATA);
		ssize_t got;
		char *nl;

		if (data < 0)
			return t->size; /* no data up to the end (ENXIO) */
		at = data;
		got = pread(t->fd, t->w2, WIN, at);
		if (got <= 0)
			return t->size;
		nl = memchr(t->w2, '\n', (size_t)got);
		if (nl)
			return at + (nl - t->w2) + 1;
		at += got;
	}
	return t->size;
}

static int show_line(struct tail *t, const char *s, size_t len, off_t at)
{
	const char *why;
	json_t *ev = ev_parse(s, len, &why);

	if (!ev)
		return 0; /* whole but not an event (or the end of one): nothing changes it */
	if (ev_pad(s, len)) {
		json_decref(ev);
		return 0; /* closed room: nothing will be written there */
	}
	t->mark_at = at;
	t->mark_len = len < MARK ? len : MARK;
	memcpy(t->mark, s, t->mark_len);
	if (filter_match(t->f, ev))
		t->emit(ev, t->arg);
	json_decref(ev);
	return 1;
}

static int hole_cmp(const void *x, const void *y)
{
	const struct hole *a = x, *b = y;

	return a->a < b->a ? -1 : a->a > b->a;
}

/* The next table in file order, overlapping or touching holes merged. */
static void holes_sort(struct tail *t)
{
	size_t i, j = 0;

	qsort(t->next, t->nnext, sizeof(t->next[0]), hole_cmp);
	for (i = 0; i < t->nnext; i++) {
		if (j && t->next[i].a <= t->next[j - 1].b) {
			if (t->next[i].b > t->next[j - 1].b)
				t->next[j - 1].b = t->next[i].b;
			if (t->next[i].idle < t->next[j - 1].idle)
				t->next[j - 1].idle = t->next[i].idle;
		} else {
			t->next[j++] = t->next[i];
		}
	}
	t->nnext = j;
}

/*
 * Read the lines that start in [a, b), print the whole events, and keep
 * what may still change as holes. Returns how many events came out.
 */
static unsigned long scan(struct tail *t, off_t a, off_t b, unsigned idle)
{
	unsigned long events = 0;
	off_t pos = a > t->done ? a : t->done; /* a line is read once a poll */

	while (pos < b && pos < t->size) {
		size_t want = t->size - pos < WIN ? (size_t)(t->size - pos) : WIN, n, i = 0;
		ssize_t n1 = pread(t->fd, t->w1, want, pos), n2;

		/* A second read, after the first: what the first saw whole is whole in it. */
		n2 = n1 > 0 ? pread(t->fd, t->w2, (size_t)n1, pos) : -1;
		if (n2 <= 0) {
			hole_add(t, pos, b, idle); /* cannot read it now: look again */
			break;
		}
		n = (size_t)n2;
		while (i < n && pos + (off_t)i < b) {
			char *nl = memchr(t->w2 + i, '\n', n - i);
			off_t at = pos + (off_t)i;
			size_t len;

			if (!nl)
				break;
			len = (size_t)(nl - (t->w2 + i));
			if (t->w1[i] == '{' && show_line(t, t->w2 + i, len, at)) {
				/* Whole (its first byte was written last), and printed. */
				events++;
			} else if (len > 0 && (t->w1[i] == ' ' || t->w2[i] == ' ')) {
				/*
				 * Padding still open, or an event being copied (first
				 * byte last). The hole runs to the end of the padding
				 * line (GRAIN bytes, docs/events.md) even when the
				 * second read found a newline sooner: an event being
				 * copied ends before the blank line did, and its
				 * thread writes next right after it. Never further: the
				 * next padding line may be another thread's, with an
				 * event already shown.
				 */
				off_t e = at + (off_t)len + 1, g = at - at % GRAIN + GRAIN;

				hole_add(t, at, e > g ? e : g, events ? 0 : idle);
			}
			/*
			 * Otherwise nothing starts here any more: padding closed with a
			 * tab, an empty line, a line that is not an event, or the middle
			 * of a line that began earlier.
			 */
			i += len + 1;
		}
		if (i == 0 && pos + (off_t)n < t->size) {
			/* No newline in a whole window: not an event; skip the line. */
			pos = skip_line(t, pos + (off_t)n);
			continue;
		}
		if (i == 0) {
			hole_add(t, pos, pos + 1, idle); /* unfinished, at the end */
			pos += (off_t)n;
			break;
		}
		pos += (off_t)i;
	}
	if (pos > t->done)
		t->done = pos;
	return events;
}

static void tail_reset(struct tail *t, const char *why)
{
	cli_error("show -f: %s %s; reading it again from the start", t->path, why);
	t->nholes = 0;
	t->end = 0;
	t->mark_len = 0;
}

/* Truncated, replaced or rewritten since the last poll? Then start again. */
static int tail_check(struct tail *t)
{
	struct stat sb;
	char now[MARK];

	if (stat(t->path, &sb) == 0 && (sb.st_dev != t->dev || sb.st_ino != t->ino)) {
		int fd = open(t->path, O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			close(t->fd);
			t->fd = fd;
			t->dev = sb.st_dev;
			t->ino = sb.st_ino;
			tail_reset(t, "was replaced");
		}
	}
	if (fstat(t->fd, &sb) != 0)
		return -1;
	t->size = sb.st_size;
	if (t->size < t->end)
		tail_reset(t, "was truncated");
	else if (t->mark_len &&
		 (pread(t->fd, now, t->mark_len, t->mark_at) != (ssize_t)t->mark_len ||
		  memcmp(now, t->mark, t->mark_len) != 0))
		tail_reset(t, "was rewritten");
	return 0;
}

int follow_file(const char *path, const struct filter *f, void (*emit)(json_t *, void *), void *arg)
{
	static const struct timespec pause = {0, 200 * 1000 * 1000};
	struct tail t;
	struct stat sb;
	size_t k;

	memset(&t, 0, sizeof(t));
	t.path = path;
	t.f = f;
	t.emit = emit;
	t.arg = arg;
	t.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t.fd < 0) {
		cli_error("cannot open %s: %s", path, strerror(errno));
		return EXIT_TROUBLE;
	}
	if (fstat(t.fd, &sb) != 0 || S_ISDIR(sb.st_mode)) {
		cli_error("%s is a directory, not a trace file", path);
		close(t.fd);
		return EXIT_TROUBLE;
	}
	t.dev = sb.st_dev;
	t.ino = sb.st_ino;
	t.holes = malloc(2 * HOLES * sizeof(*t.holes));
	t.next = malloc(2 * HOLES * sizeof(*t.next));
	t.w1 = malloc(WIN);
	t.w2 = malloc(WIN);
	if (!t.holes || !t.next || !t.w1 || !t.w2) {
		cli_error("show -f: out of memory");
		return EXIT_TROUBLE;
	}
	signal(SIGINT, on_int);
	signal(SIGTERM, on_int);
	while (!stop) {
		if (tail_check(&t) == 0) {
			/* Holes in file order, then what is new: the next table, in order too. */
			t.nnext = 0;
			t.done = 0;
			for (k = 0; k < t.nholes; k++) {
				struct hole *h = &t.holes[k];

				scan(&t, h->a, h->b, h->idle < 1000000 ? h->idle + 1 : h->idle);
			}
			if (t.size > t.end) {
				scan(&t, t.end, t.size, 0);
				t.end = t.size;
			}
			holes_sort(&t);
			if (t.nnext > HOLES)
				holes_evict(&t, HOLES);
			{
				struct hole *swap = t.holes;

				t.holes = t.next;
				t.next = swap;
				t.nholes = t.nnext;
			}
		}
		fflush(stdout);
		nanosleep(&pause, NULL);
	}
	free(t.holes);
	free(t.next);
	free(t.w1);
	free(t.w2);
	close(t.fd);
	return EXIT_OK;
}
