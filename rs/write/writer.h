/*
 * writer: the storage thread. Takes accepted records from the network loop, commits
 * them in batches (group commit: whatever queued while the last batch committed goes
 * into the next one, up to batch_max), and hands each batch back once it is durable:
 * in the database, or, while the database is unreachable, in the journal.
 *
 * Threads: writer_submit, writer_take_done, the getters and writer_stop are called
 * from the loop thread; the storage work runs on the writer's own thread, which calls
 * the notify callback (must be thread-safe, e.g. event_active) whenever it has put
 * finished items on the done list. Nothing here knows about libevent or STOMP.
 */
#ifndef RS_WRITER_H
#define RS_WRITER_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "journal.h"
#include "rs_metrics.h"
#include "store.h"

/* One accepted record. Allocated by writer_item_new as one block (row.id, row.body,
 * row.rec and receipt point inside it); owned by the writer queue between
 * writer_submit and writer_take_done, then by the caller, who frees it with free(). */
typedef struct rs_item {
	struct rs_item *next;
	void *owner;     /* caller's (the connection); the writer never touches it */
	/* Called on the loop thread for each finished item (durable set); it frees the
	 * item. Set by whoever submits it (server.c, consumer.c). */
	void (*on_done)(struct rs_item *it);
	char *receipt;   /* receipt id to answer, or NULL */
	int durable;     /* set by the writer: 1 stored or journaled, 0 given up */
	rs_row_t row;
} rs_item_t;

/* rec may be NULL for events/metrics. NULL on out of memory. */
rs_item_t *writer_item_new(enum rs_kind kind, const char *id, const record_t *rec,
			   const char *body, size_t body_len, const char *receipt,
			   int64_t received_ms);

typedef struct rs_writer rs_writer_t;

/* The writer owns neither store nor journal (the caller closes them after
 * writer_free). notify(arg) runs on the writer thread. */
rs_writer_t *writer_new(const rs_config_t *cfg, rs_store_t *store, journal_t *journal,
			rs_metrics_t *metrics, void (*notify)(void *), void *arg);
int writer_start(rs_writer_t *w, char *err, size_t errlen);
void writer_submit(rs_writer_t *w, rs_item_t *item);
/* Finished items, in submission order (a linked list), or NULL. */
rs_item_t *writer_take_done(rs_writer_t *w);
/* Records submitted and not yet taken back. */
size_t writer_inflight(const rs_writer_t *w);
/* Finish what is queued, hand it back, then let the thread end. */
void writer_stop(rs_writer_t *w);
/* True once the thread has handed back its last items and is ending. */
bool writer_finished(const rs_writer_t *w);
/* Joins the thread (call writer_stop first) and frees what is left. */
void writer_free(rs_writer_t *w);

bool writer_db_up(const rs_writer_t *w);
/* Copy of the error that last made the database count as down ("" if none). Any
 * thread. */
void writer_last_error(rs_writer_t *w, char *buf, size_t len);
bool writer_journal_full(const rs_writer_t *w);

#endif
