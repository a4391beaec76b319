/* server: see server.h. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "accept_pause.h"
#include "log.h"
#include "preflight.h"
#include "intake.h"
#include "peer_count.h"
#include "ratelog.h"
#include "record.h"
#include "stomp.h"
#include "tls_bev.h"
#include "util.h"

#ifndef PROJECT_VERSION
#define PROJECT_VERSION "0"
#endif

/* One STOMP connection. refs: 1 while the socket is open, plus one per record the
 * writer holds for it; the struct is freed when the last goes (conn_unref). */
typedef struct conn {
	rs_server_t *srv;
	struct conn *prev, *next; /* srv->conns while the socket is open */
	struct bufferevent *bev;  /* NULL once closed */
	stomp_parser_t *parser;
	struct event *hb;         /* heart-beat sender */
	struct event *deadline;   /* closes the connection if CONNECT is late */
	unsigned long long id;
	int refs;
	size_t pending;           /* records at the writer */
	bool connected;           /* CONNECT accepted */
	bool paused;              /* reading disabled for backpressure */
	bool closing;             /* read nothing more; close once flushed */
	char *deferred;           /* frame to send when pending reaches 0 */
	size_t deferred_len;
	bool quiet;               /* refused at accept: the refusal was logged already */
	unsigned char srclen;     /* bytes of src counted in srv->peers (0 = none) */
	unsigned char src[16];    /* source address, the per-source cap's key */
	char peer[64];
} conn_t;

struct rs_server {
	struct event_base *base;
	const rs_config_t *cfg;
	rs_writer_t *writer;
	rs_metrics_t *m;
	struct evconnlistener *lis;
	struct ssl_ctx_st *tls;    /* stomp.tls enabled: accepted sockets speak TLS */
	stomp_limits_t limits;
	conn_t *conns;
	size_t nconns;
	size_t npaused;
	bool quiesced;
	unsigned long long next_id;
	accept_pause_t *ap;       /* pauses accepting when accept() fails (EMFILE) */
	peer_count_t *peers;      /* open connections per source address */
	ratelog_t refuse_rl, deadline_rl;
};

/* Connections refused at accept still hold a descriptor until their ERROR is
 * written; beyond the cap plus this many, the listener pauses instead, so a burst of
 * refusals cannot eat the descriptors kept for rs's own files (fdlimit.h). */
#define REFUSING_SLACK 16

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_close(conn_t *c);

/* Pause the listener while the connections (refused ones included) fill the cap and
 * its slack; resume below. */
static void update_hold(rs_server_t *s)
{
	size_t limit = (size_t)s->cfg->stomp_max_connections + REFUSING_SLACK;

	if (s->ap)
		accept_pause_hold(s->ap, s->nconns >= limit);
}

bool server_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + len;
	while (p < e) {
		unsigned char c = *p;
		if (c < 0x80) {
			p++;
			continue;
		}
		size_t n;
		unsigned cp;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(e - p) <= n)
			return false;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

static void conn_unref(conn_t *c)
{
	if (--c->refs > 0)
		return;
	stomp_parser_free(c->parser);
	free(c->deferred);
	free(c);
}

/* Encode a frame and queue it on the connection's output. */
static void conn_send(conn_t *c, enum stomp_command cmd, const stomp_header_t *h,
		      size_t nh, const char *body, size_t blen)
{
	char stackbuf[1024];
	size_t n;

	if (!c->bev)
		return;
	n = stomp_encode(stackbuf, sizeof(stackbuf), cmd, h, nh, body, blen);
	if (n < sizeof(stackbuf)) {
		bufferevent_write(c->bev, stackbuf, n);
		return;
	}
	char *big = malloc(n + 1);
	if (!big)
		return;
	stomp_encode(big, n + 1, cmd, h, nh, body, blen);
	bufferevent_write(c->bev, big, n);
	free(big);
}

static char *encode_alloc(enum stomp_command cmd, const stomp_header_t *h, size_t nh,
			  const char *body, size_t blen, size_t *len)
{
	size_t n = stomp_encode(NULL, 0, cmd, h, nh, body, blen);
	char *b = malloc(n + 1);
	if (b)
		stomp_encode(b, n + 1, cmd, h, nh, body, blen);
	*len = n;
	return b;
}

/* Output flushed: a closing connection can go now. */
static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	conn_t *c = arg;
	if (c->closing && !c->deferred &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_close(c);
}

/* Send the deferred frame (ERROR or DISCONNECT's RECEIPT) and close after it. */
static void conn_flush_deferred(conn_t *c)
{
	if (!c->bev || c->pending)
		return;
	char *d = c->deferred;
	c->deferred = NULL;
	if (d) {
		bufferevent_write(c->bev, d, c->deferred_len);
		free(d);
	}
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_close(c);
	/* else conn_write_cb closes it once flushed */
}

/* Stop reading; send `frame` (may be NULL) after every pending receipt, then close. */
static void conn_end(conn_t *c, char *frame, size_t len)
{
	if (!c->bev) {
		free(frame);
		return;
	}
	if (c->closing) { /* already ending: keep the first reason */
		free(frame);
		return;
	}
	c->closing = true;
	if (c->paused) {
		c->paused = false;
		c->srv->npaused--;
	}
	bufferevent_disable(c->bev, EV_READ);
	c->deferred = frame;
	c->deferred_len = len;
	/* Bound how long a peer that never reads can hold us. */
	struct timeval tv = { 10, 0 };
	bufferevent_set_timeouts(c->bev, NULL, &tv);
	conn_flush_deferred(c);
}

/* ERROR frame then close. receipt: the offending frame's receipt header, or NULL.
 * retryable: the STOMP_HDR_RETRYABLE value (common/stomp.h): true for a passing
 * condition (the producer keeps the record and retries), false for a frame or record
 * that will never be accepted. */
static void conn_error(conn_t *c, const char *message, const char *detail,
		       const char *receipt, const char *field, bool retryable)
{
	stomp_header_t h[5];
	size_t nh = 0, len;

	h[nh++] = (stomp_header_t){ "message", message };
	if (receipt)
		h[nh++] = (stomp_header_t){ "receipt-id", receipt };
	if (field)
		h[nh++] = (stomp_header_t){ "field", field };
	h[nh++] = (stomp_header_t){ STOMP_HDR_RETRYABLE, retryable ? "true" : "false" };
	h[nh++] = (stomp_header_t){ "content-type", "text/plain" };
	if (!c->quiet)
		log_info("stomp %s: ERROR %s%s%s", c->peer, message, detail ? ": " : "",
			 detail ? detail : "");
	char *f = encode_alloc(STOMP_CMD_ERROR, h, nh, detail, detail ? strlen(detail) : 0,
			       &len);
	conn_end(c, f, len);
}

static void hb_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_t *c = arg;
	if (c->bev && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		bufferevent_write(c->bev, "\n", 1);
}

static bool version_ok(const char *accept)
{
	if (!accept)
		return false;
	const char *p = accept;
	while (*p) {
		size_t n = strcspn(p, ",");
		if (n == 3 && !strncmp(p, "1.2", 3))
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

static void handle_connect(conn_t *c, const stomp_frame_t *f)
{
	const rs_config_t *cfg = c->srv->cfg;
	const char *receipt = stomp_frame_header(f, "receipt");
	unsigned send_ms, recv_ms;
	char sid[32], hb[32];

	if (c->connected)
		return conn_error(c, "already connected", "a second CONNECT on one connection",
				  receipt, NULL, false);
	if (!version_ok(stomp_frame_header(f, "accept-version"))) {
		stomp_header_t h[] = { { "version", "1.2" }, { "message", "unsupported protocol version" },
				       { "content-type", "text/plain" } };
		const char *d = "this server speaks STOMP 1.2 (send accept-version:1.2)";
		size_t len;
		char *fr = encode_alloc(STOMP_CMD_ERROR, h, 3, d, strlen(d), &len);
		metric_inc(c->srv->m->conns_refused);
		return conn_end(c, fr, len);
	}
	if (cfg->stomp_login[0]) {
		const char *l = stomp_frame_header(f, "login");
		const char *p = stomp_frame_header(f, "passcode");
		if (!l || !p || strcmp(l, cfg->stomp_login) || strcmp(p, cfg->stomp_passcode)) {
			metric_inc(c->srv->m->conns_refused);
			return conn_error(c, "access refused", "bad login or passcode", receipt,
					  NULL, false);
		}
	}
	if (stomp_heartbeat_negotiate(stomp_frame_header(f, "heart-beat"),
				      (unsigned)cfg->stomp_heartbeat_ms,
				      (unsigned)cfg->stomp_heartbeat_ms, &send_ms, &recv_ms))
		return conn_error(c, "malformed heart-beat header", NULL, receipt, NULL, false);
	c->connected = true;
	if (c->deadline) {
		event_free(c->deadline);
		c->deadline = NULL;
	}
	snprintf(sid, sizeof(sid), "rs-%llu", c->id);
	snprintf(hb, sizeof(hb), "%d,%d", cfg->stomp_heartbeat_ms, cfg->stomp_heartbeat_ms);
	stomp_header_t h[] = { { "version", "1.2" },
			       { "server", "rs/" PROJECT_VERSION },
			       { "session", sid },
			       { "heart-beat", hb } };
	conn_send(c, STOMP_CMD_CONNECTED, h, 4, NULL, 0);
	if (send_ms) {
		c->hb = event_new(c->srv->base, -1, EV_PERSIST, hb_cb, c);
		struct timeval tv = { send_ms / 1000, (send_ms % 1000) * 1000 };
		if (c->hb)
			event_add(c->hb, &tv);
	}
	if (recv_ms) {
		/* Tolerate a late heart-beat: the agreed interval plus as much again (at
		 * least a second) for scheduling and network delays. */
		unsigned t = recv_ms + (recv_ms > 1000 ? recv_ms : 1000);
		struct timeval tv = { t / 1000, (t % 1000) * 1000 };
		bufferevent_set_timeouts(c->bev, &tv, NULL);
	} else {
		/* heart-beat 0 on either side: nothing is expected, silence is fine. */
		bufferevent_set_timeouts(c->bev, NULL, NULL);
	}
	log_debug("stomp %s: connected (heart-beat send %u ms, receive %u ms)", c->peer,
		  send_ms, recv_ms);
}

static void server_item_done(rs_item_t *it);

static void handle_send(conn_t *c, const stomp_frame_t *f)
{
	rs_server_t *s = c->srv;
	const char *receipt = stomp_frame_header(f, "receipt");
	const char *dest = stomp_frame_header(f, "destination");
	char field[64] = "", err[512] = "";
	enum rs_kind kind;
	rs_item_t *it;

	if (!dest)
		return conn_error(c, "missing destination header", NULL, receipt, NULL, false);
	if (stomp_frame_header(f, "transaction"))
		return conn_error(c, "transactions are not supported",
				  "rs stores each SEND on its own; send without BEGIN",
				  receipt, NULL, false);
	if (intake_kind(dest, &kind)) {
		metric_inc(s->m->rej_dest);
		snprintf(err, sizeof(err),
			 "destination %s: rs accepts /queue/gvp.cdr, /queue/gvp.events and"
			 " /queue/gvp.metrics",
			 dest);
		return conn_error(c, "unknown destination", err, receipt, NULL, false);
	}
	if (!writer_db_up(s->writer) && writer_journal_full(s->writer)) {
		metric_inc(s->m->rej_full);
		return conn_error(c, "journal full",
				  "the database is unreachable and the local journal is full;"
				  " retry later",
				  receipt, NULL, true);
	}
	switch (intake_item(kind, f->body, f->body_len, receipt, util_now_ms(), &it, field,
			    sizeof(field), err, sizeof(err))) {
	case INTAKE_OK:
		break;
	case INTAKE_INVALID: {
		char msg[160];
		metric_inc(s->m->rej_invalid);
		snprintf(msg, sizeof(msg), "invalid record: field %s", field);
		return conn_error(c, msg, err, receipt, field, false);
	}
	default:
		return conn_error(c, "out of memory", NULL, receipt, NULL, true);
	}
	it->owner = c;
	it->on_done = server_item_done;
	c->refs++;
	c->pending++;
	metric_inc(s->m->received);
	writer_submit(s->writer, it);
}

static void handle_frame(conn_t *c, const stomp_frame_t *f)
{
	const char *receipt = stomp_frame_header(f, "receipt");
	char msg[128];

	if (f->command == STOMP_CMD_CONNECT || f->command == STOMP_CMD_STOMP)
		return handle_connect(c, f);
	if (!c->connected)
		return conn_error(c, "not connected", "the first frame must be CONNECT or STOMP",
				  receipt, NULL, false);
	switch (f->command) {
	case STOMP_CMD_SEND:
		return handle_send(c, f);
	case STOMP_CMD_DISCONNECT: {
		char *fr = NULL;
		size_t len = 0;
		if (receipt) {
			stomp_header_t h = { "receipt-id", receipt };
			fr = encode_alloc(STOMP_CMD_RECEIPT, &h, 1, NULL, 0, &len);
		}
		return conn_end(c, fr, len);
	}
	default:
		metric_inc(c->srv->m->rej_protocol);
		snprintf(msg, sizeof(msg), "unsupported frame %s", f->command_name);
		return conn_error(c, msg, "rs accepts CONNECT, STOMP, SEND and DISCONNECT",
				  receipt, NULL, false);
	}
}

/* Should this connection stop reading until the writer catches up? */
static bool must_pause(const conn_t *c)
{
	const rs_config_t *cfg = c->srv->cfg;
	return c->pending >= (size_t)cfg->stomp_max_inflight ||
	       writer_inflight(c->srv->writer) >= (size_t)cfg->queue_max;
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	conn_t *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char err[256];

	while (c->bev && !c->closing && !c->paused && !c->srv->quiesced) {
		size_t len = evbuffer_get_contiguous_space(in);
		if (len == 0)
			break;
		const char *data = (const char *)evbuffer_pullup(in, (ssize_t)len);
		size_t used = 0;
		stomp_frame_t f;
		enum stomp_status st = stomp_parser_feed(c->parser, data, len, &used, &f, NULL,
							 err, sizeof(err));
		if (st == STOMP_ERROR) {
			evbuffer_drain(in, len);
			metric_inc(c->srv->m->rej_protocol);
			return conn_error(c, "malformed frame", err, NULL, NULL, false);
		}
		evbuffer_drain(in, used);
		if (st == STOMP_FRAME) {
			handle_frame(c, &f);
			if (c->bev && !c->closing && !c->paused && must_pause(c)) {
				c->paused = true;
				c->srv->npaused++;
				bufferevent_disable(c->bev, EV_READ);
			}
		}
	}
	if (c->bev && c->closing)
		evbuffer_drain(in, evbuffer_get_length(in));
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	conn_t *c = arg;
	if (what & BEV_EVENT_TIMEOUT) {
		if (what & BEV_EVENT_READING)
			log_info("stomp %s: no heart-beat from the peer; closing", c->peer);
		else
			log_info("stomp %s: peer does not read; closing", c->peer);
	} else if (what & BEV_EVENT_ERROR) {
		char tb[256];
		const char *te = tls_bev_error(bev, tb, sizeof(tb));
		if (te)
			log_info("stomp %s: TLS: %s; closing", c->peer, te);
		else
			log_debug("stomp %s: %s", c->peer, strerror(errno));
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_close(c);
}

static void conn_close(conn_t *c)
{
	rs_server_t *s = c->srv;
	if (!c->bev)
		return;
	bufferevent_free(c->bev);
	c->bev = NULL;
	if (c->hb) {
		event_free(c->hb);
		c->hb = NULL;
	}
	if (c->deadline) {
		event_free(c->deadline);
		c->deadline = NULL;
	}
	if (c->srclen)
		peer_count_del(s->peers, c->src, c->srclen);
	if (c->paused) {
		c->paused = false;
		s->npaused--;
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	metric_set(s->m->conns, (double)s->nconns);
	update_hold(s);
	log_debug("stomp %s: closed", c->peer);
	conn_unref(c);
}

/* The source address of sa as the per-source cap's key: its length, 0 if none. */
static unsigned char source_key(const struct sockaddr *sa, unsigned char key[16])
{
	if (sa->sa_family == AF_INET) {
		memcpy(key, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 4;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return 16;
	}
	return 0;
}

/* A refusal at accept: one log line a second at most, and none from conn_error. */
static void refusal_log(rs_server_t *s, conn_t *c, const char *why)
{
	unsigned held;

	c->quiet = true;
	if (ratelog_allow(&s->refuse_rl, util_mono_us() / 1000, 1000, &held))
		log_warn("stomp %s: refused: %s (%u more refusals held back in the last second)",
			 c->peer, why, held);
}

/* stomp.connect_timeout_ms passed without a CONNECT: close, whatever the peer sent. */
static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_t *c = arg;
	rs_server_t *s = c->srv;
	unsigned held;

	if (c->connected || c->closing)
		return;
	if (ratelog_allow(&s->deadline_rl, util_mono_us() / 1000, 1000, &held))
		log_info("stomp %s: no CONNECT within %d ms; closing (%u more held back in the"
			 " last second)", c->peer, s->cfg->stomp_connect_timeout_ms, held);
	conn_close(c);
}

/* Arm the CONNECT deadline (a timer: unlike a read timeout, bytes that are not a
 * CONNECT do not push it back). */
static void arm_deadline(conn_t *c)
{
	unsigned ms = (unsigned)c->srv->cfg->stomp_connect_timeout_ms;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	c->deadline = evtimer_new(c->srv->base, deadline_cb, c);
	if (c->deadline)
		evtimer_add(c->deadline, &tv);
	else
		bufferevent_set_timeouts(c->bev, &tv, NULL);
}

static void accept_error_cb(struct evconnlistener *lis, void *arg)
{
	rs_server_t *s = arg;
	accept_pause_error(s->ap, EVUTIL_SOCKET_ERROR());
}

static void accept_cb(struct evconnlistener *lis, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	rs_server_t *s = arg;
	conn_t *c = calloc(1, sizeof(*c));
	int one = 1;

	accept_pause_accepted(s->ap);
	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->srv = s;
	c->refs = 1;
	c->id = ++s->next_id;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)sa;
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(c->peer, sizeof(c->peer), "%s:%u", a, ntohs(in->sin_port));
	} else {
		snprintf(c->peer, sizeof(c->peer), "#%llu", c->id);
	}
	c->parser = stomp_parser_new(&s->limits);
	c->bev = tls_bev_accept(s->base, s->tls, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->parser || !c->bev) {
		if (c->bev)
			bufferevent_free(c->bev);
		else
			evutil_closesocket(fd);
		stomp_parser_free(c->parser);
		free(c);
		return;
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	metric_set(s->m->conns, (double)s->nconns);
	c->srclen = source_key(sa, c->src);
	if (c->srclen && !peer_count_add(s->peers, c->src, c->srclen))
		c->srclen = 0;
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	update_hold(s);
	if (s->nconns > (size_t)s->cfg->stomp_max_connections)
		refusal_log(s, c, "connection limit (stomp.max_connections) reached");
	if (s->nconns > (size_t)s->cfg->stomp_max_connections) {
		metric_inc(s->m->conns_refused);
		conn_error(c, "too many connections", "connection limit reached; retry later",
			   NULL, NULL, true);
		return;
	}
	if (s->cfg->stomp_max_connections_per_source && c->srclen &&
	    peer_count_get(s->peers, c->src, c->srclen) >
		    (unsigned)s->cfg->stomp_max_connections_per_source) {
		metric_inc(s->m->conns_refused);
		refusal_log(s, c, "too many connections from this address"
				  " (stomp.max_connections_per_source)");
		conn_error(c, "too many connections from this address",
			   "per-source connection limit reached; retry later", NULL, NULL,
			   true);
		return;
	}
	/* A peer must CONNECT promptly. */
	arm_deadline(c);
	log_debug("stomp %s: accepted", c->peer);
}

/* One finished item of a connection: its RECEIPT (if durable), then maybe the
 * deferred frame. Frees the item. */
static void server_item_done(rs_item_t *l)
{
	conn_t *c = l->owner;
	rs_server_t *s = c->srv;

	c->pending--;
	if (l->durable && l->receipt && c->bev) {
		stomp_header_t h = { "receipt-id", l->receipt };
		conn_send(c, STOMP_CMD_RECEIPT, &h, 1, NULL, 0);
		metric_inc(s->m->receipts);
	}
	free(l);
	if (c->pending == 0 && c->closing)
		conn_flush_deferred(c);
	conn_unref(c);
}

void server_on_done(rs_server_t *s)
{
	if (s->npaused && !s->quiesced) {
		for (conn_t *c = s->conns, *n; c; c = n) {
			n = c->next;
			if (!c->paused || must_pause(c))
				continue;
			c->paused = false;
			s->npaused--;
			bufferevent_enable(c->bev, EV_READ);
			conn_read_cb(c->bev, c); /* frames already buffered */
		}
	}
}

rs_server_t *server_new(struct event_base *base, const rs_config_t *cfg,
			rs_writer_t *writer, rs_metrics_t *m, char *err, size_t errlen)
{
	struct sockaddr_storage sin;
	socklen_t sinlen;
	rs_server_t *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->base = base;
	s->cfg = cfg;
	s->writer = writer;
	s->m = m;
	stomp_limits_default(&s->limits);
	s->limits.max_frame_size = (size_t)cfg->stomp_max_frame_size;
	/* numeric IPv4 or IPv6, as rs_preflight checked before start */
	if (preflight_parse_addr(cfg->stomp_listen, cfg->stomp_port, &sin, &sinlen) < 0) {
		snprintf(err, errlen, "stomp.listen: not a numeric IP address: %s",
			 cfg->stomp_listen);
		goto fail;
	}
	if (cfg->stomp_tls.enabled) {
		char terr[512];
		if (!(s->tls = tls_ctx_new(&cfg->stomp_tls, TLS_SERVER, NULL, terr, sizeof(terr)))) {
			snprintf(err, errlen, "stomp.tls: %s", terr);
			goto fail;
		}
		log_info("stomp: TLS on, client certificates %s",
			 cfg->stomp_tls.verify ? "required" :
			 cfg->stomp_tls.ca_file[0] ? "checked when offered" : "not asked for");
	}
	s->lis = evconnlistener_new_bind(base, accept_cb, s,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
					 (struct sockaddr *)&sin, sinlen);
	if (!s->lis) {
		snprintf(err, errlen, "stomp: cannot listen on %s:%d: %s", cfg->stomp_listen,
			 cfg->stomp_port, strerror(errno));
		goto fail;
	}
	s->ap = accept_pause_new(base, s->lis, "stomp");
	s->peers = peer_count_new();
	if (!s->ap || !s->peers) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	evconnlistener_set_error_cb(s->lis, accept_error_cb);
	return s;
fail:
	accept_pause_free(s->ap);
	peer_count_free(s->peers);
	if (s->lis)
		evconnlistener_free(s->lis);
	tls_ctx_free(s->tls);
	free(s);
	return NULL;
}

void server_quiesce(rs_server_t *s)
{
	s->quiesced = true;
	if (s->ap)
		accept_pause_stop(s->ap);
	for (conn_t *c = s->conns; c; c = c->next)
		if (c->bev)
			bufferevent_disable(c->bev, EV_READ);
}

void server_close_all(rs_server_t *s)
{
	for (conn_t *c = s->conns, *n; c; c = n) {
		n = c->next;
		if (!c->closing)
			conn_end(c, NULL, 0);
	}
}

size_t server_connections(const rs_server_t *s)
{
	return s->nconns;
}

void server_free(rs_server_t *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_close(s->conns);
	accept_pause_free(s->ap);
	peer_count_free(s->peers);
	if (s->lis)
		evconnlistener_free(s->lis);
	tls_ctx_free(s->tls);
	free(s);
}
