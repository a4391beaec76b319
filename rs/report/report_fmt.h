/*
 * report_fmt: the report answers as JSON, CSV or XML text appended to an evbuffer.
 * No database, no sockets: what to write comes in as arguments.
 *
 * Shapes (JSON; CSV has one header line then one line per item; XML one element per
 * item):
 *   peaks    {"granularity": "HOUR", "tz": "UTC", "buckets": [{"start":
 *            "2026-01-01T00:00:00Z", "peak": 12, "arrivals": 40}, ...]}
 *   details  {"records": [<each record's JSON as stored>, ...], "total": N,
 *            "next": "<cursor>" | null}
 *   summary  {"from": ..., "to": ..., "total": N, "dispositions": {"answered": n, ...},
 *            "minutes": m, "answered_minutes": m, "average_duration_s": s}
 *            (average over answered calls)
 *   error    {"error": "<sentence>", "parameter": "<name>"}
 */
#ifndef RS_REPORT_FMT_H
#define RS_REPORT_FMT_H

#include <stdint.h>

#include <event2/buffer.h>

#include "report_query.h"
#include "report_req.h"

const char *report_ctype(enum report_format f);

void report_fmt_peaks(struct evbuffer *b, enum report_format f, enum report_gran g,
		      const char *tz, const int64_t *edges, int n, const int64_t *peak,
		      const int64_t *arrivals);

/* Details in three parts: begin, one row per record (vals: report_cols then the JSON
 * body), end with the total (< 0: not counted, as in a streamed export) and next
 * cursor (NULL: none). first: no row written yet. */
void report_fmt_details_begin(struct evbuffer *b, enum report_format f);
void report_fmt_details_row(struct evbuffer *b, enum report_format f, int first,
			    const char *const *vals);
void report_fmt_details_end(struct evbuffer *b, enum report_format f, long long total,
			    const char *next);

void report_fmt_summary(struct evbuffer *b, enum report_format f, const report_req_t *r,
			const report_summary_t *s);

void report_fmt_error(struct evbuffer *b, enum report_format f, const char *param,
		      const char *msg);

#endif
