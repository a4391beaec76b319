/*
 * httpd: the small HTTP server both programs run on their libevent loop (evhttp):
 *   GET|HEAD /healthz  200 "ok" while the loop runs
 *   GET|HEAD /readyz   200 or 503 as the program's ready function says, with its reason
 *   GET|HEAD /metrics  Prometheus text of the metrics registry
 * plus the routes a program adds with httpd_route; anything else 404; methods other
 * than GET and HEAD 405. Runs on the thread of `base`.
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
struct evhttp_request;
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

/* A program's own page or API. path: the request's path (no query), NUL-terminated.
 * The handler answers req itself (httpd_reply, or evhttp for streaming), on the loop's
 * thread, after the URL length and method checks. */
typedef void (*httpd_route_fn)(struct evhttp_request *req, const char *path, void *arg);

#define HTTPD_MAX_ROUTES 16
/* Route GET/HEAD requests for `path` to fn. A path ending in '/' is a prefix: it takes
 * every path under it ("/ems-rs/" takes "/ems-rs/RT/tenants/usage"); otherwise the
 * path must match exactly. The first matching route wins; /healthz, /readyz and
 * /metrics cannot be taken. 0, or -1 when HTTPD_MAX_ROUTES routes are already set. */
int httpd_route(httpd_t *h, const char *path, httpd_route_fn fn, void *arg);
/* Answer req with one body: Content-Type ctype, code and reason as given. */
void httpd_reply(struct evhttp_request *req, int code, const char *reason, const char *ctype,
		 const char *body, size_t len);

#endif
