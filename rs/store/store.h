/*
 * store: the storage interface rs writes through, one backend per process.
 *
 * Tables (created and migrated by store_migrate, recorded in rs_schema):
 *   cdr     decoded columns of a record_t + body (the JSON as received) + received_ms
 *   events  id primary key, body, received_ms
 *   metrics id primary key, body, received_ms
 *   cdr_dead_letter  id, kind, body (raw bytes), error, received_ms, quarantined_at:
 *           records the database refused (store_quarantine)
 * Every insert is idempotent on id: a row whose id is already stored is skipped and
 * counted as a duplicate.
 *
 * A store is used by one thread at a time (the writer thread; main for --init).
 */
#ifndef RS_STORE_H
#define RS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "record.h"

enum rs_kind { RS_KIND_CDR = 0, RS_KIND_EVENT = 1, RS_KIND_METRIC = 2 };

/* One row to insert. rec is required for RS_KIND_CDR and ignored otherwise; body is
 * body_len bytes of valid UTF-8 JSON (not necessarily NUL-terminated). */
typedef struct rs_row {
	enum rs_kind kind;
	const char *id;
	const record_t *rec;
	const char *body;
	size_t body_len;
	int64_t received_ms;
} rs_row_t;

typedef struct rs_store rs_store_t;

/* Connect/open the backend chosen by cfg. Returns the store, or NULL with a sentence
 * in err. For PostgreSQL a store may be returned while the server is unreachable:
 * store_ping() tells, and insert_batch reconnects. */
rs_store_t *store_open(const rs_config_t *cfg, char *err, size_t errlen);

/* Create or upgrade the schema to the current version. 0, or -1 with err. */
int store_migrate(rs_store_t *s, char *err, size_t errlen);

/* store_insert_batch's answer when the database refused the batch because of what a
 * row holds (invalid json, a constraint, a value too large), not because it is
 * unreachable: retrying the same batch will fail the same way. */
#define STORE_EROW (-2)

/* Insert n rows in one transaction, durable when this returns 0. *inserted gets the
 * number of new rows (n - *inserted were duplicates). -1 with err when the batch was
 * not committed (nothing of it is stored); the caller may retry it. STORE_EROW (with
 * err) when a row of it is refused: nothing is stored, and the caller should split
 * the batch to find the row. */
int store_insert_batch(rs_store_t *s, const rs_row_t *rows, size_t n, size_t *inserted,
		       char *err, size_t errlen);

/* Is the database reachable (reconnecting if needed)? 0 yes, -1 no (err says why). */
int store_ping(rs_store_t *s, char *err, size_t errlen);

void store_close(rs_store_t *s);

/* Keep a refused row in the dead-letter table with why. 0, or -1 with err (the
 * database refused that too, or is unreachable). Idempotent on (id, kind, body): the
 * same record refused again (resent, or its batch retried) adds no second row. */
int store_quarantine(rs_store_t *s, const rs_row_t *row, const char *why, char *err,
		     size_t errlen);

/* Backend entry points (store.c dispatches on cfg->backend). */
struct rs_store_ops {
	int (*migrate)(rs_store_t *, char *, size_t);
	int (*insert_batch)(rs_store_t *, const rs_row_t *, size_t, size_t *, char *,
			    size_t);
	int (*ping)(rs_store_t *, char *, size_t);
	void (*close)(rs_store_t *);
	int (*quarantine)(rs_store_t *, const rs_row_t *, const char *, char *, size_t);
};

struct rs_store {
	const struct rs_store_ops *ops;
};

rs_store_t *store_sqlite_open(const rs_config_t *cfg, char *err, size_t errlen);
rs_store_t *store_pg_open(const rs_config_t *cfg, char *err, size_t errlen);

#endif
