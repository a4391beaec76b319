/* rt_stream: Server-Sent Events of real-time usage. Rules in rt_stream.h. */
#include "rt_stream.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include "httpd.h"
#include "log.h"
#include "rt_format.h"
#include "util.h"

struct rt_sub {
	struct rt_sub *next;
	rt_stream_t *s;
	struct evhttp_request *req;
	struct evhttp_connection *conn;
	char scope[64];
};

struct rt_stream {
	rt_t *rt;
	struct event *flush, *heartbeat;
	struct rt_sub *subs;
	size_t n, max, dropped;
};

static void sub_unlink(rt_stream_t *s, struct rt_sub *sub)
{
	for (struct rt_sub **pp = &s->subs; *pp; pp = &(*pp)->next)
		if (*pp == sub) {
			*pp = sub->next;
			s->n--;
			break;
		}
	free(sub);
}

/* The peer went away (evhttp closes the connection and frees the request). */
static void on_close(struct evhttp_connection *conn, void *arg)
{
	struct rt_sub *sub = arg;
	sub_unlink(sub->s, sub);
}

/* Close sub's connection now (slow subscriber, or shutdown). */
static void sub_drop(rt_stream_t *s, struct rt_sub *sub)
{
	struct evhttp_connection *conn = sub->conn;
	evhttp_connection_set_closecb(conn, NULL, NULL);
	sub_unlink(s, sub);
	evhttp_connection_free(conn);
}

/* Queue text for sub, or drop it when too much is already waiting. true if kept. */
static bool sub_send(rt_stream_t *s, struct rt_sub *sub, const char *text, size_t len)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(sub->conn);
	struct evbuffer *buf;

	if (bev && evbuffer_get_length(bufferevent_get_output(bev)) > RT_STREAM_MAX_BUFFERED) {
		s->dropped++;
		log_info("stream: dropping a subscriber that reads too slowly");
		sub_drop(s, sub);
		return false;
	}
	if (!(buf = evbuffer_new()))
		return true;
	evbuffer_add(buf, text, len);
	evhttp_send_reply_chunk(sub->req, buf);
	evbuffer_free(buf);
	return true;
}

/* "event: NAME\ndata: JSON\n\n" of scope's view, or NULL. */
static char *event_text(rt_stream_t *s, enum rt_scope scope, const char *only, size_t *len)
{
	rt_stat_t *v = NULL, *w = NULL;
	size_t n, m = 0, blen = 0;
	int64_t now = util_now_ms();
	char *body = NULL, *out = NULL;

	if (scope == RT_TENANT) {
		n = rt_usage_snapshot(rt_usage(s->rt), RT_TENANT, only, now, &v);
		if (n != (size_t)-1)
			body = rt_format_tenants(v, n, RT_FMT_JSON, &blen);
	} else {
		n = rt_usage_snapshot(rt_usage(s->rt), RT_MCP, NULL, now, &v);
		if (n != (size_t)-1)
			m = rt_usage_snapshot(rt_usage(s->rt), RT_RM, NULL, now, &w);
		if (n != (size_t)-1 && m != (size_t)-1) {
			rt_stat_t *all = malloc((n + m + 1) * sizeof(*all));
			if (all) {
				memcpy(all, v, n * sizeof(*v));
				memcpy(all + n, w, m * sizeof(*w));
				body = rt_format_components(all, n + m, RT_FMT_JSON, &blen);
				free(all);
			}
		}
	}
	if (body && (out = malloc(blen + 64))) {
		int k = snprintf(out, blen + 64, "event: %s\ndata: %s\n\n",
				 scope == RT_TENANT ? "tenants" : "components", body);
		*len = (size_t)k;
	}
	free(body);
	free(v);
	free(w);
	return out;
}

/* Send the current numbers to sub. true if it is still subscribed. */
static bool sub_update(rt_stream_t *s, struct rt_sub *sub)
{
	size_t len = 0;
	char *t = event_text(s, RT_TENANT, sub->scope[0] ? sub->scope : NULL, &len);
	bool kept = true;

	if (t)
		kept = sub_send(s, sub, t, len);
	free(t);
	if (kept && !sub->scope[0] && (t = event_text(s, RT_MCP, NULL, &len))) {
		kept = sub_send(s, sub, t, len);
		free(t);
	}
	return kept;
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	rt_stream_t *s = arg;
	for (struct rt_sub *sub = s->subs, *nx; sub; sub = nx) {
		nx = sub->next;
		sub_update(s, sub);
	}
}

static void heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	rt_stream_t *s = arg;
	for (struct rt_sub *sub = s->subs, *nx; sub; sub = nx) {
		nx = sub->next;
		sub_send(s, sub, ": heartbeat\n\n", 13);
	}
}

static void on_change(void *arg)
{
	rt_stream_t *s = arg;
	struct timeval tv = { 0, RT_STREAM_COALESCE_MS * 1000 };
	if (s->subs && !evtimer_pending(s->flush, NULL))
		evtimer_add(s->flush, &tv);
}

rt_stream_t *rt_stream_new(struct event_base *base, rt_t *r, size_t max)
{
	rt_stream_t *s = calloc(1, sizeof(*s));
	struct timeval hb = { RT_STREAM_HEARTBEAT_S, 0 };

	if (!s)
		return NULL;
	s->rt = r;
	s->max = max;
	s->flush = evtimer_new(base, flush_cb, s);
	s->heartbeat = event_new(base, -1, EV_PERSIST, heartbeat_cb, s);
	if (!s->flush || !s->heartbeat || event_add(s->heartbeat, &hb)) {
		rt_stream_free(s);
		return NULL;
	}
	rt_on_change(r, on_change, s);
	return s;
}

void rt_stream_free(rt_stream_t *s)
{
	if (!s)
		return;
	while (s->subs)
		sub_drop(s, s->subs);
	if (s->rt)
		rt_on_change(s->rt, NULL, NULL);
	if (s->flush)
		event_free(s->flush);
	if (s->heartbeat)
		event_free(s->heartbeat);
	free(s);
}

void rt_stream_subscribe(rt_stream_t *s, struct evhttp_request *req, const char *scope)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct rt_sub *sub;

	if (s->n >= s->max) {
		static const char full[] = "{\"error\":\"too many stream subscribers\"}\n";
		httpd_reply(req, 503, "Service Unavailable", "application/json", full,
			    sizeof full - 1);
		return;
	}
	if (!(sub = calloc(1, sizeof(*sub)))) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	sub->s = s;
	sub->req = req;
	sub->conn = evhttp_request_get_connection(req);
	snprintf(sub->scope, sizeof sub->scope, "%s", scope);
	evhttp_add_header(h, "Content-Type", "text/event-stream");
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_add_header(h, "X-Accel-Buffering", "no");
	evhttp_send_reply_start(req, 200, "OK");
	/* a stream is idle by design: only a write that makes no progress ends it */
	evhttp_connection_set_timeout(sub->conn, RT_STREAM_WRITE_TIMEOUT_S);
	evhttp_connection_set_closecb(sub->conn, on_close, sub);
	sub->next = s->subs;
	s->subs = sub;
	s->n++;
	sub_send(s, sub, "retry: 2000\n\n", 13);
	sub_update(s, sub);
}

size_t rt_stream_subscribers(const rt_stream_t *s)
{
	return s->n;
}

size_t rt_stream_dropped(const rt_stream_t *s)
{
	return s->dropped;
}
