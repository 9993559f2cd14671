/* ctlpage.h: the control page each traced process maps, shared by the library and `sendtrace ctl`. */
#ifndef ST_CTLPAGE_H
#define ST_CTLPAGE_H

#include <stdint.h>

/*
 * One file of one page per process, sendtrace-ctl.PID in a private runtime directory
 * (0700, owned by the user): the library maps it MAP_SHARED and closes the
 * fd, so the program's fd table holds nothing of it. `sendtrace ctl` finds
 * a process's page through /proc/PID/maps and opens it through
 * /proc/PID/root, which works across mount namespaces (PrivateTmp=) and
 * needs the same rights as reading the process's memory: the same user, or
 * root.
 *
 * Who writes what: ctl writes `on` and the requested settings; the library
 * writes everything else. Settings are published seqlock-style: ctl makes
 * `seq` odd, writes, makes it even; the library applies them (at its next
 * traced call) when it sees an even `seq` it has not applied, and says so in
 * `applied`, with the reason in `reply` when it refused them.
 *
 * The library reads nothing from here without bounding it: the page is
 * writable by the user, and a number or string in it is a request.
 */
#define ST_CTL_MAGIC   0x31544353u /* "SCT1" */
#define ST_CTL_SIZE    4096
#define ST_CTL_DIRNAME "sendtrace"
#define ST_CTL_PREFIX  "sendtrace-ctl."

/* Counters kept in the page itself: the hot path adds to them there, at no extra cost. */
enum st_count {
	ST_COUNT_EVENTS,      /* events written */
	ST_COUNT_DROPPED,     /* events lost (no room, nested too deep, too big) */
	ST_COUNT_CAPPED,      /* events not written because of the size cap */
	ST_COUNT_FILTERED,    /* calls the record-time filter rejected */
	ST_COUNT_SAMPLED_OUT, /* calls sampling left out */
	ST_COUNT_MAX = 8
};

struct st_ctlpage {
	uint32_t magic;
	uint32_t size; /* sizeof(struct st_ctlpage): a reader of another version can tell */
	int32_t pid;
	uint32_t uid;
	uint64_t starttime; /* /proc/PID/stat's 22nd field: tells a reused pid, survives exec */
	/* ---- written by ctl ---- */
	uint32_t on;	    /* read by every traced call: 0 dormant, 1 recording */
	uint32_t seq;	    /* settings below: odd while ctl writes them */
	int32_t backtrace;  /* -1: unchanged */
	int32_t sample;	    /* -1: unchanged; 0 and 1: every call */
	uint32_t has_filter; /* filter[] below is a request ("" clears it) */
	char filter[1024];
	/* ---- written by the library ---- */
	uint32_t applied;     /* the last even seq the library took (or refused) */
	uint32_t sink_open;   /* 1 once the trace file is open; 2 it could not be made when switched on */
	int32_t cur_backtrace; /* the settings in force */
	int32_t cur_sample;
	char cur_filter[1024];
	char reply[256]; /* why the last request was refused, or "" */
	char comm[16];
	char trace[1024]; /* the trace file's path (expanded), "" before it is known */
	uint64_t count[ST_COUNT_MAX];
};

#endif
