/*
 * report_req: one /ems-rs/ report request, parsed and checked. Pure: no sockets, no
 * database, no clock (the caller passes now).
 *
 * Paths (GVP's):
 *   /ems-rs/operations/peaks/RM   peaks and arrivals per bucket
 *   /ems-rs/HIST/CDRs/RM/details  the records, a page at a time (or all, as CSV)
 *   /ems-rs/HIST/CDRs/RM/summary  counts per disposition, minutes, average duration
 * Parameters:
 *   granularity  FIVE_MINUTES|THIRTY_MINUTES|HOUR|DAY|WEEK|MONTH (peaks; default HOUR)
 *   from         required: ISO 8601 (2026-01-01, 2026-01-01T10:00[:00[.000]][Z|+hh:mm])
 *                or epoch milliseconds; without a zone it is local time in tz
 *   to           optional (default now), the same forms; exclusive
 *                peaks: from and to are snapped out to bucket edges
 *   tenant-id | app-id | dn   at most one; dn ending in '*' is a prefix
 *   tz           IANA zone name: the day/week/month boundaries (default UTC); weeks
 *                start on Monday
 *   format       json|csv|xml (else the Accept header; default json)
 *   limit        details: records per page (default 100, at most the configured max);
 *                CSV without limit streams every record of the range
 *   cursor       details: the `next` of the previous page
 * Every error names the parameter; the caller answers 400 with it.
 */
#ifndef RS_REPORT_REQ_H
#define RS_REPORT_REQ_H

#include <stddef.h>
#include <stdint.h>

enum report_kind { REPORT_PEAKS = 0, REPORT_DETAILS, REPORT_SUMMARY };
enum report_gran { RG_FIVE_MINUTES = 0, RG_THIRTY_MINUTES, RG_HOUR, RG_DAY, RG_WEEK,
		   RG_MONTH };
enum report_format { RF_JSON = 0, RF_CSV, RF_XML };

typedef struct report_req {
	enum report_kind kind;
	enum report_gran gran;
	enum report_format format;
	int64_t from_ms, to_ms;
	int from_local, to_local; /* no zone given: local time in tz (resolve later) */
	char filter;              /* 0 none, 't' tenant, 'p' profile (app-id), 'd' dn */
	char fval[130];
	int prefix;               /* dn ending in '*': fval is the prefix */
	char tz[128];             /* "" = UTC */
	int limit;                /* details; 0 = not given */
	int has_cursor;
	int64_t cursor_ms;        /* details: after (start_ms, id) */
	char cursor_id[130];
} report_req_t;

extern const char *const report_gran_names[6];

/* The report a path asks for, or -1 (404). */
int report_path_kind(const char *path);

/* Parse query (the part after '?', may be NULL) and accept (the Accept header, may be
 * NULL) for `kind`. now_ms is the default `to`. 0, or -1 with the parameter's name in
 * param and a sentence in err. */
int report_req_parse(enum report_kind kind, const char *query, const char *accept,
		     int64_t now_ms, int max_limit, report_req_t *out, char *param,
		     size_t paramlen, char *err, size_t errlen);

/* Parse an ISO 8601 time or epoch ms. *local is set when no zone was given (the value
 * is then the wall time read as UTC). 0 / -1. */
int report_parse_time(const char *s, int64_t *ms, int *local);

/* "2026-01-01T00:00:00Z" (or with .mmm when ms is not a whole second) into out
 * (>= 25 bytes). */
void report_fmt_time(int64_t ms, char *out, size_t cap);

/* Proleptic Gregorian calendar: days since 1970-01-01 and back. */
int64_t report_days_from_civil(int64_t y, int m, int d);
void report_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* Cursor text (opaque to clients) for (ms, id), and back. encode: out >= 300 bytes. */
void report_cursor_encode(int64_t ms, const char *id, char *out, size_t cap);
int report_cursor_decode(const char *s, int64_t *ms, char *id, size_t idcap);

#endif
