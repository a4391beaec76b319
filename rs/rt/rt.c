/* rt: the real-time usage service. See rt.h. */
#include "rt.h"

#include <stdlib.h>

#include "log.h"
#include "rt_load.h"
#include "util.h"

struct rt {
	rt_usage_t *usage;
	struct event *tick;
	void (*on_change)(void *);
	void *arg;
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

rt_t *rt_new(struct event_base *base, const rs_config_t *cfg)
{
	rt_t *r = calloc(1, sizeof(*r));
	struct timeval sec = { 1, 0 };
	size_t ne = 0, nc = 0;
	char err[512];

	if (!r || !(r->usage = rt_usage_new()) ||
	    !(r->tick = event_new(base, -1, EV_PERSIST, tick_cb, r)) || event_add(r->tick, &sec)) {
		rt_free(r);
		return NULL;
	}
	int64_t t0 = util_mono_us();
	if (rt_load(r->usage, cfg, util_now_ms(), &ne, &nc, err, sizeof err))
		log_warn("real-time usage starts from what it could read: %s", err);
	log_info("real-time usage rebuilt from %zu events and %zu CDRs in %lld ms", ne, nc,
		 (long long)((util_mono_us() - t0) / 1000));
	return r;
}

void rt_free(rt_t *r)
{
	if (!r)
		return;
	if (r->tick)
		event_free(r->tick);
	rt_usage_free(r->usage);
	free(r);
}

void rt_feed(rt_t *r, const rs_row_t *row)
{
	char err[160];
	int rc = 0;

	if (!r)
		return;
	if (row->kind == RS_KIND_EVENT)
		rc = rt_usage_event(r->usage, row->body, row->body_len, util_now_ms(), err,
				    sizeof err);
	else if (row->kind == RS_KIND_CDR && row->rec)
		rc = rt_usage_cdr(r->usage, row->rec, util_now_ms());
	if (rc > 0)
		changed(r);
	else if (rc < 0 && row->kind == RS_KIND_EVENT)
		log_debug("event %s: not counted in real-time usage: %s", row->id, err);
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
