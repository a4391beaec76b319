/*
 * billing: builds billing items on the SIP thread, spools and publishes them on the
 * service thread. See billing.h.
 */
#include "billing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cdr.h"
#include "hostport.h"
#include "log.h"
#include "publisher.h"
#include "record.h"
#include "rm_config.h"
#include "rm_metrics.h"
#include "session.h"
#include "spool.h"
#include "util.h"

#define TICK_MS 20
#define BODY_MAX 8192

/* ---- SIP thread: building items ------------------------------------------------- */

static struct billing_item *item_new(enum billing_kind kind, int64_t end_ms, const char *body,
				     size_t len)
{
	struct billing_item *it = malloc(sizeof *it + len + 1);
	if (!it)
		return NULL;
	it->kind = kind;
	it->end_ms = end_ms;
	it->len = len;
	memcpy(it->body, body, len);
	it->body[len] = '\0';
	return it;
}

static struct billing_item *item_from_record(const record_t *r)
{
	char buf[BODY_MAX];
	int n = record_encode(r, buf, sizeof buf);
	if (n < 0)
		return NULL;
	return item_new(BILLING_CDR, r->end_ms, buf, (size_t)n);
}

struct billing_item *billing_item_cdr(const struct session *s, const char *node)
{
	record_t r;
	if (cdr_from_session(s, node, &r) < 0)
		return NULL;
	return item_from_record(&r);
}

struct billing_item *billing_item_cdr_input(const struct cdr_input *in, const char *node)
{
	record_t r;
	if (cdr_from_input(in, node, &r) < 0)
		return NULL;
	return item_from_record(&r);
}

struct billing_item *billing_item_event(const struct session *s, const char *node, int type)
{
	struct cdr_input in;
	char buf[BODY_MAX];
	int n;

	cdr_input_from_session(s, &in);
	n = cdr_event_json(&in, node, (enum cdr_event_type)type, buf, sizeof buf);
	if (n < 0)
		return NULL;
	return item_new(BILLING_EVENT, 0, buf, (size_t)n);
}

metric_t *billing_lost_metric(metrics_t *m, enum billing_kind k)
{
	rm_metrics_t rmm;

	if (rm_metrics_init(&rmm, m) < 0)
		return NULL;
	return k == BILLING_CDR ? rmm.billing_lost : rmm.billing_events_lost;
}

/* ---- service thread ---------------------------------------------------------------- */

/* What the service thread remembers about each unreleased spool entry, to count
 * receipted CDRs apart from events and to time delivery: a deque indexed by
 * seq - base. Entries replayed from an earlier run are filled in at start (end_ms 0:
 * their latency is not sampled). Memory: 16 bytes per unreleased entry. Kept in mode
 * stomp only: its one reader is on_release, the publisher's callback; in spool-only
 * nothing is released in-process, so tracking would only grow (16 B per record). */
struct track {
	int64_t end_ms;
	unsigned char kind;
	unsigned char live;
};

struct tracker {
	uint64_t base; /* seq of v[head] */
	struct track *v;
	size_t head, n, cap;
};

static struct track *track_at(struct tracker *t, uint64_t seq)
{
	if (seq < t->base || seq - t->base >= t->n)
		return NULL;
	return &t->v[(t->head + (seq - t->base)) % t->cap];
}

static int track_add(struct tracker *t, uint64_t seq, enum billing_kind kind, int64_t end_ms)
{
	if (t->n == 0) {
		t->base = seq;
		t->head = 0;
	}
	if (seq < t->base)
		return -1;
	while (t->base + t->n <= seq) {
		if (t->n == t->cap) {
			size_t nc = t->cap ? t->cap * 2 : 1024;
			struct track *nv = malloc(nc * sizeof *nv);
			if (!nv)
				return -1;
			for (size_t i = 0; i < t->n; i++)
				nv[i] = t->v[(t->head + i) % t->cap];
			free(t->v);
			t->v = nv;
			t->cap = nc;
			t->head = 0;
		}
		t->v[(t->head + t->n) % t->cap] = (struct track){ 0 };
		t->n++;
	}
	struct track *e = track_at(t, seq);
	e->kind = (unsigned char)kind;
	e->end_ms = end_ms;
	e->live = 1;
	return 0;
}

/* Take seq out; returns its record (copied into *out) or false if not tracked. */
static bool track_take(struct tracker *t, uint64_t seq, struct track *out)
{
	struct track *e = track_at(t, seq);
	if (!e || !e->live)
		return false;
	*out = *e;
	e->live = 0;
	while (t->n && !t->v[t->head].live) {
		t->head = (t->head + 1) % t->cap;
		t->base++;
		t->n--;
	}
	return true;
}

struct billing {
	struct event_base *base;
	enum rm_billing_mode mode;
	char cdr_dest[RM_NAME_MAX];
	spool_t *spool;
	publisher_t *pub;
	struct ssl_ctx_st *tls; /* billing.tls enabled; the publisher borrows it */
	publisher_endpoint_t *eps;
	char (*hosts)[RM_HOST_MAX];
	size_t neps;
	char login[RM_SECRET_MAX], passcode[RM_SECRET_MAX]; /* "" login: none sent */
	struct tracker tr;
	struct event *tick;
	struct event *batch; /* end of a batch of billing_take: write and publish once */

	/* shutdown */
	struct event *grace;
	int64_t grace_deadline_us;
	void (*done)(void *arg);
	void *done_arg;

	metric_t *m_depth, *m_usage, *m_hwm, *m_bytes, *m_records, *m_lost, *m_published,
		*m_rejected, *m_events, *m_events_lost, *m_connected, *m_delivery,
		*m_dead_letter;
};

static void on_batch(evutil_socket_t fd, short what, void *arg);

static void update_gauges(struct billing *b)
{
	if (b->spool) {
		spool_stats_t st;
		spool_get_stats(b->spool, &st);
		metric_set(b->m_depth, (double)st.depth);
		metric_set(b->m_usage, (double)st.usage_percent);
		metric_set(b->m_hwm, st.above_hwm ? 1 : 0);
		metric_set(b->m_bytes, (double)st.disk_bytes);
	}
	if (b->pub) {
		publisher_stats_t ps;
		publisher_get_stats(b->pub, &ps);
		metric_set(b->m_connected, ps.connected ? 1 : 0);
	}
}

/* Every entry released is receipted, dead-lettered (counted, in the dead-letter
 * file) or unreadable (counted lost): none leaves uncounted. */
static void on_release(uint64_t seq, enum publisher_outcome how, void *arg)
{
	struct billing *b = arg;
	struct track t;
	bool tracked = track_take(&b->tr, seq, &t);
	bool cdr = !tracked || t.kind == BILLING_CDR;

	if (how == PUBLISHER_DEAD_LETTERED) {
		metric_inc(b->m_rejected);
		metric_inc(b->m_dead_letter);
	} else if (how == PUBLISHER_UNREADABLE) {
		metric_inc(cdr ? b->m_lost : b->m_events_lost);
	}
	if (!tracked || t.kind != BILLING_CDR || how != PUBLISHER_RECEIPTED)
		return;
	metric_inc(b->m_published);
	if (t.end_ms > 0) {
		int64_t d = util_now_ms() - t.end_ms;
		metric_observe(b->m_delivery, d > 0 ? (double)d / 1000.0 : 0.0);
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct billing *b = arg;

	if (b->spool && spool_flush_due(b->spool, util_mono_us() / 1000))
		spool_flush(b->spool);
	update_gauges(b);
}

/* The handles of billing's series (rm_metrics.h; -1 out of memory). */
static int register_metrics(struct billing *b, metrics_t *m)
{
	rm_metrics_t rmm;

	if (rm_metrics_init(&rmm, m) < 0)
		return -1;
	b->m_depth = rmm.spool_depth;
	b->m_usage = rmm.spool_usage_percent;
	b->m_hwm = rmm.spool_high_water;
	b->m_bytes = rmm.spool_bytes;
	b->m_records = rmm.billing_records;
	b->m_lost = rmm.billing_lost;
	b->m_published = rmm.billing_published;
	b->m_rejected = rmm.billing_rejected;
	b->m_dead_letter = rmm.billing_dead_letter;
	b->m_events = rmm.billing_events;
	b->m_events_lost = rmm.billing_events_lost;
	b->m_connected = rmm.billing_connected;
	b->m_delivery = rmm.billing_delivery;
	return 0;
}

/* Endpoints "host:port" from the config into publisher endpoints. */
static int parse_endpoints(struct billing *b, const struct rm_config *cfg, char *err,
			   size_t errlen)
{
	size_t n = cfg->n_billing_endpoints;

	b->eps = calloc(n ? n : 1, sizeof *b->eps);
	b->hosts = calloc(n ? n : 1, sizeof *b->hosts);
	if (!b->eps || !b->hosts) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *ep = cfg->billing_endpoints[i];
		int port;
		if (hostport_split(ep, b->hosts[i], sizeof b->hosts[i], &port) < 0) {
			snprintf(err, errlen, "%s: billing.endpoints: expected host:port, got \"%s\"",
				 cfg->file, ep);
			return -1;
		}
		b->eps[i].host = b->hosts[i];
		b->eps[i].port = (unsigned short)port;
		b->eps[i].login = b->login[0] ? b->login : NULL;
		b->eps[i].passcode = b->login[0] ? b->passcode : NULL;
	}
	b->neps = n;
	return 0;
}

/* Learn the kind of every entry replayed from an earlier run. */
static void track_replayed(struct billing *b)
{
	const char *dest, *body;
	size_t len;

	for (uint64_t q = spool_next(b->spool, 0); q; q = spool_next(b->spool, q)) {
		if (spool_read(b->spool, q, &dest, &body, &len) < 0)
			continue;
		track_add(&b->tr, q, strcmp(dest, REC_DEST_EVENTS) == 0 ? BILLING_EVENT : BILLING_CDR,
			  0);
	}
}

struct billing *billing_new(struct event_base *base, const struct rm_config *cfg,
			    metrics_t *m, char *err, size_t errlen)
{
	struct billing *b = calloc(1, sizeof *b);
	char serr[512];

	if (!b) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	b->base = base;
	b->mode = cfg->billing_mode;
	snprintf(b->cdr_dest, sizeof b->cdr_dest, "%s",
		 cfg->billing_destination[0] ? cfg->billing_destination : REC_DEST_CDR);
	if (register_metrics(b, m) < 0) {
		snprintf(err, errlen, "out of memory");
		free(b);
		return NULL;
	}
	if (b->mode == RM_BILLING_OFF) {
		log_info("billing: off (no records are kept)");
		return b;
	}

	spool_opts_t so = { .dir = cfg->billing_spool_dir,
			    .max_bytes = (uint64_t)cfg->billing_spool_max_bytes };
	if (so.max_bytes < 16 * 1024 * 1024)
		so.segment_bytes = so.max_bytes / 4 > 4096 ? so.max_bytes / 4 : 4096;
	b->spool = spool_open(&so, serr, sizeof serr);
	if (!b->spool) {
		snprintf(err, errlen, "billing: %s", serr);
		goto fail;
	}
	if (b->mode == RM_BILLING_STOMP) {
		track_replayed(b);
		snprintf(b->login, sizeof b->login, "%s", cfg->billing_login);
		snprintf(b->passcode, sizeof b->passcode, "%s", cfg->billing_passcode);
		if (parse_endpoints(b, cfg, err, errlen) < 0)
			goto fail;
		if (cfg->billing_tls.enabled &&
		    !(b->tls = tls_ctx_new(&cfg->billing_tls, TLS_CLIENT, NULL, serr, sizeof serr))) {
			snprintf(err, errlen, "billing.tls: %s", serr);
			goto fail;
		}
		publisher_opts_t po = { .endpoints = b->eps, .nendpoints = b->neps,
					.backoff_max_ms = 2000, .on_release = on_release,
					.arg = b };
		po.tls = b->tls;
		b->pub = publisher_new(base, b->spool, &po, serr, sizeof serr);
		if (!b->pub) {
			snprintf(err, errlen, "billing: %s", serr);
			goto fail;
		}
		publisher_start(b->pub);
	}
	b->batch = event_new(base, -1, 0, on_batch, b);
	b->tick = event_new(base, -1, EV_PERSIST, on_tick, b);
	struct timeval tv = { 0, TICK_MS * 1000 };
	if (!b->tick || event_add(b->tick, &tv) < 0) {
		snprintf(err, errlen, "billing: cannot start the spool timer");
		goto fail;
	}
	spool_stats_t st;
	spool_get_stats(b->spool, &st);
	log_info("billing: %s, spool %s (%llu entries to replay, max %lld bytes)%s%s%s",
		 rm_billing_mode_name(b->mode), cfg->billing_spool_dir,
		 (unsigned long long)st.depth, cfg->billing_spool_max_bytes,
		 b->neps ? ", publishing to " : "", b->neps ? cfg->billing_endpoints[0] : "",
		 b->tls ? " over TLS" : "");
	update_gauges(b);
	return b;
fail:
	billing_free(b);
	return NULL;
}

/* After a batch of billing_take: the batch is submitted to the publisher first (it
 * reads the entries from the spool's buffer, not back from the file: spool.h allows
 * publishing before the flush), then written with one write, out of this process's
 * memory (survives kill -9), and fsync'd by the spool's policy. */
static void on_batch(evutil_socket_t fd, short what, void *arg)
{
	struct billing *b = arg;

	if (b->pub)
		publisher_submit(b->pub, 0);
	if (spool_flush_due(b->spool, util_mono_us() / 1000))
		spool_flush(b->spool);
	else
		spool_write(b->spool);
}

void billing_take(struct billing *b, struct billing_item *it)
{
	bool cdr = it->kind == BILLING_CDR;
	uint64_t seq;
	enum spool_status st;

	if (cdr)
		metric_inc(b->m_records);
	if (!b->spool) {
		free(it);
		return;
	}
	st = spool_append(b->spool, cdr ? b->cdr_dest : REC_DEST_EVENTS, it->body, it->len, &seq);
	if (st != SPOOL_OK) {
		metric_inc(cdr ? b->m_lost : b->m_events_lost);
		if (cdr)
			log_warn("billing: spool %s, record lost: %.200s",
				 st == SPOOL_FULL ? "full" : "error", it->body);
		free(it);
		return;
	}
	if (!cdr)
		metric_inc(b->m_events);
	if (b->pub)
		track_add(&b->tr, seq, it->kind, it->end_ms);
	free(it);
	/* the bridge delivers a batch of items in one callback: write and publish once
	 * after the last of them (on_batch runs before the loop waits again) */
	if (!b->batch)
		on_batch(-1, 0, b);
	else if (!event_pending(b->batch, EV_TIMEOUT, NULL))
		event_active(b->batch, EV_TIMEOUT, 0);
}

static void grace_check(evutil_socket_t fd, short what, void *arg)
{
	struct billing *b = arg;
	spool_stats_t st;

	spool_get_stats(b->spool, &st);
	update_gauges(b);
	if (st.depth > 0 && util_mono_us() < b->grace_deadline_us)
		return;
	if (st.depth > 0)
		log_info("billing: %llu entries not yet receipted stay in the spool",
			 (unsigned long long)st.depth);
	event_del(b->grace);
	void (*done)(void *) = b->done;
	b->done = NULL;
	if (done)
		done(b->done_arg);
}

void billing_shutdown(struct billing *b, unsigned grace_ms, void (*done)(void *arg),
		      void *arg)
{
	if (b->spool)
		spool_flush(b->spool);
	update_gauges(b);
	if (!b->pub) {
		done(arg);
		return;
	}
	b->done = done;
	b->done_arg = arg;
	b->grace_deadline_us = util_mono_us() + (int64_t)grace_ms * 1000;
	b->grace = event_new(b->base, -1, EV_PERSIST, grace_check, b);
	struct timeval tv = { 0, 20 * 1000 };
	if (!b->grace || event_add(b->grace, &tv) < 0) {
		b->done = NULL;
		done(arg);
		return;
	}
	grace_check(-1, 0, b);
}

void billing_free(struct billing *b)
{
	if (!b)
		return;
	if (b->grace)
		event_free(b->grace);
	if (b->tick)
		event_free(b->tick);
	if (b->batch)
		event_free(b->batch);
	publisher_free(b->pub);
	b->pub = NULL;
	tls_ctx_free(b->tls);
	if (b->spool) {
		spool_flush(b->spool);
		update_gauges(b);
	}
	spool_close(b->spool);
	free(b->tr.v);
	free(b->eps);
	free(b->hosts);
	free(b);
}
