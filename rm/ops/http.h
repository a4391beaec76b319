/*
 * http: rm's HTTP endpoints on the service thread (libevent evhttp):
 *   GET /healthz  200 "ok" while the process runs its loops
 *   GET /readyz   200 when the SIP side is listening, not draining, and at least one
 *                 MCP is up; 503 otherwise (the body says why)
 *   GET /metrics  Prometheus text of the shared registry (rm_ prefix)
 * Readiness is read from metrics gauges that the SIP thread sets (rm_mcps_up,
 * rm_draining) plus a flag main sets when the proxy reports it listens.
 */
#ifndef RM_HTTP_H
#define RM_HTTP_H

#include <stdbool.h>

#include "metrics.h"

struct event_base;
struct rm_http;

/* Listen on host:port. NULL with a sentence in err on failure. */
struct rm_http *rm_http_start(struct event_base *base, const char *host, int port,
			      metrics_t *metrics, char *err, size_t errlen);
/* The SIP side is (or is no longer) listening. */
void rm_http_set_listening(struct rm_http *h, bool listening);
/* /healthz answers 503 while wd says the SIP thread is stalled (watchdog.h). wd must
 * outlive h. */
struct watchdog;
void rm_http_set_watchdog(struct rm_http *h, const struct watchdog *wd);
void rm_http_stop(struct rm_http *h);

/* /readyz also asks fn(arg, why, len) once the checks above pass (the cluster: not
 * ready while syncing). fn NULL removes it. */
void rm_http_set_ready_check(struct rm_http *h, bool (*fn)(void *arg, char *why, size_t len),
			     void *arg);

/* Serve GET path with fn (common/ev/httpd.h httpd_route: /cluster). 0 / -1. */
struct evhttp_request;
int rm_http_route(struct rm_http *h, const char *path,
		  void (*fn)(struct evhttp_request *req, const char *path, void *arg), void *arg);

#endif
