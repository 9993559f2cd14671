/* addr.c: which module an address lies in, and where, read from /proc/self/maps without the loader
 * lock. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "st.h"

/*
 * dladdr() and dl_iterate_phdr() take the dynamic loader's lock, which a
 * signal handler that interrupted dlopen() would wait for forever. The
 * kernel's view of the mappings needs only open and read, and sees modules
 * loaded later with dlopen() too.
 */
struct st_mapping {
	uintptr_t lo, hi, foff;
	const char *path; /* NULL for anonymous mappings */
	size_t pathlen;
};

static const char *st_hex(const char *p, uintptr_t *v)
{
	uintptr_t x = 0;

	for (;; p++) {
		char c = *p;

		if (c >= '0' && c <= '9')
			x = x * 16 + (uintptr_t)(c - '0');
		else if ((c | 32) >= 'a' && (c | 32) <= 'f')
			x = x * 16 + (uintptr_t)((c | 32) - 'a' + 10);
		else
			break;
	}
	*v = x;
	return p;
}

/*
 * Calls fn for each mapping until it returns non-zero. The buffers are the
 * thread's scratch space, not the stack: this runs in signal handlers on
 * small sigaltstacks. A nested call (a handler that interrupted one) makes
 * do with small ones on the stack.
 */
static void st_maps_each(int (*fn)(const struct st_mapping *, void *), void *arg)
{
	struct st_thread *t = st_thread_get();
	char small_buf[256], small_line[384];
	char *buf = small_buf, *line = small_line;
	size_t ll = 0, bufsize = sizeof(small_buf), linesize = sizeof(small_line);
	ssize_t n, i;
	int fd, saved = errno, mine = 0, cancel, unused;
	struct st_fdlock l;

	/* open and read are cancellation points: none may be taken inside the tracer. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	if (t && !t->scratch_busy) {
		t->scratch_busy = mine = 1;
		buf = t->scratch;
		bufsize = 4096;
		line = t->scratch + 4096;
		linesize = sizeof(t->scratch) - 4096;
	}
	if (st_tmp_begin(&l) != 0)
		goto out;
	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto tmp;
	while ((n = read(fd, buf, bufsize)) > 0) {
		for (i = 0; i < n; i++) {
			struct st_mapping m;
			const char *p;

			if (buf[i] != '\n') {
				if (ll < linesize - 1)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = '\0';
			ll = 0;
			/* lo-hi perms offset dev inode path */
			p = st_hex(line, &m.lo);
			p = st_hex(p + 1, &m.hi);
			p = strchr(p + 1, ' ');
			if (!p)
				continue;
			st_hex(p + 1, &m.foff);
			m.path = strchr(p, '/');
			if (!m.path)
				m.path = strchr(p, '[');
			m.pathlen = m.path ? strlen(m.path) : 0;
			if (fn(&m, arg))
				goto done;
		}
	}
done:
	st_sys_close(fd);
tmp:
	st_tmp_end(&l);
out:
	if (mine)
		t->scratch_busy = 0;
	pthread_setcancelstate(cancel, &unused);
	errno = saved;
}

struct st_find {
	uintptr_t ip;
	char *obj;
	size_t cap, len;
	uintptr_t off;
	int found;
};

static int st_find_one(const struct st_mapping *m, void *arg)
{
	struct st_find *f = arg;

	if (f->ip < m->lo || f->ip >= m->hi)
		return 0;
	f->found = 1;
	f->off = f->ip - m->lo + m->foff;
	f->len = m->pathlen < f->cap ? m->pathlen : f->cap;
	if (f->len)
		memcpy(f->obj, m->path, f->len);
	return 1;
}

size_t st_addr_module(uintptr_t ip, char *obj, size_t cap, uintptr_t *off)
{
	struct st_find f = {ip, obj, cap, 0, ip, 0};

	st_maps_each(st_find_one, &f);
	*off = f.off;
	return f.found ? f.len : 0;
}

struct st_extent {
	const char *obj;
	size_t len;
	uintptr_t lo, hi;
};

static int st_extent_one(const struct st_mapping *m, void *arg)
{
	struct st_extent *e = arg;

	if (m->pathlen != e->len || memcmp(m->path, e->obj, e->len))
		return 0;
	if (!e->lo || m->lo < e->lo)
		e->lo = m->lo;
	if (m->hi > e->hi)
		e->hi = m->hi;
	return 0;
}

/* The address range of every mapping of the module that holds ip. */
int st_addr_range(uintptr_t ip, uintptr_t *lo, uintptr_t *hi)
{
	char obj[512];
	uintptr_t off;
	struct st_extent e = {obj, 0, 0, 0};

	e.len = st_addr_module(ip, obj, sizeof(obj), &off);
	*lo = *hi = 0;
	if (!e.len)
		return -1;
	st_maps_each(st_extent_one, &e);
	*lo = e.lo;
	*hi = e.hi;
	return 0;
}

/*
 * The lock-free tables keyed by address (lint's call sites, backtrace
 * frames): open addressing, a slot claimed by compare-and-swap on its key,
 * then filled and published by its claimer. A reader meeting a slot still
 * being filled goes on without it rather than wait (a signal handler may have
 * interrupted the filler on the same thread).
 */
struct st_slot *st_slot_find(void *table, size_t n, size_t size, uintptr_t ip, unsigned probe,
			     int *fresh)
{
	unsigned h = (unsigned)((ip >> 3) ^ (ip >> 17)) % n, i;

	if (fresh)
		*fresh = 0;
	for (i = 0; i < probe && i < n; i++) {
		struct st_slot *s = (struct st_slot *)((char *)table + ((h + i) % n) * size);
		uintptr_t seen = __atomic_load_n(&s->ip, __ATOMIC_ACQUIRE), zero = 0;

		if (seen == ip) {
			if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == 2)
				return s;
			if (fresh)
				*fresh = -1; /* being filled by another thread (or a handler's victim) */
			return NULL;
		}
		if (seen)
			continue;
		if (!fresh)
			return NULL; /* a free slot ends the probe: ip is not here */
		if (!__atomic_compare_exchange_n(&s->ip, &zero, ip, 0, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE)) {
			if (zero == ip) {
				if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == 2)
					return s;
				*fresh = -1;
				return NULL;
			}
			continue;
		}
		__atomic_store_n(&s->state, 1, __ATOMIC_RELEASE);
		*fresh = 1;
		return s;
	}
	return NULL;
}

void st_slot_ready(struct st_slot *s)
{
	__atomic_store_n(&s->state, 2, __ATOMIC_RELEASE);
}
