/* rt: the real-time usage service. See rt.h. */
#include "rt.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rt_load.h"
#include "util.h"

/* A record fed while the rebuild runs, kept to be fed again to the rebuilt numbers. */
struct rt_pending {
	struct rt_pending *next;
	enum rs_kind kind;
	int64_t now_ms, start_ms; /* start_ms: CDRs */
	size_t len;               /* events: body length */
	char data[];              /* event body, or CDR node\0call_id\0tenant\0mcp\0 */
};

#define RT_PENDING_MAX_BYTES (64u << 20)
#define RT_LOAD_RETRY_S 5

struct rt {
	rt_usage_t *usage;
	struct event *tick, *loaded_ev, *retry_ev;
	void (*on_change)(void *);
	void *arg;
	/* the rebuild (rt_load on a thread of its own, so that a slow or hung database
	 * never holds up start) */
	const rs_config_t *cfg;
	pthread_t loader;
	bool loading;            /* the rebuild is not over (running, or to retry) */
	bool thread;             /* a loader thread runs (or is to be joined) */
	unsigned attempts;
	rt_usage_t *loaded;      /* the loader's, until loaded_cb takes it */
	int load_rc;
	size_t ne, nc;
	int64_t load_us;
	char load_err[512];
	struct rt_pending *pending, **pending_tail;
	size_t pending_bytes;
	bool pending_lost;       /* more arrived than RT_PENDING_MAX_BYTES */
};

static void changed(rt_t *r)
{
	if (r->on_change)
		r->on_change(r->arg);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	rt_t *r = arg;
	/* a sixtieth of the calls each second: all of them each minute */
	if (rt_usage_tick(r->usage, util_now_ms(), 60) > 0)
		changed(r);
}

static int feed(rt_usage_t *u, enum rs_kind kind, const char *body, size_t len,
		const record_t *rec, int64_t now_ms, char *err, size_t errlen)
{
	if (kind == RS_KIND_EVENT)
		return rt_usage_event(u, body, len, now_ms, err, errlen);
	if (kind == RS_KIND_CDR && rec)
		return rt_usage_cdr(u, rec, now_ms);
	return 0;
}

static void pending_free(rt_t *r)
{
	for (struct rt_pending *p = r->pending, *nx; p; p = nx) {
		nx = p->next;
		free(p);
	}
	r->pending = NULL;
	r->pending_tail = &r->pending;
	r->pending_bytes = 0;
}

/* Keep row to be fed to the rebuilt numbers too. */
static void pending_add(rt_t *r, const rs_row_t *row, int64_t now_ms)
{
	const record_t *c = row->rec;
	size_t len = row->kind == RS_KIND_EVENT
			     ? row->body_len
			     : strlen(c->node) + strlen(c->call_id) + strlen(c->tenant) +
				       strlen(c->mcp) + 4;
	struct rt_pending *p;

	if (r->pending_lost || r->pending_bytes + len > RT_PENDING_MAX_BYTES ||
	    !(p = calloc(1, sizeof(*p) + len + 1))) {
		r->pending_lost = true;
		return;
	}
	p->kind = row->kind;
	p->now_ms = now_ms;
	p->len = len;
	if (row->kind == RS_KIND_EVENT) {
		memcpy(p->data, row->body, len);
	} else {
		char *d = p->data;
		const char *parts[4] = { c->node, c->call_id, c->tenant, c->mcp };
		for (int i = 0; i < 4; i++)
			d = stpcpy(d, parts[i]) + 1;
		p->start_ms = c->start_ms;
	}
	r->pending_bytes += len;
	*r->pending_tail = p;
	r->pending_tail = &p->next;
}

static void pending_feed(rt_t *r, rt_usage_t *u)
{
	char err[160];
	for (struct rt_pending *p = r->pending; p; p = p->next) {
		if (p->kind == RS_KIND_EVENT) {
			feed(u, p->kind, p->data, p->len, NULL, p->now_ms, err, sizeof err);
			continue;
		}
		record_t c;
		const char *s = p->data;
		memset(&c, 0, sizeof c);
		char *dst[4] = { c.node, c.call_id, c.tenant, c.mcp };
		size_t cap[4] = { sizeof c.node, sizeof c.call_id, sizeof c.tenant, sizeof c.mcp };
		for (int i = 0; i < 4; i++) {
			snprintf(dst[i], cap[i], "%s", s);
			s += strlen(s) + 1;
		}
		c.start_ms = p->start_ms;
		feed(u, RS_KIND_CDR, NULL, 0, &c, p->now_ms, err, sizeof err);
	}
}

static void *load_main(void *arg)
{
	rt_t *r = arg;
	int64_t t0 = util_mono_us();

	if (!(r->loaded = rt_usage_new())) {
		r->load_rc = -1;
		snprintf(r->load_err, sizeof r->load_err, "out of memory");
	} else {
		r->load_rc = rt_load(r->loaded, r->cfg, util_now_ms(), &r->ne, &r->nc,
				     r->load_err, sizeof r->load_err);
	}
	r->load_us = util_mono_us() - t0;
	event_active(r->loaded_ev, EV_READ, 0);
	return NULL;
}

static void start_loader(rt_t *r)
{
	r->attempts++;
	r->thread = pthread_create(&r->loader, NULL, load_main, r) == 0;
	if (!r->thread) {
		r->loading = false;
		pending_free(r);
		log_warn("real-time usage counts from rs's start only: cannot start the rebuild");
	}
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	start_loader(arg);
}

/* The rebuild ended (loop thread): the records fed meanwhile go to the rebuilt numbers
 * too (feeding is idempotent), which then replace the live ones. A rebuild that failed
 * (the database down at start) is tried again every RT_LOAD_RETRY_S while what arrives
 * meanwhile fits in the pending list: once the database answers, the numbers are
 * rebuilt from it and the journal (what was receipted while it was down). */
static void loaded_cb(evutil_socket_t fd, short what, void *arg)
{
	rt_t *r = arg;
	struct timeval retry = { RT_LOAD_RETRY_S, 0 };

	pthread_join(r->loader, NULL);
	r->thread = false;
	if (r->load_rc && !r->pending_lost) {
		if (r->attempts == 1)
			log_warn("real-time usage counts from rs's start only: %s; retrying the"
				 " rebuild every %d s", r->load_err, RT_LOAD_RETRY_S);
		rt_usage_free(r->loaded);
		r->loaded = NULL;
		if (!event_add(r->retry_ev, &retry))
			return; /* still loading: pending records are kept */
	}
	r->loading = false;
	if (r->load_rc || r->pending_lost) {
		log_warn("real-time usage counts from rs's start only: %s",
			 r->pending_lost ? "too many records arrived during the rebuild"
					 : r->load_err);
		rt_usage_free(r->loaded);
	} else {
		pending_feed(r, r->loaded);
		rt_usage_free(r->usage);
		r->usage = r->loaded;
		log_info("real-time usage rebuilt from %zu events and %zu CDRs in %lld ms%s",
			 r->ne, r->nc, (long long)(r->load_us / 1000),
			 r->attempts > 1 ? " (the database answered again)" : "");
	}
	r->loaded = NULL;
	pending_free(r);
	changed(r);
}

rt_t *rt_new(struct event_base *base, const rs_config_t *cfg)
{
	rt_t *r = calloc(1, sizeof(*r));
	struct timeval sec = { 1, 0 };

	if (!r)
		return NULL;
	r->cfg = cfg;
	r->pending_tail = &r->pending;
	if (!(r->usage = rt_usage_new()) ||
	    !(r->tick = event_new(base, -1, EV_PERSIST, tick_cb, r)) || event_add(r->tick, &sec) ||
	    !(r->loaded_ev = event_new(base, -1, 0, loaded_cb, r)) ||
	    !(r->retry_ev = evtimer_new(base, retry_cb, r))) {
		rt_free(r);
		return NULL;
	}
	r->loading = true;
	start_loader(r);
	return r;
}

void rt_free(rt_t *r)
{
	if (!r)
		return;
	if (r->thread) /* bounded: the database timeouts bound rt_load */
		pthread_join(r->loader, NULL);
	rt_usage_free(r->loaded);
	pending_free(r);
	if (r->loaded_ev)
		event_free(r->loaded_ev);
	if (r->retry_ev)
		event_free(r->retry_ev);
	if (r->tick)
		event_free(r->tick);
	rt_usage_free(r->usage);
	free(r);
}

void rt_feed(rt_t *r, const rs_row_t *row)
{
	char err[160];
	int64_t now = util_now_ms();
	int rc;

	if (!r)
		return;
	rc = feed(r->usage, row->kind, row->body, row->body_len, row->rec, now, err, sizeof err);
	if (r->loading && (row->kind == RS_KIND_EVENT || (row->kind == RS_KIND_CDR && row->rec)))
		pending_add(r, row, now);
	if (rc > 0)
		changed(r);
	else if (rc < 0 && row->kind == RS_KIND_EVENT)
		log_debug("event %s: not counted in real-time usage: %s", row->id, err);
}

bool rt_loading(const rt_t *r)
{
	return r->loading;
}

rt_usage_t *rt_usage(rt_t *r)
{
	return r->usage;
}

void rt_on_change(rt_t *r, void (*fn)(void *), void *arg)
{
	r->on_change = fn;
	r->arg = arg;
}
