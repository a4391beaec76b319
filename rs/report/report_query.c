/* report_query: peaks from the rollups, details and summary from cdr (see
 * report_query.h). */
#include "report_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "rollup.h"

#define DAY_MS 86400000LL

/* UTC ms of local midnight starting local day `day` (days since 1970-01-01). */
static int64_t local_midnight(const tz_t *z, int64_t day)
{
	return (z ? tz_to_utc(z, day * 86400) : day * 86400) * 1000;
}

static int64_t local_day(const tz_t *z, int64_t ms)
{
	int64_t s = (ms >= 0 ? ms : ms - 999) / 1000;
	int64_t l = s + (z ? tz_offset(z, s) : 0);
	return (l >= 0 ? l : l - 86399) / 86400;
}

/* The day after `day` that starts the next bucket of gran. */
static int64_t next_day(enum report_gran gran, int64_t day)
{
	if (gran == RG_DAY)
		return day + 1;
	if (gran == RG_WEEK)
		return day + 7;
	int64_t y;
	int m, d;
	report_civil_from_days(day, &y, &m, &d);
	return m == 12 ? report_days_from_civil(y + 1, 1, 1)
		       : report_days_from_civil(y, m + 1, 1);
}

int report_edges(enum report_gran gran, const tz_t *z, int64_t from, int64_t to,
		 int64_t **edges, int *n)
{
	int64_t last = to > from ? to - 1 : from;
	int64_t *e;
	int k = 0;

	if (gran <= RG_HOUR) {
		int64_t g = rollup_gran_ms[gran];
		int64_t e0 = (from >= 0 ? from : from - g + 1) / g * g;
		int64_t cnt = (last - e0) / g + 1;
		if (cnt > REPORT_MAX_BUCKETS)
			return -1;
		if (!(e = malloc(sizeof(*e) * (size_t)(cnt + 1))))
			return -1;
		for (int64_t i = 0; i <= cnt; i++)
			e[i] = e0 + i * g;
		*edges = e;
		*n = (int)cnt;
		return 0;
	}
	int64_t day = local_day(z, from);
	if (gran == RG_WEEK)
		day -= ((day + 3) % 7 + 7) % 7; /* back to Monday (1970-01-01 was a Thursday) */
	if (gran == RG_MONTH) {
		int64_t y;
		int m, d;
		report_civil_from_days(day, &y, &m, &d);
		day = report_days_from_civil(y, m, 1);
	}
	/* Upper bound on the count, to size the array. */
	int64_t span_days = (last - from) / DAY_MS + 2;
	int64_t cap = gran == RG_DAY ? span_days + 2 : gran == RG_WEEK ? span_days / 7 + 3
								  : span_days / 28 + 3;
	if (cap > REPORT_MAX_BUCKETS + 2)
		return -1;
	if (!(e = malloc(sizeof(*e) * (size_t)(cap + 1))))
		return -1;
	e[k++] = local_midnight(z, day);
	for (;;) {
		day = next_day(gran, day);
		int64_t m = local_midnight(z, day);
		if (k > cap || k > REPORT_MAX_BUCKETS) {
			free(e);
			return -1;
		}
		e[k++] = m;
		if (m > last)
			break;
	}
	*edges = e;
	*n = k - 1;
	return 0;
}

/* The byte string just above every string that starts with prefix, for a key range
 * [prefix, upper). 0, or -1 when none is needed (empty prefix: every key). A last byte
 * that is not ASCII is followed by U+10FFFF instead (valid UTF-8 for PostgreSQL), so a
 * key holding that very character after the prefix is missed: accepted. */
static int prefix_upper(const char *prefix, char *out, size_t cap)
{
	size_t n = strlen(prefix);
	if (n == 0 || n + 5 > cap)
		return -1;
	memcpy(out, prefix, n + 1);
	if ((unsigned char)out[n - 1] < 0x7f)
		out[n - 1]++;
	else
		memcpy(out + n, "\xf4\x8f\xbf\xbf", 5);
	return 0;
}

typedef struct peaks_acc {
	const int64_t *edges;
	int n, k;
	int64_t *peak, *arrivals;
	int with_peak;
} peaks_acc_t;

/* Rows (bucket_ms, arrivals[, peak]) ordered by bucket_ms: into the answer's buckets. */
static int on_bucket_row(void *arg, int nc, const char *const *v)
{
	peaks_acc_t *a = arg;
	int64_t b = strtoll(v[0], NULL, 10);
	while (a->k < a->n && b >= a->edges[a->k + 1])
		a->k++;
	if (a->k >= a->n || b < a->edges[a->k])
		return 0;
	a->arrivals[a->k] += strtoll(v[1] ? v[1] : "0", NULL, 10);
	if (a->with_peak && nc > 2) {
		int64_t p = strtoll(v[2] ? v[2] : "0", NULL, 10);
		if (p > a->peak[a->k])
			a->peak[a->k] = p;
	}
	return 0;
}

typedef struct level_acc {
	const int64_t *edges;
	int n, k;
	int64_t *peak;
	int64_t level;
} level_acc_t;

static int on_one_int(void *arg, int nc, const char *const *v)
{
	*(int64_t *)arg = v[0] ? strtoll(v[0], NULL, 10) : 0;
	return 0;
}

/* Change points (ms, delta) ordered by ms, all inside (edges[0], edges[n]): the level
 * after each is an instant's count; a point on an edge opens the next bucket. */
static int on_change(void *arg, int nc, const char *const *v)
{
	level_acc_t *a = arg;
	int64_t ms = strtoll(v[0], NULL, 10), d = strtoll(v[1] ? v[1] : "0", NULL, 10);
	while (a->k + 1 < a->n && ms >= a->edges[a->k + 1]) {
		a->k++;
		a->peak[a->k] = a->level;
	}
	a->level += d;
	if (ms == a->edges[a->k] || a->level > a->peak[a->k])
		a->peak[a->k] = a->level;
	return 0;
}

/* A dn prefix: arrivals add up over the keys in range; the peak comes from the level
 * at edges[0] (the 5-minute rows' open_at_start there) and the change points after. */
static int peaks_prefix(rq_t *q, const report_req_t *r, const char *table, const int64_t *e,
			int n, int64_t *peak, int64_t *arrivals, char *err, size_t errlen)
{
	char upper[140], lo[32], hi[32], sql[512];
	int has_upper = prefix_upper(r->fval, upper, sizeof(upper)) == 0;
	const char *cmp = !has_upper ? "" : (unsigned char)upper[strlen(r->fval) - 1] ==
							   (unsigned char)r->fval[strlen(r->fval) - 1]
						   ? " AND skey <= ?"
						   : " AND skey < ?";
	const char *p[5];
	int np = 0;
	peaks_acc_t a = { e, n, 0, peak, arrivals, 0 };
	level_acc_t l = { e, n, 0, peak, 0 };

	snprintf(lo, sizeof(lo), "%lld", (long long)e[0]);
	snprintf(hi, sizeof(hi), "%lld", (long long)e[n]);
	p[np++] = r->fval;
	if (has_upper)
		p[np++] = upper;
	p[np] = lo;
	p[np + 1] = hi;
	snprintf(sql, sizeof(sql),
		 "SELECT bucket_ms, sum(arrivals) FROM %s WHERE scope = 'd' AND skey >= ?%s"
		 " AND bucket_ms >= " RQ_INT " AND bucket_ms < " RQ_INT
		 " GROUP BY bucket_ms ORDER BY bucket_ms",
		 table, cmp);
	if (rq_exec(q, sql, np + 2, p, on_bucket_row, &a, NULL, err, errlen))
		return -1;
	snprintf(sql, sizeof(sql),
		 "SELECT coalesce(sum(open_at_start), 0) FROM rollup_5m WHERE scope = 'd'"
		 " AND skey >= ?%s AND bucket_ms = " RQ_INT,
		 cmp);
	if (rq_exec(q, sql, np + 1, p, on_one_int, &l.level, NULL, err, errlen))
		return -1;
	peak[0] = l.level;
	snprintf(sql, sizeof(sql),
		 "SELECT ms, sum(delta) FROM rollup_cp WHERE scope = 'd' AND skey >= ?%s"
		 " AND ms > " RQ_INT " AND ms < " RQ_INT " GROUP BY ms ORDER BY ms",
		 cmp);
	if (rq_exec(q, sql, np + 2, p, on_change, &l, NULL, err, errlen))
		return -1;
	while (l.k + 1 < n) {
		l.k++;
		peak[l.k] = l.level;
	}
	return 0;
}

int report_peaks(rq_t *q, const report_req_t *r, const int64_t *e, int n, int64_t *peak,
		 int64_t *arrivals, char *err, size_t errlen)
{
	int t = ROLLUP_DAY;
	char scope[2] = { r->filter ? r->filter : 'a', 0 }, lo[32], hi[32], sql[512];

	memset(peak, 0, sizeof(*peak) * (size_t)n);
	memset(arrivals, 0, sizeof(*arrivals) * (size_t)n);
	/* The coarsest table whose buckets tile every answer bucket. */
	for (; t > ROLLUP_5M; t--) {
		int ok = 1;
		for (int i = 0; ok && i <= n; i++)
			ok = e[i] % rollup_gran_ms[t] == 0;
		if (ok)
			break;
	}
	if (r->filter == 'd' && r->prefix)
		return peaks_prefix(q, r, rollup_table[t], e, n, peak, arrivals, err, errlen);
	snprintf(lo, sizeof(lo), "%lld", (long long)e[0]);
	snprintf(hi, sizeof(hi), "%lld", (long long)e[n]);
	const char *p[4] = { scope, r->filter ? r->fval : "", lo, hi };
	peaks_acc_t a = { e, n, 0, peak, arrivals, 1 };
	snprintf(sql, sizeof(sql),
		 "SELECT bucket_ms, arrivals, peak FROM %s WHERE scope = ? AND skey = ?"
		 " AND bucket_ms >= " RQ_INT " AND bucket_ms < " RQ_INT " ORDER BY bucket_ms",
		 rollup_table[t]);
	return rq_exec(q, sql, 4, p, on_bucket_row, &a, NULL, err, errlen);
}

const char *const report_cols[REPORT_NCOLS] = {
	"id",          "call_id",     "session_id", "node",        "tenant",
	"profile",     "service_type", "lrg",       "mcp",         "caller",
	"dnis",        "start_ms",    "answer_ms",  "end_ms",      "duration_ms",
	"disposition", "sip_status",  "ended_by",   "attempts",    "usage_level",
	"received_ms",
};

#define SELECT_COLS                                                                    \
	"id, call_id, session_id, node, tenant, profile, service_type, lrg, mcp, caller," \
	" dnis, start_ms, answer_ms, end_ms, duration_ms, disposition, sip_status,"       \
	" ended_by, attempts, usage_level, received_ms"

/* The WHERE clause of a range and filter, with its parameters appended to p. */
static void where_clause(const report_req_t *r, char *w, size_t cap, const char **p,
			 int *np, char *lo, char *hi)
{
	snprintf(lo, 32, "%lld", (long long)r->from_ms);
	snprintf(hi, 32, "%lld", (long long)r->to_ms);
	p[(*np)++] = lo;
	p[(*np)++] = hi;
	if (r->filter == 't') {
		snprintf(w, cap, "start_ms >= " RQ_INT " AND start_ms < " RQ_INT " AND tenant = ?");
		p[(*np)++] = r->fval;
	} else if (r->filter == 'p') {
		snprintf(w, cap, "start_ms >= " RQ_INT " AND start_ms < " RQ_INT " AND profile = ?");
		p[(*np)++] = r->fval;
	} else if (r->filter == 'd' && r->prefix && r->fval[0]) {
		snprintf(w, cap, "start_ms >= " RQ_INT " AND start_ms < " RQ_INT " AND substr(dnis, 1, length(?)) = ?");
		p[(*np)++] = r->fval;
		p[(*np)++] = r->fval;
	} else if (r->filter == 'd' && !r->prefix) {
		snprintf(w, cap, "start_ms >= " RQ_INT " AND start_ms < " RQ_INT " AND dnis = ?");
		p[(*np)++] = r->fval;
	} else {
		snprintf(w, cap, "start_ms >= " RQ_INT " AND start_ms < " RQ_INT "");
	}
}

typedef struct more_acc {
	rq_row_fn fn;
	void *arg;
	int limit, seen;
	int *more;
} more_acc_t;

static int on_detail(void *arg, int nc, const char *const *v)
{
	more_acc_t *a = arg;
	if (a->seen++ == a->limit) {
		*a->more = 1;
		return 1;
	}
	return a->fn(a->arg, nc, v);
}

int report_details_page(rq_t *q, const report_req_t *r, int limit, rq_row_fn fn,
			void *arg, int *more, char *err, size_t errlen)
{
	const char *p[10];
	int np = 0;
	char w[300], sql[1024], lo[32], hi[32], cm[32], lim[16];
	const char *coll = rq_is_pg(q) ? " COLLATE \"C\"" : "";
	more_acc_t a = { fn, arg, limit, 0, more };

	*more = 0;
	/* The cursor's start_ms is also the range's lower bound: with the row-value test
	 * alone SQLite scanned the index from `from` on every page (a million-row export
	 * read 50 million index entries). */
	report_req_t rc = *r;
	if (rc.has_cursor && rc.cursor_ms > rc.from_ms)
		rc.from_ms = rc.cursor_ms;
	where_clause(&rc, w, sizeof(w), p, &np, lo, hi);
	if (r->has_cursor) {
		snprintf(cm, sizeof(cm), "%lld", (long long)r->cursor_ms);
		p[np++] = cm;
		if (rq_is_pg(q))
			p[np++] = cm;
		p[np++] = r->cursor_id;
	}
	snprintf(lim, sizeof(lim), "%d", limit + 1);
	p[np++] = lim;
	snprintf(sql, sizeof(sql),
		 "SELECT " SELECT_COLS "%s FROM cdr WHERE %s%s ORDER BY start_ms, id%s LIMIT " RQ_INT,
		 r->format == RF_JSON ? ", body" : "", w,
		 r->has_cursor ? (rq_is_pg(q) ? " AND (start_ms > " RQ_INT " OR (start_ms = " RQ_INT " AND"
						" id COLLATE \"C\" > ?))"
					      : " AND (start_ms, id) > (" RQ_INT ", ?)")
			       : "",
		 coll);
	return rq_exec(q, sql, np, p, on_detail, &a, NULL, err, errlen);
}

int report_count(rq_t *q, const report_req_t *r, long long *total, char *err,
		 size_t errlen)
{
	const char *p[6];
	int np = 0;
	char w[300], sql[512], lo[32], hi[32];
	int64_t v = 0;

	where_clause(r, w, sizeof(w), p, &np, lo, hi);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM cdr WHERE %s", w);
	if (rq_exec(q, sql, np, p, on_one_int, &v, NULL, err, errlen))
		return -1;
	*total = v;
	return 0;
}

static int on_summary(void *arg, int nc, const char *const *v)
{
	report_summary_t *s = arg;
	int d = v[0] ? record_disposition_parse(v[0]) : -1;
	long long n = strtoll(v[1] ? v[1] : "0", NULL, 10),
		  ms = strtoll(v[2] ? v[2] : "0", NULL, 10);
	s->total += n;
	s->duration_ms += ms;
	if (d >= 0 && d < 5)
		s->by_disp[d] += n;
	if (d == REC_ANSWERED)
		s->answered_ms += ms;
	return 0;
}

int report_summary(rq_t *q, const report_req_t *r, report_summary_t *out, char *err,
		   size_t errlen)
{
	const char *p[6];
	int np = 0;
	char w[300], sql[512], lo[32], hi[32];

	memset(out, 0, sizeof(*out));
	where_clause(r, w, sizeof(w), p, &np, lo, hi);
	snprintf(sql, sizeof(sql),
		 "SELECT disposition, count(*), coalesce(sum(duration_ms), 0) FROM cdr"
		 " WHERE %s GROUP BY disposition",
		 w);
	return rq_exec(q, sql, np, p, on_summary, out, NULL, err, errlen);
}

int report_retention_batch(rq_t *q, int t, int64_t cutoff_ms, int batch,
			   long long *deleted, char *err, size_t errlen)
{
	char sql[400], cut[32], lim[16];
	const char *p[2] = { cut, lim };

	snprintf(cut, sizeof(cut), "%lld", (long long)cutoff_ms);
	snprintf(lim, sizeof(lim), "%d", batch);
	/* PostgreSQL: rows a writer holds are skipped, never waited for, so retention
	 * and a writer cannot deadlock (the writer may wait one short statement). */
	const char *skip = rq_is_pg(q) ? " FOR UPDATE SKIP LOCKED" : "";
	if (t == 0 && rq_is_pg(q)) {
		/* Monthly partitions: whole months are dropped (store_schema.h). */
		int64_t n = 0;
		int rc = rq_exec(q, "SELECT rs_cdr_retention(" RQ_INT ", CAST(? AS INTEGER))", 2,
				 p, on_one_int, &n, NULL, err, errlen);
		*deleted = n;
		return rc;
	}
	if (t == 0)
		snprintf(sql, sizeof(sql),
			 "DELETE FROM cdr WHERE id IN (SELECT id FROM cdr WHERE start_ms < " RQ_INT
			 " LIMIT " RQ_INT "%s)",
			 skip);
	else if (t <= ROLLUP_NGRAN)
		snprintf(sql, sizeof(sql),
			 "DELETE FROM %s WHERE (scope, skey, bucket_ms) IN (SELECT scope, skey,"
			 " bucket_ms FROM %s WHERE bucket_ms < " RQ_INT " LIMIT " RQ_INT "%s)",
			 rollup_table[t - 1], rollup_table[t - 1], skip);
	else
		snprintf(sql, sizeof(sql),
			 "DELETE FROM rollup_cp WHERE (scope, skey, ms) IN (SELECT scope, skey,"
			 " ms FROM rollup_cp WHERE ms < " RQ_INT " LIMIT " RQ_INT "%s)",
			 skip);
	return rq_exec(q, sql, 2, p, NULL, NULL, deleted, err, errlen);
}
