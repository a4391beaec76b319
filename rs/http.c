/* http: see http.h. */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

struct rs_http {
	struct evhttp *http;
	rs_writer_t *writer;
	rs_metrics_t *m;
};

static void reply(struct evhttp_request *req, int code, const char *reason,
		  const char *ctype, const char *body, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	if (!b) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	evbuffer_add(b, body, len);
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

static void http_cb(struct evhttp_request *req, void *arg)
{
	rs_http_t *h = arg;
	const char *uri = evhttp_request_get_uri(req);
	size_t plen = strcspn(uri, "?");

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	if (plen == 8 && !strncmp(uri, "/healthz", 8)) {
		reply(req, 200, "OK", "text/plain", "ok\n", 3);
	} else if (plen == 7 && !strncmp(uri, "/readyz", 7)) {
		int db = writer_db_up(h->writer), full = writer_journal_full(h->writer);
		char body[128];
		int n = snprintf(body, sizeof(body), "%s: database %s, journal %s\n",
				 db || !full ? "ready" : "not ready",
				 db ? "reachable" : "unreachable", full ? "full" : "has room");
		if (db || !full)
			reply(req, 200, "OK", "text/plain", body, (size_t)n);
		else
			reply(req, 503, "Service Unavailable", "text/plain", body, (size_t)n);
	} else if (plen == 8 && !strncmp(uri, "/metrics", 8)) {
		size_t len;
		char *text = metrics_render(h->m->reg, &len);
		if (!text) {
			evhttp_send_error(req, 500, "out of memory");
			return;
		}
		reply(req, 200, "OK", "text/plain; version=0.0.4", text, len);
		free(text);
	} else {
		evhttp_send_error(req, 404, "Not Found");
	}
}

rs_http_t *http_new(struct event_base *base, const rs_config_t *cfg, rs_writer_t *w,
		    rs_metrics_t *m, char *err, size_t errlen)
{
	rs_http_t *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->writer = w;
	h->m = m;
	h->http = evhttp_new(base);
	if (!h->http ||
	    evhttp_bind_socket(h->http, cfg->http_listen, (unsigned short)cfg->http_port)) {
		snprintf(err, errlen, "http: cannot listen on %s:%d", cfg->http_listen,
			 cfg->http_port);
		http_free(h);
		return NULL;
	}
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
						    EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
						    EVHTTP_REQ_DELETE);
	evhttp_set_gencb(h->http, http_cb, h);
	evhttp_set_timeout(h->http, 10);
	return h;
}

void http_free(rs_http_t *h)
{
	if (!h)
		return;
	if (h->http)
		evhttp_free(h->http);
	free(h);
}
