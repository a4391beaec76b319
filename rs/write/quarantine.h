/*
 * quarantine: store a batch even when the database refuses part of it, so one bad
 * record never holds up the records behind it.
 *
 * When the store answers STORE_EROW (a row's own fault), the batch is split in
 * halves until the refused rows are alone; the others are stored, and each refused
 * row goes to the dead-letter table (cdr_dead_letter), or, when the database refuses
 * that too, to the file DIR/rs.dead-letter: one JSON object per line,
 *   {"id":"...","kind":"cdr","received_ms":N,"quarantined_ms":N,"error":"...",
 *    "body_hex":"7b22..."}
 * (id and error with bytes outside printable ASCII as \u00XX; the body as hex, so
 * any bytes survive). Each quarantined row is logged. The table keeps a record once
 * (store_quarantine is idempotent on id, kind and body), however often it is resent
 * or its batch retried; the file, written only when the database refuses even that,
 * is append-only and may hold a record twice (its reader goes by id).
 *
 * Runs on the writer thread (it uses the store).
 */
#ifndef RS_QUARANTINE_H
#define RS_QUARANTINE_H

#include <stddef.h>

#include "store.h"

/* Insert rows[0..n). 0 when every row is stored or quarantined: adds the new rows
 * to *inserted and the rows kept aside to *quarantined (the rest were duplicates). -1 with err when the
 * database failed for another reason (unreachable, no answer): halves committed
 * before that stay committed, and the caller keeps the whole batch to retry (inserts
 * are idempotent on id). */
int quarantine_insert(rs_store_t *st, const char *dir, const rs_row_t *rows, size_t n,
		      size_t *inserted, size_t *quarantined, char *err, size_t errlen);

/* Keep one row aside with why: dead-letter table, else DIR/rs.dead-letter. 0, or -1
 * with err when neither took it. */
int quarantine_row(rs_store_t *st, const char *dir, const rs_row_t *row, const char *why,
		   char *err, size_t errlen);

/* Append one row to DIR/rs.dead-letter and fsync it. 0 / -1 with err. */
int quarantine_file(const char *dir, const rs_row_t *row, const char *why, char *err,
		    size_t errlen);

#endif
