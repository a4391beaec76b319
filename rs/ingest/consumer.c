/* consumer: see consumer.h. */
#include "consumer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/dns.h>

#include "backoff.h"
#include "hostport.h"
#include "intake.h"
#include "log.h"
#include "stomp.h"
#include "stomp_conn.h"
#include "tls.h"
#include "util.h"

/* Bound of the TCP connect plus CONNECTED, and of DISCONNECT's RECEIPT. */
#define CONNECT_DEADLINE_MS 10000
#define BYE_DEADLINE_MS 5000

#ifndef PROJECT_VERSION
#define PROJECT_VERSION "0"
#endif

/* One broker session. refs: 1 while the socket is open, plus one per item the writer
 * holds for it; freed when the last goes (bconn_unref). */
typedef struct bconn {
	rs_consumer_t *cons;
	stomp_conn_t *sc;        /* NULL once closed */
	int refs;
	size_t pending;          /* items at the writer */
	bool connected;          /* CONNECTED received, subscribed */
	bool paused;             /* reading off for backpressure */
	bool closing;            /* DISCONNECT sent or to be sent */
	bool bye_sent;
	char ep[256];
} bconn_t;

struct rs_consumer {
	struct event_base *base;
	const rs_config_t *cfg;
	rs_writer_t *writer;
	rs_metrics_t *m;
	stomp_limits_t limits;
	bconn_t *cur;
	struct event *retry;
	struct evdns_base *dns;  /* non-blocking lookups of endpoint names (may be NULL) */
	struct ssl_ctx_st *tls;  /* broker.tls enabled: every session speaks TLS */
	int next_ep;
	int rounds;              /* full rounds of failed attempts, for the backoff */
	bool quiesced;
	bool closing;
};

static void bconn_close(bconn_t *b);

static void bconn_unref(bconn_t *b)
{
	if (--b->refs > 0)
		return;
	free(b);
}

static void bconn_send(bconn_t *b, enum stomp_command cmd, const stomp_header_t *h,
		       size_t nh)
{
	stomp_conn_send(b->sc, cmd, h, nh, NULL, 0);
}

static void schedule_retry(rs_consumer_t *c, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	if (c->quiesced || c->closing)
		return;
	event_add(c->retry, &tv);
}

/* Delay before the next attempt: min * 2^rounds, capped, with jitter so that several
 * rs do not reconnect in step (backoff.h). */
static int backoff_ms(const rs_consumer_t *c)
{
	return (int)backoff_delay_ms((unsigned)c->cfg->broker_reconnect_min_ms,
				     (unsigned)c->cfg->broker_reconnect_max_ms,
				     (unsigned)c->rounds + 1, true);
}

static void on_connected(bconn_t *b, const stomp_frame_t *f)
{
	rs_consumer_t *c = b->cons;
	const rs_config_t *cfg = c->cfg;
	unsigned send_ms, recv_ms;
	char prefetch[16], id[16];

	if (stomp_heartbeat_negotiate(stomp_frame_header(f, "heart-beat"),
				      (unsigned)cfg->broker_heartbeat_ms,
				      (unsigned)cfg->broker_heartbeat_ms, &send_ms, &recv_ms)) {
		log_warn("broker %s: malformed heart-beat header in CONNECTED", b->ep);
		send_ms = recv_ms = 0;
	}
	b->connected = true;
	c->rounds = 0;
	c->next_ep = 0; /* after losing this session, try the first endpoint again */
	snprintf(prefetch, sizeof(prefetch), "%d", cfg->broker_prefetch);
	for (int i = 0; i < cfg->broker_ndests; i++) {
		snprintf(id, sizeof(id), "%d", i);
		stomp_header_t h[] = { { "id", id },
				       { "destination", cfg->broker_dests[i] },
				       { "ack", "client-individual" },
				       { "activemq.prefetchSize", prefetch } };
		bconn_send(b, STOMP_CMD_SUBSCRIBE, h, 4);
	}
	stomp_conn_deadline(b->sc, 0);
	stomp_conn_heartbeat(b->sc, send_ms, recv_ms);
	metric_set(c->m->broker_up, 1);
	metric_inc(c->m->broker_connects);
	log_info("broker %s: connected (server %s), consuming %d destination(s) with"
		 " prefetch %d",
		 b->ep, stomp_frame_header(f, "server") ? stomp_frame_header(f, "server") : "?",
		 cfg->broker_ndests, cfg->broker_prefetch);
}

static void consumer_item_done(rs_item_t *it)
{
	bconn_t *b = it->owner;
	rs_consumer_t *c = b->cons;

	b->pending--;
	if (it->durable && it->receipt && b->sc && !b->bye_sent) {
		stomp_header_t h = { "id", it->receipt };
		bconn_send(b, STOMP_CMD_ACK, &h, 1);
		metric_inc(c->m->broker_acks);
	}
	free(it);
	bconn_unref(b);
}

static void on_message(bconn_t *b, const stomp_frame_t *f)
{
	rs_consumer_t *c = b->cons;
	const char *dest = stomp_frame_header(f, "destination");
	const char *ack = stomp_frame_header(f, "ack");
	char field[64] = "", err[512] = "";
	enum rs_kind kind;
	rs_item_t *it = NULL;

	if (!ack)
		ack = stomp_frame_header(f, "message-id");
	if (!ack) {
		log_warn("broker %s: MESSAGE without ack or message-id header; ignored", b->ep);
		return;
	}
	if (intake_kind(dest, &kind)) {
		snprintf(field, sizeof(field), "(destination)");
		snprintf(err, sizeof(err), "destination %s is not a gvp queue",
			 dest ? dest : "(none)");
	} else {
		switch (intake_item(kind, f->body, f->body_len, ack, util_now_ms(), &it, field,
				    sizeof(field), err, sizeof(err))) {
		case INTAKE_OK:
			break;
		case INTAKE_INVALID:
			break;
		default:
			log_error("broker %s: out of memory; reconnecting", b->ep);
			bconn_close(b);
			return;
		}
	}
	if (!it) {
		stomp_header_t h = { "id", ack };
		metric_inc(c->m->rej_invalid);
		metric_inc(c->m->broker_nacks);
		log_warn("broker %s: invalid record (field %s: %s); NACKed", b->ep, field, err);
		bconn_send(b, STOMP_CMD_NACK, &h, 1);
		return;
	}
	it->owner = b;
	it->on_done = consumer_item_done;
	b->refs++;
	b->pending++;
	metric_inc(c->m->received);
	writer_submit(c->writer, it);
}

static void on_frame(bconn_t *b, const stomp_frame_t *f)
{
	switch (f->command) {
	case STOMP_CMD_CONNECTED:
		if (!b->connected)
			on_connected(b, f);
		return;
	case STOMP_CMD_MESSAGE:
		/* After DISCONNECT nothing more goes to the writer (it may have ended):
		 * such a message stays unacknowledged and the broker redelivers it. */
		if (b->connected && !b->bye_sent)
			on_message(b, f);
		return;
	case STOMP_CMD_RECEIPT:
		if (b->bye_sent)
			bconn_close(b);
		return;
	case STOMP_CMD_ERROR: {
		const char *m = stomp_frame_header(f, "message");
		log_error("broker %s: ERROR %s%s%.*s", b->ep, m ? m : "(no message)",
			  f->body_len ? ": " : "", (int)(f->body_len > 300 ? 300 : f->body_len),
			  f->body);
		bconn_close(b);
		return;
	}
	default:
		log_warn("broker %s: unexpected frame %s; ignored", b->ep, f->command_name);
	}
}

static bool must_pause(const bconn_t *b)
{
	return writer_inflight(b->cons->writer) >= (size_t)b->cons->cfg->queue_max;
}

/* stomp_conn: one frame. Stop reading while the writer is behind. */
static void bconn_frame_cb(stomp_conn_t *sc, const stomp_frame_t *f, void *arg)
{
	bconn_t *b = arg;

	b->refs++; /* a frame may close the session (bconn_close); keep b valid here */
	on_frame(b, f);
	if (b->sc && !b->paused && must_pause(b)) {
		b->paused = true;
		stomp_conn_pause(b->sc, true);
	}
	bconn_unref(b);
}

static void bconn_bad_input_cb(stomp_conn_t *sc, const char *err, void *arg)
{
	bconn_t *b = arg;

	log_error("broker %s: malformed frame: %s; reconnecting", b->ep, err);
	bconn_close(b);
}

/* stomp_conn: TCP (and TLS) up: CONNECT. */
static void bconn_open_cb(stomp_conn_t *sc, void *arg)
{
	bconn_t *b = arg;
	const rs_config_t *cfg = b->cons->cfg;
	char hb[32];
	stomp_header_t h[6];
	size_t nh = 0;

	snprintf(hb, sizeof(hb), "%d,%d", cfg->broker_heartbeat_ms, cfg->broker_heartbeat_ms);
	h[nh++] = (stomp_header_t){ "accept-version", "1.2" };
	h[nh++] = (stomp_header_t){ "host", "/" };
	h[nh++] = (stomp_header_t){ "heart-beat", hb };
	if (cfg->broker_login[0]) {
		h[nh++] = (stomp_header_t){ "login", cfg->broker_login };
		h[nh++] = (stomp_header_t){ "passcode", cfg->broker_passcode };
	}
	bconn_send(b, STOMP_CMD_CONNECT, h, nh);
	log_debug("broker %s: TCP connected, CONNECT sent", b->ep);
}

static void bconn_gone(bconn_t *b);

/* stomp_conn: the session ended by itself. */
static void bconn_close_cb(stomp_conn_t *sc, enum stomp_conn_end why, const char *detail,
			   void *arg)
{
	bconn_t *b = arg;

	if (why == STOMP_CONN_DEADLINE)
		log_warn("broker %s: %s; reconnecting", b->ep,
			 b->bye_sent ? "no RECEIPT for DISCONNECT in time" : "no CONNECTED in time");
	else if (why == STOMP_CONN_HB_TIMEOUT || why == STOMP_CONN_WRITE_TIMEOUT)
		log_warn("broker %s: no heart-beat from the broker; reconnecting", b->ep);
	else if (why == STOMP_CONN_TLS_ERROR)
		log_warn("broker %s: TLS: %s", b->ep, detail);
	else if (why == STOMP_CONN_ERROR)
		log_warn("broker %s: %s", b->ep,
			 b->connected && *detail ? detail : "cannot connect");
	else if (why == STOMP_CONN_EOF && !b->bye_sent)
		log_warn("broker %s: connection closed by the broker", b->ep);
	b->sc = NULL; /* freed by stomp_conn when this returns */
	bconn_gone(b);
}

/* Close now. */
static void bconn_close(bconn_t *b)
{
	if (!b->sc)
		return;
	stomp_conn_close(b->sc);
	b->sc = NULL;
	bconn_gone(b);
}

/* A failed attempt: next endpoint; back off after a full round. */
static void attempt_failed(rs_consumer_t *c)
{
	if (++c->next_ep >= c->cfg->broker_nendpoints) {
		c->next_ep = 0;
		c->rounds++;
	}
	schedule_retry(c, c->next_ep == 0 ? backoff_ms(c) : 0);
}

/* The session is closed: forget it (its items may still hold b), plan the next. */
static void bconn_gone(bconn_t *b)
{
	rs_consumer_t *c = b->cons;
	bool was_connected = b->connected;

	if (c->cur == b)
		c->cur = NULL;
	metric_set(c->m->broker_up, 0);
	if (b->pending)
		log_info("broker %s: session closed with %zu message(s) not yet durable; the"
			 " broker redelivers them",
			 b->ep, b->pending);
	bconn_unref(b);
	if (c->quiesced || c->closing)
		return;
	if (was_connected) {
		schedule_retry(c, c->cfg->broker_reconnect_min_ms);
		return;
	}
	attempt_failed(c);
}

static void try_connect(evutil_socket_t fd, short what, void *arg)
{
	static const stomp_conn_cbs_t cbs = { .on_open = bconn_open_cb,
					      .on_frame = bconn_frame_cb,
					      .on_bad_input = bconn_bad_input_cb,
					      .on_close = bconn_close_cb };
	rs_consumer_t *c = arg;
	const char *ep = c->cfg->broker_endpoints[c->next_ep];
	stomp_conn_opts_t o = { .limits = &c->limits, .deadline_ms = CONNECT_DEADLINE_MS,
				.family = AF_INET };
	char host[256], err[256];
	int port;
	bconn_t *b;

	if (c->cur || c->quiesced || c->closing)
		return;
	if (hostport_split(ep, host, sizeof(host), &port) < 0) {
		log_error("broker %s: not host:port; skipped", ep);
		attempt_failed(c);
		return;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		log_error("broker: out of memory; retrying");
		schedule_retry(c, c->cfg->broker_reconnect_max_ms);
		return;
	}
	b->cons = c;
	b->refs = 1;
	snprintf(b->ep, sizeof(b->ep), "%s", ep);
	log_debug("broker %s: connecting", ep);
	b->sc = stomp_conn_connect(c->base, c->dns, c->tls, host, port, &o, &cbs, b, err,
				   sizeof(err));
	if (!b->sc) {
		log_warn("broker %s: %s", ep, err);
		free(b);
		attempt_failed(c);
		return;
	}
	c->cur = b;
}

rs_consumer_t *consumer_new(struct event_base *base, const rs_config_t *cfg,
			    rs_writer_t *writer, rs_metrics_t *m, char *err, size_t errlen)
{
	rs_consumer_t *c = calloc(1, sizeof(*c));
	if (!c || !(c->retry = evtimer_new(base, try_connect, c))) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->base = base;
	c->cfg = cfg;
	c->writer = writer;
	c->m = m;
	if (cfg->broker_tls.enabled) {
		char terr[512];
		if (!(c->tls = tls_ctx_new(&cfg->broker_tls, TLS_CLIENT, NULL, terr, sizeof(terr)))) {
			snprintf(err, errlen, "broker.tls: %s", terr);
			event_free(c->retry);
			free(c);
			return NULL;
		}
	}
	/* Without a resolver config libevent resolves with a blocking getaddrinfo. */
	c->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	stomp_limits_default(&c->limits);
	/* Broker frames carry a record plus the broker's own headers. */
	c->limits.max_frame_size = (size_t)cfg->stomp_max_frame_size + 64 * 1024;
	metric_set(m->broker_up, 0);
	schedule_retry(c, 0);
	return c;
}

void consumer_on_done(rs_consumer_t *c)
{
	bconn_t *b = c->cur;
	if (!b || !b->sc || !b->paused || c->quiesced || must_pause(b))
		return;
	b->paused = false;
	stomp_conn_pause(b->sc, false); /* buffered frames follow */
}

void consumer_quiesce(rs_consumer_t *c)
{
	c->quiesced = true;
	event_del(c->retry);
	if (c->cur && c->cur->sc)
		stomp_conn_pause(c->cur->sc, true);
}

void consumer_close(rs_consumer_t *c)
{
	bconn_t *b = c->cur;
	c->closing = true;
	event_del(c->retry);
	if (!b || b->bye_sent)
		return;
	if (!b->connected) {
		bconn_close(b);
		return;
	}
	/* Read again, only to see the RECEIPT (MESSAGEs are not read: quiesced). */
	stomp_header_t h = { "receipt", "rs-disconnect" };
	bconn_send(b, STOMP_CMD_DISCONNECT, &h, 1);
	b->bye_sent = true;
	c->quiesced = false;
	b->paused = false;
	stomp_conn_pause(b->sc, false);
	stomp_conn_deadline(b->sc, BYE_DEADLINE_MS);
}

bool consumer_closed(const rs_consumer_t *c)
{
	return !c || !c->cur;
}

void consumer_free(rs_consumer_t *c)
{
	if (!c)
		return;
	c->closing = true;
	if (c->cur)
		bconn_close(c->cur);
	event_free(c->retry);
	if (c->dns)
		evdns_base_free(c->dns, 0);
	tls_ctx_free(c->tls);
	free(c);
}
