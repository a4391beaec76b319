/*
 * pg_params: the libpq connection parameters rs uses, built from the configured
 * conninfo (key=value or postgresql:// URL: libpq parses both) plus what rs adds
 * where the user set nothing: connect_timeout=3, keepalives=1, keepalives_idle=10,
 * keepalives_interval=5, keepalives_count=3, and options "-c statement_timeout=N"
 * (appended to the user's own options unless they set statement_timeout). Pure
 * (no connection is made).
 */
#ifndef RS_PG_PARAMS_H
#define RS_PG_PARAMS_H

#include <libpq-fe.h>
#include <stddef.h>

#define PG_PARAMS_MAX 48

typedef struct pg_params {
	PQconninfoOption *parsed;           /* owns the user's values */
	const char *keys[PG_PARAMS_MAX + 1]; /* NULL-terminated, for PQconnectStartParams */
	const char *vals[PG_PARAMS_MAX + 1];
	char options[1200];
	char connect_s[16];
	int connect_ms; /* rs's bound on one connection attempt (connect_timeout) */
	int answer_ms;  /* rs's bound on any one answer: statement timeout + 500 ms */
} pg_params_t;

/* Build p from conninfo and the statement timeout (ms, > 0). 0, or -1 with a
 * sentence in err (p then holds nothing to free). */
int pg_params_build(pg_params_t *p, const char *conninfo, int statement_timeout_ms,
		    char *err, size_t errlen);
/* The value given for key, or NULL. */
const char *pg_params_get(const pg_params_t *p, const char *key);
void pg_params_free(pg_params_t *p);

#endif
