/*
 * http: /healthz, /readyz, /metrics for rm (see http.h).
 */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

struct rm_http {
	struct evhttp *http;
	metrics_t *metrics;
	metric_t *mcps_up, *draining;
	bool listening;
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

static void on_request(struct evhttp_request *req, void *arg)
{
	struct rm_http *h = arg;
	const char *uri = evhttp_request_get_uri(req);
	char path[64];
	size_t n = strcspn(uri, "?");

	if (n >= sizeof path)
		n = sizeof path - 1;
	memcpy(path, uri, n);
	path[n] = '\0';

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		reply(req, 405, "Method Not Allowed", "text/plain", "GET only\n", 9);
		return;
	}
	if (strcmp(path, "/healthz") == 0) {
		reply(req, 200, "OK", "text/plain", "ok\n", 3);
	} else if (strcmp(path, "/readyz") == 0) {
		char body[128];
		double up = metric_value(h->mcps_up);
		bool drain = metric_value(h->draining) > 0;
		int len;
		if (!h->listening)
			len = snprintf(body, sizeof body, "not ready: SIP not listening\n");
		else if (drain)
			len = snprintf(body, sizeof body, "not ready: draining\n");
		else if (up < 1)
			len = snprintf(body, sizeof body, "not ready: no MCP up\n");
		else
			len = snprintf(body, sizeof body, "ready: %d MCPs up\n", (int)up);
		bool ok = h->listening && !drain && up >= 1;
		reply(req, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", "text/plain", body,
		      (size_t)len);
	} else if (strcmp(path, "/metrics") == 0) {
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

struct rm_http *rm_http_start(struct event_base *base, const char *host, int port,
			      metrics_t *metrics, char *err, size_t errlen)
{
	struct rm_http *h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->metrics = metrics;
	h->mcps_up = metrics_gauge(metrics, "rm_mcps_up", "MCPs currently up", NULL);
	h->draining = metrics_gauge(metrics, "rm_draining", "1 while draining on SIGTERM", NULL);
	h->http = evhttp_new(base);
	if (!h->http) {
		snprintf(err, errlen, "cannot create the HTTP server");
		free(h);
		return NULL;
	}
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(h->http, on_request, h);
	if (evhttp_bind_socket(h->http, host, (ev_uint16_t)port) < 0) {
		snprintf(err, errlen, "cannot listen for HTTP on %s:%d (in use?)", host, port);
		evhttp_free(h->http);
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

void rm_http_stop(struct rm_http *h)
{
	if (!h)
		return;
	evhttp_free(h->http);
	free(h);
}
