/*
 * fdlimit: the open-file budget of a process, and how a daemon splits it between its
 * listeners.
 *
 * A listener that may take one descriptor per peer must never be allowed to take them
 * all: when accept() fails with EMFILE the kernel keeps the connection queued and the
 * listening socket stays readable, so the loop spins (see accept_pause.h). rs sizes
 * its connection caps from the limit instead: `reserve` descriptors for its own files
 * (log, database, journal, SNMP, the listeners themselves), a small share for HTTP,
 * the rest for STOMP.
 *
 * fdlimit_raise does I/O (getrlimit/setrlimit); fdlimit_plan is pure.
 */
#ifndef COMMON_FDLIMIT_H
#define COMMON_FDLIMIT_H

#include <stdbool.h>
#include <stddef.h>

/* Descriptors a daemon keeps for itself, outside any connection cap. */
#define FDLIMIT_RESERVE 64
/* The automatic STOMP cap never goes beyond this (the config key's maximum). */
#define FDLIMIT_STOMP_MAX 100000

/* Raise the soft RLIMIT_NOFILE to the hard limit. *before / *after get the soft limit
 * before and after (equal when it was already at the hard limit or could not be
 * raised). Returns 0, or -1 with a sentence in err when the limit cannot be read; a
 * failed raise is not an error (the old limit stays and *after says so). */
int fdlimit_raise(long *before, long *after, char *err, size_t errlen);

/* The soft RLIMIT_NOFILE now (1024 when it cannot be read or is unlimited beyond
 * what an int holds: then 1 << 20). */
long fdlimit_current(void);

/* The HTTP connection cap used when none is configured: an eighth of what is left
 * after the reserve, at least 4 and at most 1024. Pure. */
int fdlimit_http_default(long nofile);

/* Connection caps for a listener pair under an open-file limit. */
typedef struct fdlimit_plan {
	long nofile;  /* the limit the plan was made for */
	int reserve;  /* kept out of both caps */
	int stomp;    /* STOMP connections */
	int http;     /* HTTP connections (0 when HTTP is off) */
} fdlimit_plan_t;

/* Split nofile - FDLIMIT_RESERVE between STOMP and HTTP. stomp_cfg / http_cfg: the
 * configured caps, 0 = choose (HTTP: fdlimit_http_default; STOMP: the rest, at most
 * FDLIMIT_STOMP_MAX). http_on false: no HTTP listener, http is 0. Returns 0, or -1
 * with a sentence naming the keys when the configured caps need more descriptors than
 * the limit gives (or the limit leaves no room at all). Pure. */
int fdlimit_plan(long nofile, int stomp_cfg, int http_cfg, bool http_on,
		 fdlimit_plan_t *out, char *err, size_t errlen);

#endif
