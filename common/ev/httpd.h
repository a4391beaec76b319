/*
 * httpd: the small HTTP server both programs run on their libevent loop (evhttp):
 *   GET|HEAD /healthz  200 "ok" while the loop runs
 *   GET|HEAD /readyz   200 or 503 as the program's ready function says, with its reason
 *   GET|HEAD /metrics  Prometheus text of the metrics registry
 * anything else 404; other methods 405. Runs on the thread of `base`.
 */
#ifndef COMMON_HTTPD_H
#define COMMON_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"

struct event_base;
typedef struct httpd httpd_t;

/* Is the program ready? Writes a one-line reason ("no MCP up", "database reachable")
 * into why (len bytes, NUL-terminated). */
typedef bool (*httpd_ready_fn)(void *arg, char *why, size_t len);

/* Listen on host:port. NULL with a sentence in err on failure. */
httpd_t *httpd_start(struct event_base *base, const char *host, int port, metrics_t *metrics,
		     httpd_ready_fn ready, void *arg, char *err, size_t errlen);
void httpd_stop(httpd_t *h); /* NULL is allowed */

#endif
