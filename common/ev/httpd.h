/*
 * httpd: the small HTTP server both programs run on their libevent loop (evhttp):
 *   GET|HEAD /healthz  200 "ok" while the loop runs
 *   GET|HEAD /readyz   200 or 503 as the program's ready function says, with its reason
 *   GET|HEAD /metrics  Prometheus text of the metrics registry
 * anything else 404; other methods 405. Runs on the thread of `base`.
 *
 * Limits (a request beyond them is refused and never buffered): body HTTPD_MAX_BODY
 * (413), request line + headers HTTPD_MAX_HEADERS (evhttp answers 413 or 400), URL
 * HTTPD_MAX_URL (414). A connection idle for HTTPD_IDLE_TIMEOUT_S is closed. At most
 * httpd_max_connections() connections are open at once (default
 * fdlimit_http_default of the open-file limit); beyond that the listener stops
 * accepting (new connections wait in the kernel's backlog) until one closes. An
 * accept() that fails (EMFILE) pauses the listener with backoff (accept_pause.h).
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

#define HTTPD_MAX_BODY (64 * 1024)
#define HTTPD_MAX_HEADERS (8 * 1024)
#define HTTPD_MAX_URL 2048
#define HTTPD_IDLE_TIMEOUT_S 10

/* Listen on host:port. NULL with a sentence in err on failure. */
httpd_t *httpd_start(struct event_base *base, const char *host, int port, metrics_t *metrics,
		     httpd_ready_fn ready, void *arg, char *err, size_t errlen);
/* Cap the open connections at max (0: keep the current cap). h NULL is allowed. */
void httpd_set_max_connections(httpd_t *h, size_t max);
size_t httpd_max_connections(const httpd_t *h);
void httpd_stop(httpd_t *h); /* NULL is allowed */
/* Make /healthz ask live(arg, why, len): false answers 503 "not live: <why>". Called
 * on the loop's thread, like ready. */
void httpd_set_live(httpd_t *h, httpd_ready_fn live, void *arg);

#endif
