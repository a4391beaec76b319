/* accept_pause: see accept_pause.h. */
#include "accept_pause.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "log.h"
#include "ratelog.h"
#include "util.h"

#define BACKOFF_MIN_MS 10
#define BACKOFF_MAX_MS 1000

struct accept_pause {
	struct evconnlistener *lis;
	struct event *retry;  /* pending while backing off */
	const char *what;
	unsigned backoff_ms;  /* the next pause */
	bool backing_off, held, stopped, enabled;
	unsigned long pauses;
	ratelog_t rl;
};

/* Turn the listener on or off to match the three holds. */
static void apply(accept_pause_t *p)
{
	bool on = !p->backing_off && !p->held && !p->stopped;

	if (on == p->enabled)
		return;
	if (on)
		evconnlistener_enable(p->lis);
	else
		evconnlistener_disable(p->lis);
	p->enabled = on;
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	accept_pause_t *p = arg;

	p->backing_off = false;
	apply(p);
}

accept_pause_t *accept_pause_new(struct event_base *base, struct evconnlistener *lis,
				 const char *what)
{
	accept_pause_t *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->retry = evtimer_new(base, retry_cb, p);
	if (!p->retry) {
		free(p);
		return NULL;
	}
	p->lis = lis;
	p->what = what;
	p->backoff_ms = BACKOFF_MIN_MS;
	p->enabled = true; /* a new listener accepts */
	return p;
}

void accept_pause_error(accept_pause_t *p, int err)
{
	unsigned held_back;
	struct timeval tv = { p->backoff_ms / 1000, (p->backoff_ms % 1000) * 1000 };

	p->pauses++;
	if (ratelog_allow(&p->rl, util_mono_us() / 1000, 1000, &held_back))
		log_warn("%s: accept failed: %s; not accepting for %u ms (%u more failures"
			 " held back in the last second)",
			 p->what, strerror(err), p->backoff_ms, held_back);
	p->backing_off = true;
	apply(p);
	evtimer_add(p->retry, &tv);
	p->backoff_ms *= 2;
	if (p->backoff_ms > BACKOFF_MAX_MS)
		p->backoff_ms = BACKOFF_MAX_MS;
}

void accept_pause_accepted(accept_pause_t *p)
{
	p->backoff_ms = BACKOFF_MIN_MS;
}

void accept_pause_hold(accept_pause_t *p, bool hold)
{
	p->held = hold;
	apply(p);
}

void accept_pause_stop(accept_pause_t *p)
{
	p->stopped = true;
	apply(p);
}

unsigned long accept_pause_count(const accept_pause_t *p)
{
	return p->pauses;
}

void accept_pause_free(accept_pause_t *p)
{
	if (!p)
		return;
	event_free(p->retry);
	free(p);
}
