/*
 * rq: the report thread's own database connection (never the writer's), SQLite or
 * PostgreSQL as the config says. Blocking; used by one thread.
 *
 * SQL is written once with '?' placeholders (rewritten to $1.. for PostgreSQL);
 * parameters and result columns travel as text (NULL = SQL NULL): a parameter used as
 * a number is written CAST(? AS BIGINT) (RQ_INT) in the SQL.
 * SQLite: a second connection to the same file; WAL lets it read while the writer
 * commits. PostgreSQL: its own session with the same connect and statement timeouts
 * as the writer's (pg_params.h); a lost connection is reopened on the next call.
 */
#ifndef RS_RQ_H
#define RS_RQ_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct rq rq_t;

#define RQ_INT "CAST(? AS BIGINT)"

/* Called per result row with ncols values (NULL for SQL NULL). Non-zero stops. */
typedef int (*rq_row_fn)(void *arg, int ncols, const char *const *vals);

rq_t *rq_open(const rs_config_t *cfg, char *err, size_t errlen);
void rq_close(rq_t *q); /* NULL is allowed */
int rq_is_pg(const rq_t *q);

/* Run sql with n text parameters; each row goes to fn (may be NULL). *changes (may be
 * NULL) gets the rows a DELETE/UPDATE touched. 0, or -1 with err. */
int rq_exec(rq_t *q, const char *sql, int n, const char *const *params, rq_row_fn fn,
	    void *arg, long long *changes, char *err, size_t errlen);

#endif
