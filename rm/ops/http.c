/*
 * http: rm's readiness on top of common/httpd (see http.h).
 */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>

#include "httpd.h"
#include "rm_metrics.h"
#include "watchdog.h"

struct rm_http {
	httpd_t *httpd;
	metric_t *mcps_up, *draining;
	bool listening;
	const struct watchdog *wd;
	bool (*extra)(void *arg, char *why, size_t len); /* rm_http_set_ready_check */
	void *extra_arg;
};

static bool live(void *arg, char *why, size_t len)
{
	struct rm_http *h = arg;

	if (!h->wd)
		return true;
	return !watchdog_stalled(watchdog_age_ms(h->wd, watchdog_now_ms()), h->wd->limit_s, why,
				 len);
}

void rm_http_set_watchdog(struct rm_http *h, const struct watchdog *wd)
{
	if (!h)
		return;
	h->wd = wd;
	httpd_set_live(h->httpd, live, h);
}

static bool ready(void *arg, char *why, size_t len)
{
	struct rm_http *h = arg;
	double up = metric_value(h->mcps_up);

	if (!h->listening)
		snprintf(why, len, "SIP not listening");
	else if (metric_value(h->draining) > 0)
		snprintf(why, len, "draining");
	else if (up < 1)
		snprintf(why, len, "no MCP up");
	else if (h->extra && !h->extra(h->extra_arg, why, len))
		return false;
	else {
		snprintf(why, len, "%d MCPs up", (int)up);
		return true;
	}
	return false;
}

struct rm_http *rm_http_start(struct event_base *base, const char *host, int port,
			      metrics_t *metrics, char *err, size_t errlen)
{
	struct rm_http *h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rm_metrics_t rmm;
	if (rm_metrics_init(&rmm, metrics) < 0) {
		snprintf(err, errlen, "out of memory");
		free(h);
		return NULL;
	}
	h->mcps_up = rmm.mcps_up; /* published by the SIP thread (proxy.c) */
	h->draining = rmm.draining;
	h->httpd = httpd_start(base, host, port, metrics, ready, h, err, errlen);
	if (!h->httpd) {
		free(h);
		return NULL;
	}
	return h;
}

void rm_http_set_listening(struct rm_http *h, bool listening)
{
	if (h)
		h->listening = listening;
}

void rm_http_set_ready_check(struct rm_http *h, bool (*fn)(void *arg, char *why, size_t len),
			     void *arg)
{
	if (h) {
		h->extra = fn;
		h->extra_arg = arg;
	}
}

int rm_http_route(struct rm_http *h, const char *path,
		  void (*fn)(struct evhttp_request *req, const char *path, void *arg), void *arg)
{
	return h ? httpd_route(h->httpd, path, fn, arg) : -1;
}

void rm_http_stop(struct rm_http *h)
{
	if (!h)
		return;
	httpd_stop(h->httpd);
	free(h);
}
