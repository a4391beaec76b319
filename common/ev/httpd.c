#include "httpd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "accept_pause.h"
#include "fdlimit.h"

/* Reading stops once this much sits unread in a connection's input: evhttp drains it
 * as it parses, so only a connection evhttp has let go of ever gets there. */
#define HTTPD_READ_WM (HTTPD_MAX_BODY + HTTPD_MAX_HEADERS + 4096)
#define HTTPD_SWEEP_MS 200

struct httpd {
	struct evhttp *http;
	struct evconnlistener *lis; /* evhttp's; not owned */
	accept_pause_t *ap;
	struct event *sweep;
	metrics_t *metrics;
	httpd_ready_fn ready;
	void *arg;
	/* Connection cap. evhttp (libevent 2.1) neither counts its connections nor says
	 * when one closes, so httpd creates each connection's bufferevent itself
	 * (evhttp_set_bevcb) and keeps a reference to it: evhttp_connection_free clears
	 * its callbacks, and the sweep then drops our reference, which closes the socket
	 * (BEV_OPT_CLOSE_ON_FREE: evhttp leaves the close to the bufferevent). */
	struct bufferevent **bevs;
	size_t nbevs, capbevs, max_conns;
	httpd_ready_fn live; /* NULL: /healthz is 200 while the loop runs */
	void *live_arg;
	struct httpd_route {
		char *path;
		httpd_route_fn fn;
		void *arg;
	} routes[HTTPD_MAX_ROUTES];
	size_t nroutes;
};

/* The listener's error callback gets evhttp as its argument: find our httpd. */
static httpd_t *registry[4];

void httpd_set_live(httpd_t *h, httpd_ready_fn live, void *arg)
{
	h->live = live;
	h->live_arg = arg;
}

int httpd_route(httpd_t *h, const char *path, httpd_route_fn fn, void *arg)
{
	if (h->nroutes == HTTPD_MAX_ROUTES || !(h->routes[h->nroutes].path = strdup(path)))
		return -1;
	h->routes[h->nroutes].fn = fn;
	h->routes[h->nroutes++].arg = arg;
	return 0;
}

/* The route for the path uri[0, len), or NULL. */
static const struct httpd_route *route_for(const httpd_t *h, const char *uri, size_t len)
{
	for (size_t i = 0; i < h->nroutes; i++) {
		const char *p = h->routes[i].path;
		size_t n = strlen(p);
		if (n && p[n - 1] == '/' ? len >= n && memcmp(uri, p, n) == 0
					  : len == n && memcmp(uri, p, n) == 0)
			return &h->routes[i];
	}
	return NULL;
}

void httpd_reply(struct evhttp_request *req, int code, const char *reason, const char *ctype,
		 const char *body, size_t len)
{
	struct evbuffer *buf = evbuffer_new();
	if (!buf) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	evbuffer_add(buf, body, len);
	evhttp_send_reply(req, code, reason, buf);
	evbuffer_free(buf);
}

static bool path_is(const char *uri, size_t len, const char *path)
{
	return len == strlen(path) && memcmp(uri, path, len) == 0;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	httpd_t *h = arg;
	const char *uri = evhttp_request_get_uri(req);
	size_t plen = strcspn(uri, "?");
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct httpd_route *r;

	if (strlen(uri) > HTTPD_MAX_URL) {
		httpd_reply(req, 414, "URI Too Long", "text/plain", "URI too long\n", 13);
	} else if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		httpd_reply(req, 405, "Method Not Allowed", "text/plain", "GET only\n", 9);
	} else if (path_is(uri, plen, "/healthz")) {
		char why[160] = "", body[192];
		if (!h->live || h->live(h->live_arg, why, sizeof why)) {
			httpd_reply(req, 200, "OK", "text/plain", "ok\n", 3);
			return;
		}
		int n = snprintf(body, sizeof body, "not live: %s\n", why);
		httpd_reply(req, 503, "Service Unavailable", "text/plain", body,
		      (size_t)n < sizeof body ? (size_t)n : sizeof body - 1);
	} else if (path_is(uri, plen, "/readyz")) {
		char why[160] = "", body[192];
		bool ok = h->ready(h->arg, why, sizeof why);
		int n = snprintf(body, sizeof body, "%s: %s\n", ok ? "ready" : "not ready", why);
		httpd_reply(req, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", "text/plain", body,
		      (size_t)n < sizeof body ? (size_t)n : sizeof body - 1);
	} else if (path_is(uri, plen, "/metrics")) {
		size_t len = 0;
		char *text = metrics_render(h->metrics, &len);
		if (!text) {
			evhttp_send_error(req, 500, "out of memory");
			return;
		}
		httpd_reply(req, 200, "OK", "text/plain; version=0.0.4", text, len);
		free(text);
	} else if ((r = route_for(h, uri, plen))) {
		char *path = strndup(uri, plen);
		if (!path) {
			evhttp_send_error(req, 500, "out of memory");
			return;
		}
		r->fn(req, path, r->arg);
		free(path);
	} else {
		httpd_reply(req, 404, "Not Found", "text/plain", "not found\n", 10);
	}
}

/* Hold the listener at the cap, release it below; keep sweeping while any
 * connection is open. */
static void check_cap(httpd_t *h)
{
	accept_pause_hold(h->ap, h->nbevs >= h->max_conns);
	if (h->nbevs && !evtimer_pending(h->sweep, NULL)) {
		struct timeval tv = { 0, HTTPD_SWEEP_MS * 1000 };
		evtimer_add(h->sweep, &tv);
	}
}

/* Drop our reference to the bufferevents evhttp has let go of (callbacks cleared by
 * bufferevent_free). Not from new_bev: evhttp sets a new one's callbacks after. */
static void sweep(httpd_t *h)
{
	size_t j = 0;

	for (size_t i = 0; i < h->nbevs; i++) {
		bufferevent_data_cb rd, wr;
		bufferevent_event_cb ev;
		void *a;
		bufferevent_getcb(h->bevs[i], &rd, &wr, &ev, &a);
		if (!rd && !wr && !ev)
			bufferevent_decref(h->bevs[i]);
		else
			h->bevs[j++] = h->bevs[i];
	}
	h->nbevs = j;
	check_cap(h);
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	sweep(arg);
}

/* evhttp wants a bufferevent for a new connection. */
static struct bufferevent *new_bev(struct event_base *base, void *arg)
{
	httpd_t *h = arg;
	struct bufferevent *bev;

	accept_pause_accepted(h->ap);
	if (h->nbevs == h->capbevs) {
		size_t n = h->capbevs ? h->capbevs * 2 : 64;
		struct bufferevent **v = realloc(h->bevs, n * sizeof(*v));
		if (!v)
			return NULL; /* evhttp makes its own; it just goes uncounted */
		h->bevs = v;
		h->capbevs = n;
	}
	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		return NULL;
	bufferevent_setwatermark(bev, EV_READ, 0, HTTPD_READ_WM);
	bufferevent_incref(bev);
	h->bevs[h->nbevs++] = bev;
	check_cap(h);
	return bev;
}

static void accept_error_cb(struct evconnlistener *lis, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();

	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (registry[i] && registry[i]->lis == lis)
			accept_pause_error(registry[i]->ap, err);
}

void httpd_set_max_connections(httpd_t *h, size_t max)
{
	if (!h || !max)
		return;
	h->max_conns = max;
	sweep(h);
}

size_t httpd_max_connections(const httpd_t *h)
{
	return h->max_conns;
}

httpd_t *httpd_start(struct event_base *base, const char *host, int port, metrics_t *metrics,
		     httpd_ready_fn ready, void *arg, char *err, size_t errlen)
{
	httpd_t *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->metrics = metrics;
	h->ready = ready;
	h->arg = arg;
	h->http = evhttp_new(base);
	if (!h->http) {
		snprintf(err, errlen, "cannot create the HTTP server");
		free(h);
		return NULL;
	}
	/* Other methods reach on_request too, for a 405 rather than evhttp's 501. */
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
						    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_timeout(h->http, HTTPD_IDLE_TIMEOUT_S);
	evhttp_set_max_body_size(h->http, HTTPD_MAX_BODY);
	evhttp_set_max_headers_size(h->http, HTTPD_MAX_HEADERS);
	evhttp_set_bevcb(h->http, new_bev, h);
	evhttp_set_gencb(h->http, on_request, h);
	h->max_conns = (size_t)fdlimit_http_default(fdlimit_current());
	/* "[::1]" is how people write IPv6 next to a port; getaddrinfo wants it bare. */
	size_t hl = strlen(host);
	char bare[64];
	if (hl > 2 && hl < sizeof(bare) && host[0] == '[' && host[hl - 1] == ']') {
		snprintf(bare, sizeof(bare), "%.*s", (int)(hl - 2), host + 1);
		host = bare;
	}
	struct evhttp_bound_socket *bound =
		evhttp_bind_socket_with_handle(h->http, host, (ev_uint16_t)port);
	if (!bound) {
		snprintf(err, errlen, "cannot listen for HTTP on %s:%d (in use?)", host, port);
		httpd_stop(h);
		return NULL;
	}
	h->lis = evhttp_bound_socket_get_listener(bound);
	h->ap = accept_pause_new(base, h->lis, "http");
	h->sweep = evtimer_new(base, sweep_cb, h);
	size_t slot = 0;
	while (slot < sizeof(registry) / sizeof(registry[0]) && registry[slot])
		slot++;
	if (!h->ap || !h->sweep || slot == sizeof(registry) / sizeof(registry[0])) {
		snprintf(err, errlen, "out of memory (HTTP server)");
		httpd_stop(h);
		return NULL;
	}
	registry[slot] = h;
	evconnlistener_set_error_cb(h->lis, accept_error_cb);
	return h;
}

void httpd_stop(httpd_t *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (registry[i] == h)
			registry[i] = NULL;
	if (h->http)
		evhttp_free(h->http); /* frees its connections: their callbacks clear */
	for (size_t i = 0; i < h->nbevs; i++)
		bufferevent_decref(h->bevs[i]);
	free(h->bevs);
	if (h->sweep)
		event_free(h->sweep);
	accept_pause_free(h->ap);
	for (size_t i = 0; i < h->nroutes; i++)
		free(h->routes[i].path);
	free(h);
}
