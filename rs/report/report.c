/* report: the report API's thread, queue and HTTP glue (see report.h). */
#include "report.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "log.h"
#include "report_fmt.h"
#include "report_query.h"
#include "report_req.h"
#include "rollup.h"
#include "rq.h"
#include "tz.h"
#include "util.h"

enum job_state { JOB_QUEUED, JOB_DONE, JOB_SENDING };

typedef struct job {
	struct job *next;              /* in todo or done */
	struct job *lprev, *lnext;     /* all live jobs (loop thread) */
	report_t *r;
	struct evhttp_request *req;    /* loop thread only; NULL once the client left */
	report_req_t q;
	int64_t *edges;
	int n;
	int streaming, started, finished, cancelled, head;
	enum job_state state;
	/* Filled by the report thread. */
	struct evbuffer *out;
	int code;
	char err[300];
	long long rows;
} job_t;

#define TZ_CACHE 16

struct report {
	rs_config_t cfg;
	const api_auth_t *auth; /* who may read (rs/rt/api_auth.h); not owned */
	struct event_base *base;
	struct event *done_ev;
	rq_t *rq;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	job_t *todo, *todo_tail, *done, *done_tail;
	int stop;
	job_t *live; /* loop thread */
	tz_t *tzs[TZ_CACHE];
	int ntz;
	/* retention (report thread) */
	int64_t retention_next_ms;
	int retention_t; /* table being trimmed, -1 idle */
	long long retention_deleted;
};

static void job_free(job_t *j)
{
	if (!j)
		return;
	if (j->out)
		evbuffer_free(j->out);
	free(j->edges);
	free(j);
}

/* Loop thread: forget a job (and its close callback) and free it. */
static void job_drop(job_t *j)
{
	report_t *r = j->r;
	if (j->req && j->streaming && j->started)
		evhttp_connection_set_closecb(evhttp_request_get_connection(j->req), NULL, NULL);
	if (j->lprev)
		j->lprev->lnext = j->lnext;
	else
		r->live = j->lnext;
	if (j->lnext)
		j->lnext->lprev = j->lprev;
	job_free(j);
}

static void push(job_t **head, job_t **tail, job_t *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static job_t *pop(job_t **head, job_t **tail)
{
	job_t *j = *head;
	if (j) {
		*head = j->next;
		if (!*head)
			*tail = NULL;
		j->next = NULL;
	}
	return j;
}

/* Loop thread -> report thread. */
static void submit(report_t *r, job_t *j)
{
	j->state = JOB_QUEUED;
	pthread_mutex_lock(&r->mu);
	push(&r->todo, &r->todo_tail, j);
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* ---- report thread ---------------------------------------------------------- */

typedef struct rows_acc {
	job_t *j;
	int first;
	int64_t last_ms;
	char last_id[130];
} rows_acc_t;

static int on_row(void *arg, int nc, const char *const *v)
{
	rows_acc_t *a = arg;
	if (nc < REPORT_NCOLS + (a->j->q.format == RF_JSON))
		return 1;
	report_fmt_details_row(a->j->out, a->j->q.format, a->first, v);
	a->first = 0;
	a->last_ms = v[11] ? strtoll(v[11], NULL, 10) : 0; /* start_ms */
	size_t n = v[0] ? strlen(v[0]) : 0;
	if (n >= sizeof(a->last_id))
		n = sizeof(a->last_id) - 1;
	memcpy(a->last_id, v[0] ? v[0] : "", n);
	a->last_id[n] = 0;
	a->j->rows++;
	return 0;
}

/* One page of a streamed export; the job's cursor moves past it. */
static int run_stream_page(job_t *j, char *err, size_t errlen)
{
	rows_acc_t a = { j, j->rows == 0, 0, "" };
	int more = 0;

	if (!j->started && j->rows == 0)
		report_fmt_details_begin(j->out, j->q.format);
	if (report_details_page(j->r->rq, &j->q, j->r->cfg.report_export_page, on_row, &a, &more, err,
				errlen))
		return -1;
	if (a.last_id[0]) {
		j->q.has_cursor = 1;
		j->q.cursor_ms = a.last_ms;
		snprintf(j->q.cursor_id, sizeof(j->q.cursor_id), "%s", a.last_id);
	}
	j->finished = !more;
	return 0;
}

static int run_details(job_t *j, char *err, size_t errlen)
{
	rows_acc_t a = { j, 1, 0, "" };
	int more = 0, limit = j->q.limit ? j->q.limit : 100;
	long long total = 0;
	char next[320];

	report_fmt_details_begin(j->out, j->q.format);
	if (report_details_page(j->r->rq, &j->q, limit, on_row, &a, &more, err, errlen) ||
	    report_count(j->r->rq, &j->q, &total, err, errlen))
		return -1;
	if (more)
		report_cursor_encode(a.last_ms, a.last_id, next, sizeof(next));
	report_fmt_details_end(j->out, j->q.format, total, more ? next : NULL);
	return 0;
}

static void run_job(report_t *r, job_t *j)
{
	char err[256] = "";
	int rc = 0;

	if (!j->out)
		j->out = evbuffer_new();
	if (!j->out) {
		j->code = 500;
		snprintf(j->err, sizeof(j->err), "out of memory");
		return;
	}
	j->code = 200;
	if (j->q.kind == REPORT_PEAKS) {
		int64_t *peak = calloc((size_t)j->n, sizeof(int64_t));
		int64_t *arr = calloc((size_t)j->n, sizeof(int64_t));
		if (!peak || !arr) {
			snprintf(err, sizeof(err), "out of memory");
			rc = -1;
		} else if (!(rc = report_peaks(r->rq, &j->q, j->edges, j->n, peak, arr, err,
					       sizeof(err)))) {
			report_fmt_peaks(j->out, j->q.format, j->q.gran, j->q.tz, j->edges, j->n,
					 peak, arr);
		}
		free(peak);
		free(arr);
	} else if (j->q.kind == REPORT_SUMMARY) {
		report_summary_t s;
		if (!(rc = report_summary(r->rq, &j->q, &s, err, sizeof(err))))
			report_fmt_summary(j->out, j->q.format, &j->q, &s);
	} else if (j->streaming) {
		rc = run_stream_page(j, err, sizeof(err));
	} else {
		rc = run_details(j, err, sizeof(err));
	}
	if (rc) {
		j->code = 503;
		snprintf(j->err, sizeof(j->err), "database: %s", err);
		evbuffer_drain(j->out, evbuffer_get_length(j->out));
	}
}

/* One retention batch of the table being trimmed; moves on when it is done. */
static void retention_step(report_t *r)
{
	static const char *const names[6] = { "cdr", "rollup_5m", "rollup_30m", "rollup_hour",
					      "rollup_day", "rollup_cp" };
	char err[256];
	long long n = 0;

	while (r->retention_t <= 5) {
		int days = r->cfg.report_retention_days[r->retention_t == 5 ? 1 : r->retention_t];
		if (days > 0)
			break;
		r->retention_t++;
	}
	if (r->retention_t > 5) {
		if (r->retention_deleted)
			log_info("retention: %lld rows older than their limit deleted",
				 r->retention_deleted);
		r->retention_t = -1;
		r->retention_deleted = 0;
		r->retention_next_ms = util_now_ms() + r->cfg.report_retention_interval_s * 1000LL;
		return;
	}
	int t = r->retention_t;
	int days = r->cfg.report_retention_days[t == 5 ? 1 : t];
	int64_t cutoff = util_now_ms() - (int64_t)days * 86400000LL;
	if (report_retention_batch(r->rq, t, cutoff, r->cfg.report_retention_batch, &n, err,
				   sizeof(err))) {
		log_warn("retention of %s: %s", names[t], err);
		n = 0;
	}
	r->retention_deleted += n;
	if (n < r->cfg.report_retention_batch)
		r->retention_t++;
}

static void *report_main(void *arg)
{
	report_t *r = arg;

	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		job_t *j = pop(&r->todo, &r->todo_tail);
		if (j) {
			pthread_mutex_unlock(&r->mu);
			run_job(r, j);
			pthread_mutex_lock(&r->mu);
			j->state = JOB_DONE;
			push(&r->done, &r->done_tail, j);
			event_active(r->done_ev, EV_READ, 0);
			continue;
		}
		int64_t now = util_now_ms();
		if (r->retention_t >= 0 || now >= r->retention_next_ms) {
			if (r->retention_t < 0)
				r->retention_t = 0;
			pthread_mutex_unlock(&r->mu);
			retention_step(r);
			pthread_mutex_lock(&r->mu);
			continue;
		}
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t wait = r->retention_next_ms - now;
		if (wait > 1000)
			wait = 1000;
		ts.tv_sec += wait / 1000;
		ts.tv_nsec += (wait % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&r->cv, &r->mu, &ts);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* ---- loop thread ------------------------------------------------------------- */

static void reply_buf(struct evhttp_request *req, int code, const char *reason,
		      const char *ctype, struct evbuffer *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	evhttp_send_reply(req, code, reason, body);
}

static void reply_error(struct evhttp_request *req, int code, enum report_format f,
			const char *param, const char *msg)
{
	struct evbuffer *b = evbuffer_new();
	if (!b) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	report_fmt_error(b, f, param, msg);
	reply_buf(req, code,
		  code == 400   ? "Bad Request"
		  : code == 404 ? "Not Found"
				: "Service Unavailable",
		  report_ctype(f), b);
	evbuffer_free(b);
}

static void on_close(struct evhttp_connection *c, void *arg)
{
	job_t *j = arg;
	/* The client left mid-export: evhttp frees the request. */
	j->req = NULL;
	j->cancelled = 1;
	if (j->state == JOB_SENDING)
		job_drop(j);
}

/* Bytes of an export still waiting in the connection's output before the next page is
 * added to it: the report thread reads page k+1 while page k leaves, and memory stays
 * at about two pages plus this. */
#define STREAM_HIGH (1 << 20)

static size_t conn_pending(struct evhttp_request *req)
{
	struct bufferevent *bev =
		evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));
	return bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

static void on_chunk_sent(struct evhttp_connection *c, void *arg);

/* Hand the page in j->out to the connection and have the next one read meanwhile. */
static void stream_send(job_t *j)
{
	evhttp_send_reply_chunk_with_cb(j->req, j->out, on_chunk_sent, j);
	submit(j->r, j);
}

/* The connection's output has drained: a page held back goes now (a job still with
 * the report thread is sent when it is back). */
static void on_chunk_sent(struct evhttp_connection *c, void *arg)
{
	job_t *j = arg;
	if (j->state == JOB_SENDING && !j->cancelled)
		stream_send(j);
}

/* A streamed page is back: send it (or hold it until the connection has room). */
static void stream_out(job_t *j)
{
	if (!j->started) {
		if (j->code != 200) {
			reply_error(j->req, j->code, j->q.format, "database", j->err);
			job_drop(j);
			return;
		}
		struct evkeyvalq *h = evhttp_request_get_output_headers(j->req);
		evhttp_add_header(h, "Content-Type", report_ctype(j->q.format));
		evhttp_add_header(h, "Content-Disposition", "attachment; filename=\"cdrs.csv\"");
		evhttp_send_reply_start(j->req, 200, "OK");
		evhttp_connection_set_closecb(evhttp_request_get_connection(j->req), on_close, j);
		j->started = 1;
	}
	if (j->code != 200) {
		/* Headers are gone: all we can do is cut the body short. */
		log_warn("report: CSV export stopped after %lld rows: %s", j->rows, j->err);
		j->finished = 1;
	}
	if (j->finished) {
		if (evbuffer_get_length(j->out))
			evhttp_send_reply_chunk(j->req, j->out);
		evhttp_connection_set_closecb(evhttp_request_get_connection(j->req), NULL, NULL);
		evhttp_send_reply_end(j->req);
		j->started = 0;
		job_drop(j);
		return;
	}
	if (!evbuffer_get_length(j->out)) {
		submit(j->r, j);
		return;
	}
	if (conn_pending(j->req) < STREAM_HIGH)
		stream_send(j);
	else
		j->state = JOB_SENDING;
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	report_t *r = arg;
	job_t *j;

	for (;;) {
		pthread_mutex_lock(&r->mu);
		j = pop(&r->done, &r->done_tail);
		pthread_mutex_unlock(&r->mu);
		if (!j)
			break;
		if (j->cancelled || !j->req) {
			job_drop(j);
		} else if (j->streaming) {
			stream_out(j);
		} else if (j->code != 200) {
			reply_error(j->req, j->code, j->q.format, "database", j->err);
			job_drop(j);
		} else {
			reply_buf(j->req, 200, "OK", report_ctype(j->q.format), j->out);
			job_drop(j);
		}
	}
}

/* The zone named by the request, loaded once. NULL with err. */
static const tz_t *zone(report_t *r, const char *name, char *err, size_t errlen)
{
	for (int i = 0; i < r->ntz; i++)
		if (!strcmp(tz_name(r->tzs[i]), name))
			return r->tzs[i];
	tz_t *z = tz_load(name, err, errlen);
	if (!z)
		return NULL;
	if (r->ntz == TZ_CACHE) {
		tz_free(r->tzs[0]);
		memmove(r->tzs, r->tzs + 1, sizeof(r->tzs[0]) * (TZ_CACHE - 1));
		r->ntz--;
	}
	r->tzs[r->ntz++] = z;
	return z;
}

static int64_t local_to_utc(const tz_t *z, int64_t ms)
{
	if (!z)
		return ms;
	int64_t s = (ms >= 0 ? ms : ms - 999) / 1000;
	return tz_to_utc(z, s) * 1000 + (ms - s * 1000);
}

static void on_request(struct evhttp_request *req, const char *path, void *arg)
{
	report_t *r = arg;
	int kind = report_path_kind(path);
	const char *uri = evhttp_request_get_uri(req), *q = strchr(uri, '?');
	const char *accept = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept");
	char param[32] = "", err[256] = "", scope[64] = "";
	const tz_t *z = NULL;
	job_t *j;

	if (r->auth && !api_auth(r->auth, req, scope, sizeof scope))
		return; /* 401 sent */
	if (kind < 0) {
		reply_error(req, 404, RF_JSON, "path", "no such report");
		return;
	}
	if (!(j = calloc(1, sizeof(*j)))) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	j->r = r;
	j->req = req;
	if (report_req_parse((enum report_kind)kind, q ? q + 1 : NULL, accept, util_now_ms(),
			     r->cfg.report_max_limit, &j->q, param, sizeof(param), err,
			     sizeof(err)))
		goto bad;
	/* A tenant's token reads its own tenant only: no filter means its tenant; a
	 * filter by another tenant, an app-id or a dn (which may span tenants) is 403. */
	if (scope[0] && !j->q.filter) {
		j->q.filter = 't';
		snprintf(j->q.fval, sizeof(j->q.fval), "%s", scope);
	} else if (scope[0] && (j->q.filter != 't' || !api_auth_sees(scope, j->q.fval))) {
		api_auth_forbid(req, scope);
		free(j);
		return;
	}
	if (j->q.tz[0] && !(z = zone(r, j->q.tz, err, sizeof(err)))) {
		snprintf(param, sizeof(param), "tz");
		goto bad;
	}
	if (j->q.from_local)
		j->q.from_ms = local_to_utc(z, j->q.from_ms);
	if (j->q.to_local)
		j->q.to_ms = local_to_utc(z, j->q.to_ms);
	if (kind == REPORT_PEAKS &&
	    report_edges(j->q.gran, z, j->q.from_ms, j->q.to_ms, &j->edges, &j->n)) {
		snprintf(param, sizeof(param), "to");
		snprintf(err, sizeof(err),
			 "parameter to: the range holds more than %d buckets of %s",
			 REPORT_MAX_BUCKETS, report_gran_names[j->q.gran]);
		goto bad;
	}
	j->head = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;
	j->streaming = kind == REPORT_DETAILS && j->q.format == RF_CSV && !j->q.limit &&
		       !j->head;
	j->lnext = r->live;
	if (r->live)
		r->live->lprev = j;
	r->live = j;
	submit(r, j);
	return;
bad:
	reply_error(req, 400, j->q.format, param, err);
	free(j->edges);
	free(j);
}

int report_routes(report_t *r, httpd_t *h)
{
	if (httpd_route(h, "/ems-rs/operations/", on_request, r) ||
	    httpd_route(h, "/ems-rs/HIST/", on_request, r))
		return -1;
	return 0;
}

report_t *report_start(struct event_base *base, const rs_config_t *cfg,
		       const api_auth_t *auth, char *err, size_t errlen)
{
	report_t *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->cfg = *cfg;
	r->auth = auth;
	r->base = base;
	r->retention_t = -1;
	r->retention_next_ms = util_now_ms() + 5000; /* first pass shortly after start */
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (!(r->rq = rq_open(cfg, err, errlen)))
		goto fail;
	if (!(r->done_ev = event_new(base, -1, 0, on_done, r))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (pthread_create(&r->thread, NULL, report_main, r)) {
		snprintf(err, errlen, "report: cannot start its thread");
		goto fail;
	}
	r->started = 1;
	return r;
fail:
	report_stop(r);
	return NULL;
}

void report_stop(report_t *r)
{
	job_t *j;

	if (!r)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->mu);
		r->stop = 1;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->thread, NULL);
	}
	/* Every job, wherever it is, is on the live list: forget them all. */
	while ((j = r->live))
		job_drop(j);
	if (r->done_ev)
		event_free(r->done_ev);
	rq_close(r->rq);
	for (int i = 0; i < r->ntz; i++)
		tz_free(r->tzs[i]);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}
