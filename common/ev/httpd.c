#include "httpd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

struct httpd {
	struct evhttp *http;
	metrics_t *metrics;
	httpd_ready_fn ready;
	void *arg;
};

static void reply(struct evhttp_request *req, int code, const char *reason,
		  const char *ctype, const char *body, size_t len)
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

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		reply(req, 405, "Method Not Allowed", "text/plain", "GET only\n", 9);
	} else if (path_is(uri, plen, "/healthz")) {
		reply(req, 200, "OK", "text/plain", "ok\n", 3);
	} else if (path_is(uri, plen, "/readyz")) {
		char why[160] = "", body[192];
		bool ok = h->ready(h->arg, why, sizeof why);
		int n = snprintf(body, sizeof body, "%s: %s\n", ok ? "ready" : "not ready", why);
		reply(req, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", "text/plain", body,
		      (size_t)n < sizeof body ? (size_t)n : sizeof body - 1);
	} else if (path_is(uri, plen, "/metrics")) {
		size_t len = 0;
		char *text = metrics_render(h->metrics, &len);
		if (!text) {
			evhttp_send_error(req, 500, "out of memory");
			return;
		}
		reply(req, 200, "OK", "text/plain; version=0.0.4", text, len);
		free(text);
	} else {
		reply(req, 404, "Not Found", "text/plain", "not found\n", 10);
	}
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
	evhttp_set_timeout(h->http, 10);
	evhttp_set_gencb(h->http, on_request, h);
	if (evhttp_bind_socket(h->http, host, (ev_uint16_t)port) < 0) {
		snprintf(err, errlen, "cannot listen for HTTP on %s:%d (in use?)", host, port);
		httpd_stop(h);
		return NULL;
	}
	return h;
}

void httpd_stop(httpd_t *h)
{
	if (!h)
		return;
	if (h->http)
		evhttp_free(h->http);
	free(h);
}
