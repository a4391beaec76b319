/* stomp_conn: see stomp_conn.h. */
#include "stomp_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>

#include "tls_bev.h"
#include "util.h"

#define FLUSH_TIMEOUT_MS 10000

struct stomp_conn {
	struct bufferevent *bev;
	stomp_parser_t *parser;
	stomp_conn_cbs_t cbs;
	void *arg;
	struct event *hb;       /* heart-beat sender tick */
	struct event *deadline; /* stomp_conn_deadline */
	struct event *later;    /* work for the next loop turn: resume, close */
	unsigned hb_send_ms;
	unsigned write_timeout_ms, flush_timeout_ms;
	int64_t last_tx_us;
	int depth;              /* callbacks of this connection running */
	bool paused;            /* back-pressure: not reading */
	bool stopped;           /* reads nothing more */
	bool ending;            /* close once the output is written */
	bool dead;              /* closed by the owner or ended: no more callbacks */
};

static void ms_tv(unsigned ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

static void conn_free(stomp_conn_t *sc)
{
	if (sc->bev)
		bufferevent_free(sc->bev);
	if (sc->hb)
		event_free(sc->hb);
	if (sc->deadline)
		event_free(sc->deadline);
	if (sc->later)
		event_free(sc->later);
	stomp_parser_free(sc->parser);
	free(sc);
}

/* Leave a callback: free a connection closed during it. */
static void leave(stomp_conn_t *sc)
{
	if (--sc->depth == 0 && sc->dead)
		conn_free(sc);
}

/* The connection ended by itself: tell the owner once, then free. */
static void finish(stomp_conn_t *sc, enum stomp_conn_end why, const char *detail)
{
	if (sc->dead)
		return;
	sc->dead = true;
	if (sc->bev) {
		bufferevent_free(sc->bev);
		sc->bev = NULL;
	}
	sc->depth++;
	if (sc->cbs.on_close)
		sc->cbs.on_close(sc, why, detail ? detail : "", sc->arg);
	leave(sc);
}

/* Feed buffered input to the parser and hand out frames while reading is on. */
static void read_loop(stomp_conn_t *sc)
{
	struct evbuffer *in = bufferevent_get_input(sc->bev);
	char err[256];

	sc->depth++;
	while (!sc->dead && !sc->paused && !sc->stopped) {
		size_t len = evbuffer_get_contiguous_space(in);
		if (len == 0)
			break;
		const char *data = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
		size_t used = 0;
		stomp_frame_t f;
		enum stomp_status st = stomp_parser_feed(sc->parser, data, len, &used, &f, NULL,
							 err, sizeof(err));
		if (st == STOMP_ERROR) {
			stomp_conn_stop_reading(sc); /* the parser is dead */
			if (sc->cbs.on_bad_input)
				sc->cbs.on_bad_input(sc, err, sc->arg);
			else
				finish(sc, STOMP_CONN_EOF, NULL);
			break;
		}
		evbuffer_drain(in, used);
		if (st == STOMP_FRAME && sc->cbs.on_frame)
			sc->cbs.on_frame(sc, &f, sc->arg);
	}
	if (!sc->dead && sc->stopped)
		evbuffer_drain(in, evbuffer_get_length(in));
	leave(sc);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	read_loop(arg);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	stomp_conn_t *sc = arg;
	if (sc->ending && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		finish(sc, STOMP_CONN_DONE, NULL);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	stomp_conn_t *sc = arg;
	char tb[256];

	if (what & BEV_EVENT_CONNECTED) {
		sc->depth++;
		if (sc->cbs.on_open)
			sc->cbs.on_open(sc, sc->arg);
		leave(sc);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		finish(sc, (what & BEV_EVENT_READING) ? STOMP_CONN_HB_TIMEOUT
						      : STOMP_CONN_WRITE_TIMEOUT, NULL);
	} else if (what & BEV_EVENT_ERROR) {
		int dns = bufferevent_socket_get_dns_error(bev);
		int e = EVUTIL_SOCKET_ERROR();
		const char *te = tls_bev_error(bev, tb, sizeof(tb));
		if (te)
			finish(sc, STOMP_CONN_TLS_ERROR, te);
		else
			finish(sc, STOMP_CONN_ERROR, dns ? evutil_gai_strerror(dns)
						 : e ? evutil_socket_error_to_string(e) : "");
	} else if (what & BEV_EVENT_EOF) {
		finish(sc, STOMP_CONN_EOF, NULL);
	}
}

static void hb_cb(evutil_socket_t fd, short what, void *arg)
{
	stomp_conn_t *sc = arg;
	(void)fd;
	(void)what;
	if (!sc->bev || sc->ending)
		return;
	if (evbuffer_get_length(bufferevent_get_output(sc->bev)) == 0 &&
	    util_mono_us() - sc->last_tx_us >= (int64_t)sc->hb_send_ms * 500) {
		bufferevent_write(sc->bev, "\n", 1);
		sc->last_tx_us = util_mono_us();
	}
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish(arg, STOMP_CONN_DEADLINE, NULL);
}

/* Next loop turn: close a flushed ending connection, or read what a resume left. */
static void later_cb(evutil_socket_t fd, short what, void *arg)
{
	stomp_conn_t *sc = arg;
	(void)fd;
	(void)what;
	if (sc->dead)
		return;
	if (sc->ending) {
		if (evbuffer_get_length(bufferevent_get_output(sc->bev)) == 0)
			finish(sc, STOMP_CONN_DONE, NULL);
		return;
	}
	if (!sc->paused && !sc->stopped)
		read_loop(sc);
}

static void set_timeouts(stomp_conn_t *sc, unsigned read_ms, unsigned write_ms)
{
	struct timeval r, w;
	ms_tv(read_ms, &r);
	ms_tv(write_ms, &w);
	bufferevent_set_timeouts(sc->bev, read_ms ? &r : NULL, write_ms ? &w : NULL);
}

/* Common setup around a bufferevent (taken over even on failure). */
static stomp_conn_t *conn_new(struct event_base *base, struct bufferevent *bev,
			      const stomp_conn_opts_t *o, const stomp_conn_cbs_t *cbs,
			      void *arg)
{
	stomp_conn_t *sc = calloc(1, sizeof(*sc));
	if (!sc) {
		bufferevent_free(bev);
		return NULL;
	}
	sc->bev = bev;
	sc->cbs = *cbs;
	sc->arg = arg;
	sc->write_timeout_ms = o ? o->write_timeout_ms : 0;
	sc->flush_timeout_ms = o && o->flush_timeout_ms ? o->flush_timeout_ms
							: FLUSH_TIMEOUT_MS;
	sc->parser = stomp_parser_new(o ? o->limits : NULL);
	sc->hb = event_new(base, -1, EV_PERSIST, hb_cb, sc);
	sc->deadline = evtimer_new(base, deadline_cb, sc);
	sc->later = evtimer_new(base, later_cb, sc);
	if (!sc->parser || !sc->hb || !sc->deadline || !sc->later) {
		conn_free(sc);
		return NULL;
	}
	sc->last_tx_us = util_mono_us();
	bufferevent_setcb(bev, read_cb, write_cb, event_cb, sc);
	set_timeouts(sc, 0, sc->write_timeout_ms);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	if (o && o->deadline_ms)
		stomp_conn_deadline(sc, o->deadline_ms);
	return sc;
}

stomp_conn_t *stomp_conn_accept(struct event_base *base, struct ssl_ctx_st *tls,
				evutil_socket_t fd, const stomp_conn_opts_t *opts,
				const stomp_conn_cbs_t *cbs, void *arg)
{
	struct bufferevent *bev = tls_bev_accept(base, tls, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		evutil_closesocket(fd);
		return NULL;
	}
	return conn_new(base, bev, opts, cbs, arg);
}

/* Connect bev to host:port: numeric addresses directly, names through dns. */
static int dial(struct bufferevent *bev, struct evdns_base *dns, const char *host,
		int port, int family)
{
	struct sockaddr_storage ss;
	int sl = sizeof(ss);
	char hp[300];

	snprintf(hp, sizeof(hp), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	if (evutil_parse_sockaddr_port(hp, (struct sockaddr *)&ss, &sl) == 0)
		return bufferevent_socket_connect(bev, (struct sockaddr *)&ss, sl);
	return bufferevent_socket_connect_hostname(bev, dns, family ? family : AF_UNSPEC,
						   host, port);
}

stomp_conn_t *stomp_conn_connect(struct event_base *base, struct evdns_base *dns,
				 struct ssl_ctx_st *tls, const char *host, int port,
				 const stomp_conn_opts_t *opts, const stomp_conn_cbs_t *cbs,
				 void *arg, char *err, size_t errlen)
{
	/* Deferred callbacks: a connect that fails at once still reports from the loop. */
	struct bufferevent *bev = tls_bev_client(base, tls, host,
						 BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS,
						 err, errlen);
	stomp_conn_t *sc;

	if (!bev)
		return NULL;
	sc = conn_new(base, bev, opts, cbs, arg);
	if (!sc) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (dial(bev, dns, host, port, opts ? opts->family : 0) < 0) {
		snprintf(err, errlen, "cannot connect to %s:%d (address)", host, port);
		conn_free(sc);
		return NULL;
	}
	return sc;
}

int stomp_conn_send_raw(stomp_conn_t *sc, const char *data, size_t len)
{
	if (!sc || sc->dead || sc->ending || !sc->bev)
		return -1;
	if (bufferevent_write(sc->bev, data, len) < 0)
		return -1;
	sc->last_tx_us = util_mono_us();
	return 0;
}

int stomp_conn_send(stomp_conn_t *sc, enum stomp_command cmd, const stomp_header_t *h,
		    size_t nh, const char *body, size_t body_len)
{
	char stackbuf[2048];
	size_t n = stomp_encode(stackbuf, sizeof(stackbuf), cmd, h, nh, body, body_len);
	int rc;

	if (n < sizeof(stackbuf))
		return stomp_conn_send_raw(sc, stackbuf, n);
	char *big = malloc(n + 1);
	if (!big)
		return -1;
	stomp_encode(big, n + 1, cmd, h, nh, body, body_len);
	rc = stomp_conn_send_raw(sc, big, n);
	free(big);
	return rc;
}

void stomp_conn_heartbeat(stomp_conn_t *sc, unsigned send_ms, unsigned recv_ms)
{
	struct timeval tv;

	if (sc->dead)
		return;
	sc->hb_send_ms = send_ms;
	event_del(sc->hb);
	if (send_ms) {
		ms_tv(send_ms / 2 ? send_ms / 2 : 1, &tv);
		event_add(sc->hb, &tv);
	}
	/* Tolerate a late heart-beat: the agreed interval plus as much again (at least a
	 * second) for scheduling and network delays. */
	set_timeouts(sc, recv_ms ? recv_ms + (recv_ms > 1000 ? recv_ms : 1000) : 0,
		     sc->ending ? sc->flush_timeout_ms : sc->write_timeout_ms);
}

void stomp_conn_deadline(stomp_conn_t *sc, unsigned ms)
{
	struct timeval tv;

	if (sc->dead)
		return;
	event_del(sc->deadline);
	if (ms) {
		ms_tv(ms, &tv);
		evtimer_add(sc->deadline, &tv);
	}
}

void stomp_conn_pause(stomp_conn_t *sc, bool paused)
{
	if (sc->dead || sc->stopped || sc->paused == paused)
		return;
	sc->paused = paused;
	if (paused) {
		bufferevent_disable(sc->bev, EV_READ);
		return;
	}
	bufferevent_enable(sc->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_input(sc->bev)))
		event_active(sc->later, EV_TIMEOUT, 0);
}

bool stomp_conn_paused(const stomp_conn_t *sc)
{
	return sc->paused;
}

void stomp_conn_stop_reading(stomp_conn_t *sc)
{
	if (sc->dead || sc->stopped)
		return;
	sc->stopped = true;
	bufferevent_disable(sc->bev, EV_READ);
	evbuffer_drain(bufferevent_get_input(sc->bev),
		       evbuffer_get_length(bufferevent_get_input(sc->bev)));
	event_del(sc->deadline);
	set_timeouts(sc, 0, sc->flush_timeout_ms);
}

void stomp_conn_end(stomp_conn_t *sc)
{
	if (sc->dead || sc->ending)
		return;
	stomp_conn_stop_reading(sc);
	sc->ending = true;
	event_del(sc->hb);
	/* Closed by write_cb once written, or by later_cb if nothing is queued. */
	if (evbuffer_get_length(bufferevent_get_output(sc->bev)) == 0)
		event_active(sc->later, EV_TIMEOUT, 0);
}

bool stomp_conn_ending(const stomp_conn_t *sc)
{
	return sc->stopped || sc->ending;
}

void stomp_conn_close(stomp_conn_t *sc)
{
	if (!sc || sc->dead)
		return;
	sc->dead = true;
	if (sc->depth > 0) {
		/* Inside one of its callbacks: close the socket now, free on the way out. */
		bufferevent_free(sc->bev);
		sc->bev = NULL;
		event_del(sc->hb);
		event_del(sc->deadline);
		event_del(sc->later);
		return;
	}
	conn_free(sc);
}

size_t stomp_conn_output_pending(const stomp_conn_t *sc)
{
	if (!sc->bev)
		return 0;
	return evbuffer_get_length(bufferevent_get_output(sc->bev));
}
