/* sarif.h: lint findings as SARIF 2.1.0, the format CI code scanning reads. */
#ifndef ST_SARIF_H
#define ST_SARIF_H

#include <stdio.h>

#include <jansson.h>

#include "rules.h"

/*
 * One grouped finding, whatever grouped it: the per-event findings of a
 * call site, or a whole-trace rule's. Only rule is required; the rest may
 * be 0 or NULL.
 */
struct sarif_finding {
	const struct st_rule *rule; /* an entry of st_rules[] (another has no ruleIndex) */
	const char *site;	    /* where, as text: "obj+0xoff", or the top frames */
	const char *example;	    /* one call, as text: "send on AF_INET SOCK_STREAM to ..." */
	unsigned long count;
	long long first, last; /* ts of the first and last occurrence, ns since the epoch */
	json_t *pids;	       /* array of integers (borrowed) */
	/*
	 * One event of the group (borrowed): its "bt" frames or "site" give
	 * the locations, its "fd", "call" and "sock" the properties.
	 */
	json_t *event;
};

/* The whole SARIF log: every rule of st_rules[] and one result per finding. */
void sarif_print(FILE *out, const struct sarif_finding *v, size_t n);

#endif
