/*
 * report: the /ems-rs/ report API (report_req.h lists paths and parameters) and the
 * retention of records and rollups, on a thread and database connection of their own
 * so that no query ever waits on, or holds up, the writer.
 *
 * Thread boundary. The HTTP handler runs on the loop thread: it parses and checks the
 * request (400 naming the parameter, without touching the database), then queues a
 * job. The report thread runs jobs one at a time on its connection (rq.h) and hands
 * each answer back through a done queue and an event the loop wakes on; the loop
 * sends it. Ownership: a job belongs to the side whose queue holds it; the
 * evhttp_request is touched only on the loop thread.
 *
 * Streaming. details as CSV without `limit` is the whole range: the report thread
 * reads report.export_page records at a time (by (start_ms, id), the cursor's
 * start_ms the range's lower bound, so each read is a short index range) and the
 * loop sends each as an HTTP chunk. The next page is read while the previous one
 * leaves; a page back while more than 1 MiB (STREAM_HIGH) still waits in the
 * connection's output is held until it drains. Memory per export is about two pages
 * plus that, whatever the range. A client that goes away ends the export.
 *
 * Retention (report.retention_days): between jobs, the report thread deletes rows
 * older than the limit, report.retention_batch rows per statement (each its own short
 * transaction, so the writer waits at most one batch), going back to queued requests
 * between batches. Raw records by start_ms; rollups by bucket; change points with the
 * 5-minute rollups. PostgreSQL uses the same deletes (no partitions: see README).
 */
#ifndef RS_REPORT_H
#define RS_REPORT_H

#include <stddef.h>

#include "api_auth.h"
#include "config.h"
#include "httpd.h"

struct event_base;
typedef struct report report_t;

/* Open the report connection and start the thread. NULL with err. auth (kept, not
 * owned; NULL: no checks) decides who may read: every request is checked with
 * api_auth, and a tenant's token is held to its own tenant (403 otherwise). */
report_t *report_start(struct event_base *base, const rs_config_t *cfg,
		       const api_auth_t *auth, char *err, size_t errlen);

/* Route /ems-rs/operations/ and /ems-rs/HIST/ on h to the API. 0 / -1 (no room). */
int report_routes(report_t *r, httpd_t *h);

/* Stop the thread and free everything; requests still waiting are left to evhttp
 * (call before httpd_stop). NULL is allowed. */
void report_stop(report_t *r);

#endif
