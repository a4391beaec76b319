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

#include <event2/listener.h>

#include "accept_pause.h"
#include "log.h"
#include "preflight.h"
#include "intake.h"
#include "peer_count.h"
#include "ratelog.h"
#include "record.h"
#include "stomp.h"
#include "stomp_conn.h"
#include "tls.h"
#include "util.h"

#ifndef PROJECT_VERSION
#define PROJECT_VERSION "0"
#endif

/* One STOMP connection. refs: 1 while the socket is open, plus one per record the
 * writer holds for it; the struct is freed when the last goes (conn_unref). */
typedef struct conn {
	rs_server_t *srv;
	struct conn *prev, *next; /* srv->conns while the socket is open */
	stomp_conn_t *sc;         /* NULL once closed */
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
	ratelog_t refuse_rl, deadline_rl, tls_rl;
};

/* Connections refused at accept still hold a descriptor until their ERROR is
 * written; beyond the cap plus this many, the listener pauses instead, so a burst of
 * refusals cannot eat the descriptors kept for rs's own files (fdlimit.h). */
#define REFUSING_SLACK 16

static void conn_gone(conn_t *c);

/* Pause the listener while the connections (refused ones included) fill the cap and
 * its slack; resume below. */
static void update_hold(rs_server_t *s)
{
	size_t limit = (size_t)s->cfg->stomp_max_connections + REFUSING_SLACK;

	if (s->ap)
		accept_pause_hold(s->ap, s->nconns >= limit);
}

static void conn_unref(conn_t *c)
{
	if (--c->refs > 0)
		return;
	free(c->deferred);
	free(c);
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

/* Send the deferred frame (ERROR or DISCONNECT's RECEIPT) and close after it. */
static void conn_flush_deferred(conn_t *c)
{
	if (!c->sc || c->pending)
		return;
	char *d = c->deferred;
	c->deferred = NULL;
	if (d) {
		stomp_conn_send_raw(c->sc, d, c->deferred_len);
		free(d);
	}
	stomp_conn_end(c->sc); /* on_close (STOMP_CONN_DONE) once it is written */
}

/* Stop reading; send `frame` (may be NULL) after every pending receipt, then close. */
static void conn_end(conn_t *c, char *frame, size_t len)
{
	if (!c->sc) {
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
	/* Reads nothing more; a peer that never reads is bounded (stomp_conn.h). */
	stomp_conn_stop_reading(c->sc);
	c->deferred = frame;
	c->deferred_len = len;
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
	stomp_conn_deadline(c->sc, 0);
	snprintf(sid, sizeof(sid), "rs-%llu", c->id);
	snprintf(hb, sizeof(hb), "%d,%d", cfg->stomp_heartbeat_ms, cfg->stomp_heartbeat_ms);
	stomp_header_t h[] = { { "version", "1.2" },
			       { "server", "rs/" PROJECT_VERSION },
			       { "session", sid },
			       { "heart-beat", hb } };
	stomp_conn_send(c->sc, STOMP_CMD_CONNECTED, h, 4, NULL, 0);
	/* heart-beat 0 on either side: nothing is expected, silence is fine. */
	stomp_conn_heartbeat(c->sc, send_ms, recv_ms);
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

/* stomp_conn: one frame. Stop reading while the writer is behind. */
static void conn_frame_cb(stomp_conn_t *sc, const stomp_frame_t *f, void *arg)
{
	conn_t *c = arg;

	handle_frame(c, f);
	if (c->sc && !c->closing && !c->paused && must_pause(c)) {
		c->paused = true;
		c->srv->npaused++;
		stomp_conn_pause(c->sc, true);
	}
}

static void conn_bad_input_cb(stomp_conn_t *sc, const char *err, void *arg)
{
	conn_t *c = arg;

	metric_inc(c->srv->m->rej_protocol);
	conn_error(c, "malformed frame", err, NULL, NULL, false);
}

/* stomp.connect_timeout_ms passed without a CONNECT: closed, whatever the peer sent. */
static void log_deadline(conn_t *c)
{
	rs_server_t *s = c->srv;
	unsigned held;

	if (ratelog_allow(&s->deadline_rl, util_mono_us() / 1000, 1000, &held))
		log_info("stomp %s: no CONNECT within %d ms; closing (%u more held back in the"
			 " last second)", c->peer, s->cfg->stomp_connect_timeout_ms, held);
}

/* stomp_conn: the connection ended by itself. */
static void conn_close_cb(stomp_conn_t *sc, enum stomp_conn_end why, const char *detail,
			  void *arg)
{
	conn_t *c = arg;
	unsigned held;

	switch (why) {
	case STOMP_CONN_HB_TIMEOUT:
		log_info("stomp %s: no heart-beat from the peer; closing", c->peer);
		break;
	case STOMP_CONN_WRITE_TIMEOUT:
		log_info("stomp %s: peer does not read; closing", c->peer);
		break;
	case STOMP_CONN_TLS_ERROR: /* one line a second: a flood must not fill the disk */
		if (ratelog_allow(&c->srv->tls_rl, util_mono_us() / 1000, 1000, &held))
			log_info("stomp %s: TLS: %s; closing (%u more held back in the last "
				 "second)", c->peer, detail, held);
		break;
	case STOMP_CONN_ERROR:
		log_debug("stomp %s: %s", c->peer, detail);
		break;
	case STOMP_CONN_DEADLINE:
		log_deadline(c);
		break;
	default:
		break;
	}
	c->sc = NULL; /* freed by stomp_conn when this returns */
	conn_gone(c);
}

/* Close now (server_free). */
static void conn_close(conn_t *c)
{
	stomp_conn_close(c->sc);
	c->sc = NULL;
	conn_gone(c);
}

/* The socket is closed: forget the connection (its items may still hold it). */
static void conn_gone(conn_t *c)
{
	rs_server_t *s = c->srv;

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
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
		char a[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(c->peer, sizeof(c->peer), "[%s]:%u", a, ntohs(in6->sin6_port));
	} else {
		snprintf(c->peer, sizeof(c->peer), "#%llu", c->id);
	}
	/* A peer must CONNECT promptly (a timer: bytes that are not a CONNECT do not push
	 * it back). */
	stomp_conn_opts_t o = { .limits = &s->limits,
				.deadline_ms = (unsigned)s->cfg->stomp_connect_timeout_ms };
	static const stomp_conn_cbs_t cbs = { .on_frame = conn_frame_cb,
					      .on_bad_input = conn_bad_input_cb,
					      .on_close = conn_close_cb };
	c->sc = stomp_conn_accept(s->base, s->tls, fd, &o, &cbs, c);
	if (!c->sc) {
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
	log_debug("stomp %s: accepted", c->peer);
}

/* One finished item of a connection: its RECEIPT (if durable), then maybe the
 * deferred frame. Frees the item. */
static void server_item_done(rs_item_t *l)
{
	conn_t *c = l->owner;
	rs_server_t *s = c->srv;

	c->pending--;
	if (l->durable && l->receipt && c->sc) {
		stomp_header_t h = { "receipt-id", l->receipt };
		stomp_conn_send(c->sc, STOMP_CMD_RECEIPT, &h, 1, NULL, 0);
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
			stomp_conn_pause(c->sc, false); /* buffered frames follow */
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
		if (c->sc)
			stomp_conn_pause(c->sc, true);
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
