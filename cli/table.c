/* table.c: finds an item by its key in constant time, for the CLI's groupings (peers, lint sites,
 * symbols). */
#include "config.h"

#include <stdlib.h>

#include "cli.h"

/*
 * A trace can hold a million peers or call sites, and each event looks its
 * own up: a list searched from the start made stats and lint quadratic. The
 * table keeps item numbers (the caller's array holds the items) with their
 * hashes, by open addressing with linear probing, never more than half full,
 * so a lookup looks at under two slots on average. It counts the slots it
 * looks at, so the tests can check the work without timing it.
 */

unsigned long table_hash(unsigned long h, const char *s)
{
	const unsigned char *p;

	/* FNV-1a; a NUL after each string, so ("ab", "c") and ("a", "bc") differ. */
	for (p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h * 16777619u;
}

static void table_grow(struct table *t)
{
	size_t n = t->nslots ? 2 * t->nslots : 64, k;
	struct table_slot *s = calloc(n, sizeof(*s));

	if (!s) {
		cli_error("out of memory");
		exit(EXIT_TROUBLE);
	}
	for (k = 0; k < t->nslots; k++) {
		size_t i;

		if (!t->slots[k].item)
			continue;
		for (i = t->slots[k].hash & (n - 1); s[i].item; i = (i + 1) & (n - 1))
			;
		s[i] = t->slots[k];
	}
	free(t->slots);
	t->slots = s;
	t->nslots = n;
}

size_t table_find(struct table *t, unsigned long hash, int (*same)(size_t item, const void *key),
		  const void *key, size_t new_item)
{
	size_t i;

	if (2 * (t->used + 1) > t->nslots)
		table_grow(t);
	for (i = hash & (t->nslots - 1);; i = (i + 1) & (t->nslots - 1)) {
		struct table_slot *s = &t->slots[i];

		t->probes++;
		if (!s->item) {
			if (new_item == TABLE_NONE)
				return TABLE_NONE;
			s->item = new_item + 1;
			s->hash = hash;
			t->used++;
			return new_item;
		}
		if (s->hash == hash && same(s->item - 1, key))
			return s->item - 1;
	}
}

void table_free(struct table *t)
{
	free(t->slots);
	t->slots = NULL;
	t->nslots = t->used = 0;
}

void table_report(const char *who, const struct table *t)
{
	/* For tests only: the work done, which must grow with the items, not their square. */
	if (getenv("SENDTRACE_TABLE_PROBES"))
		cli_error("%s: %zu entries, %llu table probes", who, t->used, t->probes);
}
