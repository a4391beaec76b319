/*
 * rt: the real-time usage service on rs's loop. Owns the numbers (rt_usage.h),
 * rebuilds them at start from the database (rt_load.h), is fed every record the
 * writer has made durable (main's done callback: rt_feed), rolls hours and days and
 * forgets old calls on a 1 s timer, and tells one observer (the stream) when a
 * number changed.
 *
 * Restart: the numbers live in memory only; rt_new rebuilds them from the events and
 * CDRs the database holds (rt_load.h) on a thread of its own, so that a slow or hung
 * database never holds up rs's start. Until the rebuild ends the numbers show what
 * arrived since start; the records fed meanwhile are kept (at most 64 MiB) and fed
 * to the rebuilt numbers too (feeding is idempotent), which then replace the live
 * ones. A rebuild that fails (the database down at start) leaves the live numbers
 * (logged) and is tried again every 5 s, the records fed meanwhile still kept, until
 * it succeeds or they overflow the 64 MiB. Records receipted
 * into the journal while the database was down and still there at the restart are
 * read from the journal by the rebuild (rt_load.h).
 *
 * Threads: everything here runs on the loop's thread.
 */
#ifndef RS_RT_H
#define RS_RT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"
#include "rt_usage.h"
#include "store.h"

typedef struct rt rt_t;

/* Start the rebuild from cfg's database (cfg must outlive r; a failure is logged, not
 * fatal) and the 1 s timer on base. base must be set up for threads
 * (evthread_use_pthreads). NULL on out of memory. */
rt_t *rt_new(struct event_base *base, const rs_config_t *cfg);
void rt_free(rt_t *r); /* waits for a rebuild in progress; NULL is allowed */
/* Is the rebuild still running? */
bool rt_loading(const rt_t *r);

/* A durable record: an event (kind RS_KIND_EVENT) or a CDR (row->rec) feeds the
 * numbers; metrics and anything malformed are ignored. */
void rt_feed(rt_t *r, const rs_row_t *row);

/* The numbers (for the HTTP handlers), and the observer told after each change
 * (one; NULL to clear). */
rt_usage_t *rt_usage(rt_t *r);
void rt_on_change(rt_t *r, void (*fn)(void *arg), void *arg);

#endif
