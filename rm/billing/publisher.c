/*
 * publisher: STOMP 1.2 producer on the one STOMP connection layer (stomp_conn.h, which
 * owns the socket, TLS, framing and heart-beats). The behaviour (window,
 * release rules, fail-over, fail-back) is described in publisher.h.
 *
 * States: WAIT (back-off timer armed) -> TCP (connecting) -> STOMP (CONNECT sent,
 * waiting for CONNECTED) -> UP (sending) [-> DRAIN (fail-back: no new SENDs, waiting
 * for receipts) -> WAIT]. Any error or loss goes back to WAIT.
 */
#include "publisher.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "backoff.h"
#include "deadletter.h"
#include "log.h"
#include "stomp.h"
#include "stomp_conn.h"
#include "util.h"

#define DRAIN_MS 2000
#define WRITE_TIMEOUT_MS 30000

enum pub_state { PUB_IDLE, PUB_WAIT, PUB_TCP, PUB_STOMP, PUB_UP, PUB_DRAIN };

struct endpoint {
	char *host;
	unsigned short port;
	char *login, *passcode;
};

struct publisher {
	struct event_base *base;
	struct evdns_base *dns; /* created on first use of a host name */
	spool_t *spool;

	struct endpoint *eps;
	size_t neps;
	char *vhost;
	unsigned window, backoff_min, backoff_max, failback_ms, connect_timeout, hb;
	publisher_release_fn on_release;
	void *arg;
	struct ssl_ctx_st *tls; /* borrowed; NULL = plain TCP */

	enum pub_state st;
	size_t cur; /* endpoint in use or next to try */
	unsigned fails; /* consecutive failures since the last session */
	unsigned refusals; /* ERRORs (retryable or about the connection) since a RECEIPT */
	bool reject_close; /* the server closes after a per-record ERROR */
	stomp_conn_t *sc;    /* the session (stomp_conn.h); NULL in WAIT */
	stomp_conn_t *probe; /* fail-back probe of the primary (TCP connect only) */

	struct event *retry_ev, *failback_ev, *drain_ev;

	uint64_t cursor;   /* highest seq sent on this connection */
	uint64_t *inflight; /* ascending seqs awaiting RECEIPT */
	size_t ninflight, capinflight;

	publisher_stats_t stats;
};

static void conn_lost(publisher_t *p, const char *why);
static void pump(publisher_t *p);
static void on_probe_open(stomp_conn_t *sc, void *arg);
static void on_probe_close(stomp_conn_t *sc, enum stomp_conn_end why, const char *detail,
			   void *arg);

static void ms_tv(unsigned ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

static const char *ep_name(const publisher_t *p, size_t i, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s:%u", p->eps[i].host, p->eps[i].port);
	return buf;
}

/* ---- in-flight set (ascending, at most window entries) ---- */

static int inflight_add(publisher_t *p, uint64_t seq)
{
	if (p->ninflight == p->capinflight) {
		size_t n = p->capinflight ? p->capinflight * 2 : 64;
		uint64_t *v = realloc(p->inflight, n * sizeof(*v));
		if (!v)
			return -1;
		p->inflight = v;
		p->capinflight = n;
	}
	p->inflight[p->ninflight++] = seq;
	return 0;
}

static bool inflight_remove(publisher_t *p, uint64_t seq)
{
	size_t lo = 0, hi = p->ninflight;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (p->inflight[mid] < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == p->ninflight || p->inflight[lo] != seq)
		return false;
	memmove(&p->inflight[lo], &p->inflight[lo + 1],
		(p->ninflight - lo - 1) * sizeof(uint64_t));
	p->ninflight--;
	return true;
}

/* ---- frames out ---- */

static int send_frame(publisher_t *p, enum stomp_command cmd, const stomp_header_t *h,
		      size_t nh, const char *body, size_t body_len)
{
	return stomp_conn_send(p->sc, cmd, h, nh, body, body_len);
}

static void release(publisher_t *p, uint64_t seq, enum publisher_outcome how)
{
	spool_release(p->spool, seq);
	if (p->on_release)
		p->on_release(seq, how, p->arg);
}

/* Send unreleased entries after the cursor while the window has room. */
static void pump(publisher_t *p)
{
	char seqbuf[24];

	while (p->st == PUB_UP && p->ninflight < p->window) {
		uint64_t seq = spool_next(p->spool, p->cursor);
		const char *dest, *body;
		size_t len;

		if (!seq)
			return;
		p->cursor = seq;
		if (spool_read(p->spool, seq, &dest, &body, &len) < 0) {
			log_error("publisher: spool entry %" PRIu64 " cannot be read back; "
				  "dropped (counted as unreadable)", seq);
			p->stats.unreadable++;
			release(p, seq, PUBLISHER_UNREADABLE);
			continue;
		}
		snprintf(seqbuf, sizeof(seqbuf), "%" PRIu64, seq);
		stomp_header_t h[] = {
			{ "destination", dest },
			{ "receipt", seqbuf },
			{ "persistent", "true" },
			{ "content-type", "application/json" },
		};
		if (inflight_add(p, seq) < 0 ||
		    send_frame(p, STOMP_CMD_SEND, h, 4, body, len) < 0) {
			conn_lost(p, "out of memory queueing a SEND");
			return;
		}
		p->stats.sent++;
	}
}

/* ---- connection life ---- */

static void teardown(publisher_t *p)
{
	stomp_conn_close(p->sc);
	p->sc = NULL;
	stomp_conn_close(p->probe);
	p->probe = NULL;
	if (p->failback_ev)
		event_del(p->failback_ev);
	if (p->drain_ev)
		event_del(p->drain_ev);
	p->ninflight = 0;
	p->cursor = 0;
	p->stats.connected = false;
	p->stats.endpoint = -1;
}

static void schedule(publisher_t *p, unsigned ms)
{
	struct timeval tv;
	ms_tv(ms, &tv);
	p->st = PUB_WAIT;
	event_add(p->retry_ev, &tv);
}

static unsigned backoff(publisher_t *p)
{
	unsigned n = p->fails > p->refusals ? p->fails : p->refusals;
	return backoff_delay_ms(p->backoff_min, p->backoff_max, n, false);
}

/* The connection failed or was lost: move on to the next endpoint after a back-off,
 * or (after a per-record ERROR, or for fail-back) reconnect at once. */
static void conn_lost(publisher_t *p, const char *why)
{
	char name[300];
	enum pub_state was = p->st;

	ep_name(p, p->cur, name, sizeof(name));
	teardown(p);
	if (was == PUB_DRAIN) {
		log_info("publisher: failing back from %s to the primary", name);
		p->stats.failbacks++;
		p->cur = 0;
		p->fails = 0;
		schedule(p, 0);
		return;
	}
	if (p->reject_close) {
		p->reject_close = false;
		schedule(p, 0);
		return;
	}
	p->stats.connect_failures++;
	p->fails++;
	p->cur = (p->cur + 1) % p->neps;
	unsigned ms = backoff(p);
	if (was == PUB_UP) {
		spool_stats_t st;
		spool_get_stats(p->spool, &st);
		log_warn("publisher: lost %s (%s); %" PRIu64 " record(s) unreleased; next: "
			 "%s:%u in %u ms", name, why, st.depth, p->eps[p->cur].host,
			 p->eps[p->cur].port, ms);
	}
	else
		log_warn("publisher: cannot connect to %s (%s); next: %s:%u in %u ms", name,
			 why, p->eps[p->cur].host, p->eps[p->cur].port, ms);
	schedule(p, ms);
}

static void switch_to_primary(publisher_t *p)
{
	p->st = PUB_DRAIN; /* conn_lost reads it */
	conn_lost(p, "fail-back");
}

static int handle_connected(publisher_t *p, const stomp_frame_t *f)
{
	char name[300];
	unsigned send_ms = 0, recv_ms = 0;
	const char *ver = stomp_frame_header(f, "version");
	const char *hb = stomp_frame_header(f, "heart-beat");

	if (ver && strcmp(ver, "1.2") != 0)
		log_warn("publisher: server speaks STOMP %s, not 1.2; continuing", ver);
	if (stomp_heartbeat_negotiate(hb, p->hb, p->hb, &send_ms, &recv_ms) < 0) {
		log_warn("publisher: malformed heart-beat header \"%s\"; heart-beats off", hb);
		send_ms = recv_ms = 0;
	}
	stomp_conn_deadline(p->sc, 0);
	stomp_conn_heartbeat(p->sc, send_ms, recv_ms);
	p->st = PUB_UP;
	p->fails = 0;
	p->stats.connects++;
	if (p->stats.connects > 1)
		p->stats.reconnects++;
	p->stats.connected = true;
	p->stats.endpoint = (int)p->cur;
	if (p->cur != 0 && p->neps > 1) {
		struct timeval tv;
		ms_tv(p->failback_ms, &tv);
		event_add(p->failback_ev, &tv);
	}
	log_info("publisher: connected to %s (endpoint %zu, heart-beat send %u ms, "
		 "receive %u ms)", ep_name(p, p->cur, name, sizeof(name)), p->cur, send_ms,
		 recv_ms);
	pump(p);
	return 0;
}

static bool parse_seq(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s)
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v == 0)
		return false;
	*out = v;
	return true;
}

static bool inflight_has(const publisher_t *p, uint64_t seq)
{
	for (size_t i = 0; i < p->ninflight; i++)
		if (p->inflight[i] == seq)
			return true;
	return false;
}

/* Only an explicit retryable:false proves a refusal permanent (common/stomp.h). */
static bool error_is_permanent(const stomp_frame_t *f)
{
	const char *v = stomp_frame_header(f, STOMP_HDR_RETRYABLE);
	return v && strcmp(v, "false") == 0;
}

/* Write in-flight entry seq to the dead-letter file. 0, or -1 (logged): keep it. */
static int dead_letter(publisher_t *p, uint64_t seq, const char *why)
{
	const char *dest, *body;
	size_t len;
	char err[1200];
	char *line;

	if (spool_read(p->spool, seq, &dest, &body, &len) < 0)
		return -1;
	line = deadletter_line(util_now_ms(), seq, dest, body, len, why);
	if (!line) {
		log_error("publisher: out of memory writing record %" PRIu64 " to the dead-letter "
			  "file; it stays in the spool", seq);
		return -1;
	}
	int rc = deadletter_append(spool_dir(p->spool), line, err, sizeof(err));
	free(line);
	if (rc < 0)
		log_error("publisher: %s; record %" PRIu64 " stays in the spool", err, seq);
	return rc;
}

/* An ERROR frame (publisher.h "Refusals"). Returns 0 to keep reading (the server
 * closes), or 1 when the connection was dropped here. */
static int handle_error(publisher_t *p, const stomp_frame_t *f)
{
	const char *msg = stomp_frame_header(f, "message");
	char why[400], lost[480];
	uint64_t seq;

	snprintf(why, sizeof(why), "%s%s%.*s", msg ? msg : "(no message)",
		 f->body_len ? ": " : "", (int)(f->body_len > 300 ? 300 : f->body_len),
		 f->body ? f->body : "");
	if (!parse_seq(stomp_frame_header(f, "receipt-id"), &seq) || !inflight_has(p, seq)) {
		log_error("publisher: server sent ERROR: %s; every unreceipted record stays in "
			  "the spool", why);
		snprintf(lost, sizeof(lost), "server ERROR: %s", why);
	} else if (!error_is_permanent(f) || dead_letter(p, seq, why) < 0) {
		p->stats.deferred++;
		log_warn("publisher: server refused record %" PRIu64 " for now (%s); it stays in "
			 "the spool and is sent again", seq, why);
		snprintf(lost, sizeof(lost), "record %" PRIu64 " refused for now", seq);
	} else {
		inflight_remove(p, seq);
		log_warn("publisher: server refused record %" PRIu64 " for good: %s; moved to "
			 "%s/%s", seq, why, spool_dir(p->spool), DEADLETTER_FILE);
		p->stats.rejected++;
		release(p, seq, PUBLISHER_DEAD_LETTERED);
		p->reject_close = true;
		pump(p);
		return 0;
	}
	p->refusals++;
	conn_lost(p, lost);
	return 1;
}

/* One frame from the server. Returns -1 to drop the connection. */
static int handle_frame(publisher_t *p, const stomp_frame_t *f)
{
	uint64_t seq;

	switch (f->command) {
	case STOMP_CMD_CONNECTED:
		if (p->st != PUB_STOMP)
			return 0;
		return handle_connected(p, f);
	case STOMP_CMD_RECEIPT:
		if (parse_seq(stomp_frame_header(f, "receipt-id"), &seq) &&
		    inflight_remove(p, seq)) {
			p->stats.receipted++;
			p->refusals = 0;
			release(p, seq, PUBLISHER_RECEIPTED);
		}
		if (p->st == PUB_DRAIN && p->ninflight == 0) {
			switch_to_primary(p);
			return 1;
		}
		pump(p);
		return 0;
	case STOMP_CMD_ERROR:
		return handle_error(p, f);
	default:
		return 0; /* MESSAGE and the like: not for a producer */
	}
}

/* stomp_conn: one frame from the server. */
static void on_frame(stomp_conn_t *sc, const stomp_frame_t *f, void *arg)
{
	publisher_t *p = arg;

	if (handle_frame(p, f) < 0 && p->sc == sc)
		conn_lost(p, "server ERROR");
}

static void on_bad_input(stomp_conn_t *sc, const char *err, void *arg)
{
	conn_lost(arg, err);
}

/* stomp_conn: TCP (and TLS) is up: CONNECT. */
static void on_open(stomp_conn_t *sc, void *arg)
{
	publisher_t *p = arg;
	const struct endpoint *e = &p->eps[p->cur];
	char hb[32], name[300];

	snprintf(hb, sizeof(hb), "%u,%u", p->hb, p->hb);
	stomp_header_t h[6] = {
		{ "accept-version", "1.2" },
		{ "host", p->vhost ? p->vhost : e->host },
		{ "heart-beat", hb },
	};
	size_t nh = 3;
	if (e->login) {
		h[nh++] = (stomp_header_t){ "login", e->login };
		h[nh++] = (stomp_header_t){ "passcode", e->passcode ? e->passcode : "" };
	}
	if (send_frame(p, STOMP_CMD_CONNECT, h, nh, NULL, 0) < 0) {
		conn_lost(p, "out of memory");
		return;
	}
	p->st = PUB_STOMP;
	log_debug("publisher: TCP up to %s, CONNECT sent",
		  ep_name(p, p->cur, name, sizeof(name)));
}

/* stomp_conn: the connection ended by itself. */
static void on_close(stomp_conn_t *sc, enum stomp_conn_end why, const char *detail,
		     void *arg)
{
	publisher_t *p = arg;
	char tm[320];

	p->sc = NULL; /* freed by stomp_conn when this returns */
	switch (why) {
	case STOMP_CONN_HB_TIMEOUT:
		conn_lost(p, p->st == PUB_UP || p->st == PUB_DRAIN ? "no data or heart-beat "
			  "from the server in time" : "timed out");
		break;
	case STOMP_CONN_EOF:
	case STOMP_CONN_DONE:
		conn_lost(p, "closed by the server");
		break;
	case STOMP_CONN_TLS_ERROR:
		snprintf(tm, sizeof(tm), "TLS: %s", detail);
		conn_lost(p, tm);
		break;
	case STOMP_CONN_ERROR:
		conn_lost(p, *detail ? detail : "connect failed");
		break;
	default:
		conn_lost(p, "timed out");
	}
}

/* Does connecting to host need the resolver (not a numeric address)? */
static bool host_is_name(const char *host)
{
	unsigned char a[16];
	return evutil_inet_pton(AF_INET, host, a) != 1 && evutil_inet_pton(AF_INET6, host, a) != 1;
}

/* A connection to endpoint i: the session (probe false) or a fail-back probe. */
static stomp_conn_t *dial(publisher_t *p, size_t i, bool probe, char *err, size_t errlen)
{
	static const stomp_conn_cbs_t cbs = { .on_open = on_open, .on_frame = on_frame,
					      .on_bad_input = on_bad_input,
					      .on_close = on_close };
	static const stomp_conn_cbs_t probe_cbs = { .on_open = on_probe_open,
						    .on_close = on_probe_close };
	const struct endpoint *e = &p->eps[i];
	stomp_conn_opts_t o = { .deadline_ms = p->connect_timeout,
				.write_timeout_ms = WRITE_TIMEOUT_MS };

	if (!p->dns && host_is_name(e->host))
		p->dns = evdns_base_new(p->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (!p->dns && host_is_name(e->host)) {
		snprintf(err, errlen, "cannot start the DNS resolver for %s", e->host);
		return NULL;
	}
	return stomp_conn_connect(p->base, p->dns, probe ? NULL : p->tls, e->host, e->port,
				  &o, probe ? &probe_cbs : &cbs, p, err, errlen);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	publisher_t *p = arg;
	char err[300];
	(void)fd;
	(void)what;

	p->sc = dial(p, p->cur, false, err, sizeof(err));
	if (!p->sc) {
		conn_lost(p, err);
		return;
	}
	p->st = PUB_TCP;
}

/* ---- fail-back ---- */

static void on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	publisher_t *p = arg;
	(void)fd;
	(void)what;
	if (p->st == PUB_DRAIN)
		switch_to_primary(p);
}

/* The primary accepted a TCP connection: drain, then fail back. */
static void on_probe_open(stomp_conn_t *sc, void *arg)
{
	publisher_t *p = arg;
	struct timeval tv;

	stomp_conn_close(p->probe);
	p->probe = NULL;
	if (p->st != PUB_UP)
		return;
	log_info("publisher: primary %s:%u is reachable again; draining %zu in-flight "
		 "record(s) before failing back", p->eps[0].host, p->eps[0].port,
		 p->ninflight);
	event_del(p->failback_ev);
	p->st = PUB_DRAIN;
	if (p->ninflight == 0) {
		switch_to_primary(p);
		return;
	}
	ms_tv(DRAIN_MS, &tv);
	event_add(p->drain_ev, &tv);
}

/* The primary is still away: the next probe comes with the fail-back timer. */
static void on_probe_close(stomp_conn_t *sc, enum stomp_conn_end why, const char *detail,
			   void *arg)
{
	publisher_t *p = arg;
	p->probe = NULL;
}

static void on_failback(evutil_socket_t fd, short what, void *arg)
{
	publisher_t *p = arg;
	struct timeval tv;
	char err[300];
	(void)fd;
	(void)what;

	if (p->st != PUB_UP || p->cur == 0 || p->probe)
		goto rearm;
	p->probe = dial(p, 0, true, err, sizeof(err));
rearm:
	if (p->st == PUB_UP && p->cur != 0) {
		ms_tv(p->failback_ms, &tv);
		event_add(p->failback_ev, &tv);
	}
}

/* ---- public ---- */

publisher_t *publisher_new(struct event_base *base, spool_t *spool,
			   const publisher_opts_t *o, char *err, size_t errlen)
{
	publisher_t *p;

	if (!base || !spool || !o || !o->endpoints || o->nendpoints == 0) {
		snprintf(err, errlen, "publisher: no endpoints configured");
		return NULL;
	}
	for (size_t i = 0; i < o->nendpoints; i++) {
		if (!o->endpoints[i].host || !*o->endpoints[i].host) {
			snprintf(err, errlen, "publisher: endpoint %zu: host is empty", i + 1);
			return NULL;
		}
		if (o->endpoints[i].port == 0) {
			snprintf(err, errlen, "publisher: endpoint %zu (%s): port 0", i + 1,
				 o->endpoints[i].host);
			return NULL;
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		goto oom;
	p->base = base;
	p->spool = spool;
	p->neps = o->nendpoints;
	p->eps = calloc(p->neps, sizeof(*p->eps));
	if (!p->eps)
		goto oom;
	for (size_t i = 0; i < p->neps; i++) {
		const publisher_endpoint_t *e = &o->endpoints[i];
		p->eps[i].port = e->port;
		p->eps[i].host = strdup(e->host);
		p->eps[i].login = e->login ? strdup(e->login) : NULL;
		p->eps[i].passcode = e->passcode ? strdup(e->passcode) : NULL;
		if (!p->eps[i].host || (e->login && !p->eps[i].login) ||
		    (e->passcode && !p->eps[i].passcode))
			goto oom;
	}
	if (o->vhost && !(p->vhost = strdup(o->vhost)))
		goto oom;
	p->window = o->window ? o->window : 256;
	p->backoff_min = o->backoff_min_ms ? o->backoff_min_ms : 100;
	p->backoff_max = o->backoff_max_ms ? o->backoff_max_ms : 5000;
	if (p->backoff_max < p->backoff_min)
		p->backoff_max = p->backoff_min;
	p->failback_ms = o->failback_ms ? o->failback_ms : 30000;
	p->connect_timeout = o->connect_timeout_ms ? o->connect_timeout_ms : 5000;
	p->hb = o->no_heartbeat ? 0 : (o->heartbeat_ms ? o->heartbeat_ms : 10000);
	p->on_release = o->on_release;
	p->arg = o->arg;
	p->tls = o->tls;
	p->stats.endpoint = -1;
	p->retry_ev = evtimer_new(base, on_retry, p);
	p->failback_ev = evtimer_new(base, on_failback, p);
	p->drain_ev = evtimer_new(base, on_drain_timeout, p);
	if (!p->retry_ev || !p->failback_ev || !p->drain_ev)
		goto oom;
	return p;
oom:
	publisher_free(p);
	snprintf(err, errlen, "publisher: out of memory");
	return NULL;
}

void publisher_start(publisher_t *p)
{
	if (p->st != PUB_IDLE)
		return;
	p->cur = 0;
	schedule(p, 0);
}

void publisher_submit(publisher_t *p, uint64_t seq)
{
	(void)seq; /* the spool is the queue: send whatever is next in order */
	pump(p);
}

void publisher_get_stats(const publisher_t *p, publisher_stats_t *out)
{
	*out = p->stats;
	out->inflight = p->ninflight;
}

void publisher_free(publisher_t *p)
{
	if (!p)
		return;
	if (p->retry_ev)
		teardown(p);
	if (p->retry_ev)
		event_free(p->retry_ev);
	if (p->failback_ev)
		event_free(p->failback_ev);
	if (p->drain_ev)
		event_free(p->drain_ev);
	if (p->dns)
		evdns_base_free(p->dns, 0);
	for (size_t i = 0; p->eps && i < p->neps; i++) {
		free(p->eps[i].host);
		free(p->eps[i].login);
		free(p->eps[i].passcode);
	}
	free(p->eps);
	free(p->vhost);
	free(p->inflight);
	free(p);
}
