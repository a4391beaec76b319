/*
 * report_query: the reports' questions to the database, on the report thread's own
 * connection (rq.h), and the bucket arithmetic they need.
 *
 * Peaks come from the rollups (rollup.h says why they are exact): a bucket of the
 * answer is a union of whole buckets of the coarsest rollup table that tiles it (a day
 * in Asia/Kolkata is 48 half hours; a UTC week is 7 days), so its arrivals are the sum
 * and its peak the max of theirs. A dn prefix is answered from the change points.
 * Details and summary read the raw cdr table by start_ms.
 */
#ifndef RS_REPORT_QUERY_H
#define RS_REPORT_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "report_req.h"
#include "rq.h"
#include "tz.h"

#define REPORT_MAX_BUCKETS 20000

/* The answer's bucket edges for [from, to) at gran: edges[0] <= from is the start of
 * the bucket holding from, edges[n] >= to the end of the bucket holding to - 1 ms
 * (n >= 1; when to <= from, the one bucket holding from). DAY/WEEK/MONTH follow z
 * (NULL = UTC), weeks start on Monday. *edges is malloc'd (n + 1 values). 0, or -1
 * when more than REPORT_MAX_BUCKETS buckets would be needed. */
int report_edges(enum report_gran gran, const tz_t *z, int64_t from_ms, int64_t to_ms,
		 int64_t **edges, int *n);

/* Peak and arrivals per bucket [edges[i], edges[i+1]) for r's filter into peak[n],
 * arrivals[n]. 0, or -1 with err. */
int report_peaks(rq_t *q, const report_req_t *r, const int64_t *edges, int n,
		 int64_t *peak, int64_t *arrivals, char *err, size_t errlen);

/* The columns of a details row, in order (and the CSV header's names). */
#define REPORT_NCOLS 21
extern const char *const report_cols[REPORT_NCOLS];

/* One details page: the records of [from, to) matching r's filter after r's cursor
 * (when has_cursor), ordered by (start_ms, id), at most limit; each row's columns
 * (report_cols order, then for JSON only the JSON body as column REPORT_NCOLS) go to fn. *more is
 * set when a record follows the page. 0, or -1 with err. */
int report_details_page(rq_t *q, const report_req_t *r, int limit, rq_row_fn fn,
			void *arg, int *more, char *err, size_t errlen);

/* Records of [from, to) matching r's filter. */
int report_count(rq_t *q, const report_req_t *r, long long *total, char *err,
		 size_t errlen);

typedef struct report_summary {
	long long total;
	long long by_disp[5]; /* enum record_disposition */
	long long duration_ms;  /* sum over all records */
	long long answered_ms;  /* sum over answered records */
} report_summary_t;

int report_summary(rq_t *q, const report_req_t *r, report_summary_t *out, char *err,
		   size_t errlen);

/* Retention: delete at most batch rows older than cutoff_ms from table t (0 raw cdr,
 * 1 + rollup granularity); the 5-minute table's change points go with it. *deleted
 * gets the count. 0 / -1 with err. */
int report_retention_batch(rq_t *q, int t, int64_t cutoff_ms, int batch,
			   long long *deleted, char *err, size_t errlen);

#endif
