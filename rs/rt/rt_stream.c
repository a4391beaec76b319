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
#include "rt_tz.h"
#include "util.h"

struct rt_sub {
	struct rt_sub *next;
	rt_stream_t *s;
	struct evhttp_request *req;
	struct evhttp_connection *conn;
	char scope[64];
	tz_t *zone;         /* tz= of the request (NULL: UTC); owned */
	bool dirty;         /* an update is owed (skipped while output was pending) */
	int64_t busy_since; /* mono us since output has been pending; 0 none */
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
	tz_free(sub->zone);
	free(sub);
}

/* The connection is closing. When the peer went away (EOF, error, timeout) evhttp has
 * detached our unfinished request from it and leaves it to us: evhttp_send_reply_end
 * on a detached request frees it. Otherwise (evhttp_free at exit) the connection
 * frees it. */
static void on_close(struct evhttp_connection *conn, void *arg)
{
	struct rt_sub *sub = arg;
	struct evhttp_request *req = sub->req;

	sub_unlink(sub->s, sub);
	if (!evhttp_request_get_connection(req))
		evhttp_send_reply_end(req);
}

/* Close sub's connection now (slow subscriber, or shutdown). */
static void sub_drop(rt_stream_t *s, struct rt_sub *sub)
{
	struct evhttp_connection *conn = sub->conn;
	evhttp_connection_set_closecb(conn, NULL, NULL);
	sub_unlink(s, sub);
	evhttp_connection_free(conn);
}

/* Bytes queued for sub and not yet taken by the kernel. */
static size_t pending(const struct rt_sub *sub)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(sub->conn);
	return bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

/* Is sub still taking the previous message? Drops it when it has been for
 * RT_STREAM_STALL_MS. true: busy (or dropped), send nothing now. */
static bool sub_busy(rt_stream_t *s, struct rt_sub *sub)
{
	int64_t now = util_mono_us();

	if (!pending(sub)) {
		sub->busy_since = 0;
		return false;
	}
	if (!sub->busy_since)
		sub->busy_since = now;
	if (now - sub->busy_since >= (int64_t)RT_STREAM_STALL_MS * 1000) {
		s->dropped++;
		log_info("stream: dropping a subscriber that reads too slowly");
		sub_drop(s, sub);
	}
	return true;
}

static void sub_send(struct rt_sub *sub, const char *text, size_t len)
{
	struct evbuffer *buf = evbuffer_new();
	if (!buf)
		return;
	evbuffer_add(buf, text, len);
	evhttp_send_reply_chunk(sub->req, buf);
	evbuffer_free(buf);
}

/* "event: NAME\ndata: JSON\n\n" of scope's view in zone (NULL: UTC), or NULL. */
static char *event_text(rt_stream_t *s, enum rt_scope scope, const char *only,
			const tz_t *zone, size_t *len)
{
	rt_stat_t *v = NULL, *w = NULL;
	size_t n, m = 0, blen = 0;
	int64_t now = util_now_ms();
	rt_window_t win = rt_tz_window(zone, now);
	char *body = NULL, *out = NULL;

	if (scope == RT_TENANT) {
		n = rt_usage_snapshot(rt_usage(s->rt), RT_TENANT, only, now, &win, &v);
		if (n != (size_t)-1)
			body = rt_format_tenants(v, n, RT_FMT_JSON, &blen);
	} else {
		n = rt_usage_snapshot(rt_usage(s->rt), RT_MCP, NULL, now, &win, &v);
		if (n != (size_t)-1)
			m = rt_usage_snapshot(rt_usage(s->rt), RT_RM, NULL, now, &win, &w);
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

/* Send the current numbers to sub (it is not busy). */
static void sub_update(rt_stream_t *s, struct rt_sub *sub)
{
	size_t len = 0;
	char *t = event_text(s, RT_TENANT, sub->scope[0] ? sub->scope : NULL, sub->zone, &len);

	sub->dirty = false;
	if (t)
		sub_send(sub, t, len);
	free(t);
	if (!sub->scope[0] && (t = event_text(s, RT_MCP, NULL, sub->zone, &len))) {
		sub_send(sub, t, len);
		free(t);
	}
}

static void arm_flush(rt_stream_t *s)
{
	struct timeval tv = { 0, RT_STREAM_COALESCE_MS * 1000 };
	if (!evtimer_pending(s->flush, NULL))
		evtimer_add(s->flush, &tv);
}

/* Owed updates go to every subscriber that has taken the previous one; the others
 * stay owed (and are checked again) or are dropped when stalled. */
static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	rt_stream_t *s = arg;
	bool owed = false;

	for (struct rt_sub *sub = s->subs, *nx; sub; sub = nx) {
		nx = sub->next;
		if (!sub->dirty)
			continue;
		if (!sub_busy(s, sub))
			sub_update(s, sub);
		else
			owed = true; /* sub may be gone: do not touch it */
	}
	if (owed)
		arm_flush(s);
}

static void heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	rt_stream_t *s = arg;
	for (struct rt_sub *sub = s->subs, *nx; sub; sub = nx) {
		nx = sub->next;
		if (!sub_busy(s, sub))
			sub_send(sub, ": heartbeat\n\n", 13);
	}
}

static void on_change(void *arg)
{
	rt_stream_t *s = arg;
	for (struct rt_sub *sub = s->subs; sub; sub = sub->next)
		sub->dirty = true;
	if (s->subs)
		arm_flush(s);
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

void rt_stream_subscribe(rt_stream_t *s, struct evhttp_request *req, const char *scope,
			 tz_t *zone)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct rt_sub *sub;

	if (s->n >= s->max) {
		static const char full[] = "{\"error\":\"too many stream subscribers\"}\n";
		tz_free(zone);
		httpd_reply(req, 503, "Service Unavailable", "application/json", full,
			    sizeof full - 1);
		return;
	}
	if (!(sub = calloc(1, sizeof(*sub)))) {
		tz_free(zone);
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	sub->zone = zone;
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
	sub_send(sub, "retry: 2000\n\n", 13);
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
