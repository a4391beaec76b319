/* cluster: peering on 9801 (cluster.h). Links, frames in and out, the tick. */
#include "cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "backoff.h"
#include "cluster_board.h"
#include "cluster_frame.h"
#include "cluster_int.h"
#include "hostport.h"
#include "log.h"
#include "stomp_conn.h"
#include "tls.h"

int64_t cluster_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void conn_opts(stomp_conn_opts_t *o, stomp_limits_t *lim)
{
	stomp_limits_default(lim);
	lim->max_frame_size = CLUSTER_FRAME_MAX;
	memset(o, 0, sizeof *o);
	o->limits = lim;
	o->deadline_ms = 5000; /* connect + CONNECT/CONNECTED */
	o->write_timeout_ms = 5000;
	o->flush_timeout_ms = 1000;
}

/* ---- sending ----------------------------------------------------------------------- */

/* Encode and queue one frame on sc. 0, or -1 (not sent). */
static int frame_send(struct cluster *cl, stomp_conn_t *sc, enum stomp_command cmd,
		      enum cluster_type type, const char *to, uint64_t seq, const char *body,
		      size_t body_len)
{
	struct cluster_msg m = { 0 };
	size_t cap = body_len + 1024, n;
	char stackbuf[1024];
	char *buf = cap <= sizeof stackbuf ? stackbuf : malloc(cap);
	int rc = -1;

	if (!buf)
		return -1;
	m.cmd = cmd;
	m.type = type;
	snprintf(m.from, sizeof m.from, "%s", cl->me);
	snprintf(m.to, sizeof m.to, "%s", to);
	m.inc = cl->inc;
	m.seq = seq;
	m.ts = wall_ms();
	m.body = body;
	m.body_len = body_len;
	n = cluster_frame_encode(buf, cap, &m, cl->key, cl->keylen);
	if (n > 0 && n < cap && stomp_conn_send_raw(sc, buf, n) == 0) {
		metric_inc(cl->mm.cluster_frames_sent);
		metric_add(cl->mm.cluster_bytes_sent, n);
		rc = 0;
	}
	if (buf != stackbuf)
		free(buf);
	return rc;
}

/* One frame on an out link, with its next seq. 0, or -1: the link is then closed and
 * redialed (a full state follows). */
int cluster_out_send(struct out_link *l, enum stomp_command cmd, enum cluster_type type,
		    const char *body, size_t body_len)
{
	if (!l->sc)
		return -1;
	if (frame_send(l->cl, l->sc, cmd, type, l->open ? l->node : CLUSTER_TO_ANY, ++l->seq,
		       body, body_len) < 0) {
		cluster_out_reset(l);
		return -1;
	}
	l->last_sent_ms = cluster_mono_ms();
	if (stomp_conn_output_pending(l->sc) > CLUSTER_MAX_PENDING) {
		log_warn("cluster: peer %s does not read (%zu bytes queued): reconnecting",
			 l->addr, stomp_conn_output_pending(l->sc));
		cluster_out_reset(l);
		return -1;
	}
	return 0;
}

/* The board's whole local contribution as usage lines (what was last published).
 * Returns a malloc'd body (its length in *len), or NULL. */
static char *state_body(struct cluster *cl, size_t *len)
{
	size_t cap = 4096;
	char *buf = malloc(cap);

	*len = 0;
	for (int i = 0; buf && i < CLUSTER_BOARD_CAP; i++) {
		if (cl->published[i] <= 0)
			continue;
		const struct cluster_board_slot *s = &cl->board->slot[i];
		while (cluster_usage_put(buf, cap, len, s->kind, cl->published[i], s->name) < 0) {
			char *nb = cap < CLUSTER_FRAME_MAX ? realloc(buf, cap * 2) : NULL;
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	return buf;
}

/* Send body (len bytes of session lines) cut at line ends into frames of at most
 * CLUSTER_SESS_CHUNK: the first of type `first`, the others "sess". 0 / -1. */
static int send_sess_chunks(struct out_link *l, enum cluster_type first, const char *body,
			    size_t len)
{
	size_t i = 0;
	enum cluster_type t = first;

	do {
		size_t n = len - i;
		if (n > CLUSTER_SESS_CHUNK) {
			n = CLUSTER_SESS_CHUNK;
			while (n > 0 && body[i + n - 1] != '\n')
				n--;
			if (n == 0)
				n = len - i; /* one line longer than a chunk: it still fits a frame */
		}
		if (cluster_out_send(l, STOMP_CMD_SEND, t, body + i, n) < 0)
			return -1;
		i += n;
		t = CLUSTER_T_SESS;
	} while (i < len);
	return 0;
}

static void send_state(struct out_link *l)
{
	size_t len, slen = 0;
	char *body = state_body(l->cl, &len);
	char *sess = body ? cluster_sess_set_body(l->cl->local_sess, &slen) : NULL;

	if (!body || !sess) {
		log_error("cluster: out of memory building the state for %s", l->addr);
		free(body);
		return;
	}
	if (cluster_out_send(l, STOMP_CMD_SEND, CLUSTER_T_STATE, body, len) == 0 &&
	    send_sess_chunks(l, CLUSTER_T_SSTATE, sess, slen) == 0) {
		l->need_full = false;
		cluster_health_send(l, true);
		if (l->cl->board->strict_nodes > 0)
			cluster_units_send_free(l);
	}
	free(body);
	free(sess);
}

/* The session lines gathered since the last tick, to every synced link (a link
 * waiting for its full state gets them inside it). */
static void flush_sess(struct cluster *cl)
{
	if (!cl->sess_pend_len)
		return;
	for (size_t k = 0; k < cl->n_out; k++) {
		struct out_link *l = &cl->out[k];
		if (l->open && !l->need_full)
			send_sess_chunks(l, CLUSTER_T_SESS, cl->sess_pend, cl->sess_pend_len);
	}
	cl->sess_pend_len = 0;
}

void cluster_local_sess(struct cluster *cl, char *line)
{
	size_t n = strlen(line);

	if (line[0] == 'h') {
		cluster_health_local(cl, line);
		free(line);
		return;
	}
	if (line[0] == 'a' || line[0] == 'b') {
		cluster_seen_local(cl, line);
		return;
	}
	if (cluster_sess_set_apply_own(cl->local_sess, line, n) < 0) {
		log_warn("cluster: a session line from the SIP thread cannot be kept: %.120s",
			 line);
		free(line);
		return;
	}
	if (cl->sess_pend_len + n + 1 > cl->sess_pend_cap) {
		size_t cap = cl->sess_pend_cap ? cl->sess_pend_cap : 16384;
		while (cl->sess_pend_len + n + 1 > cap)
			cap *= 2;
		char *np = realloc(cl->sess_pend, cap);
		if (!np) {
			/* the peers get the whole set instead */
			for (size_t k = 0; k < cl->n_out; k++)
				cl->out[k].need_full = true;
			free(line);
			return;
		}
		cl->sess_pend = np;
		cl->sess_pend_cap = cap;
	}
	memcpy(cl->sess_pend + cl->sess_pend_len, line, n + 1);
	cl->sess_pend_len += n;
	free(line);
	if (cl->sess_pend_len >= CLUSTER_SESS_CHUNK)
		flush_sess(cl);
}

void cluster_sess_lost(struct cluster *cl)
{
	metric_inc(cl->mm.cluster_sessions_lost);
}

void cluster_set_adopt(struct cluster *cl, int (*adopt)(void *arg, struct cluster_adopt *a),
		       void *arg)
{
	cl->adopt = adopt;
	cl->adopt_arg = arg;
}

/* Changed local counts since the last publish, as one delta to every synced link. */
static void publish(struct cluster *cl)
{
	unsigned gen = atomic_load_explicit(&cl->board->generation, memory_order_acquire);
	size_t cap = 4096, len = 0;
	char *buf;
	bool overflow = false;

	if (gen == cl->published_gen)
		return;
	cl->published_gen = gen;
	buf = malloc(cap);
	for (int i = 0; i < CLUSTER_BOARD_CAP; i++) {
		const struct cluster_board_slot *s = &cl->board->slot[i];
		if (atomic_load_explicit(&s->state, memory_order_acquire) != 2)
			continue;
		int v = atomic_load_explicit(&s->local, memory_order_relaxed);
		if (v < 0)
			v = 0;
		if (v == cl->published[i])
			continue;
		cl->published[i] = v;
		while (buf && !overflow &&
		       cluster_usage_put(buf, cap, &len, s->kind, v, s->name) < 0) {
			char *nb = cap < CLUSTER_FRAME_MAX / 2 ? realloc(buf, cap * 2) : NULL;
			if (!nb)
				overflow = true; /* send full states instead */
			else
				buf = nb, cap *= 2;
		}
	}
	for (size_t k = 0; k < cl->n_out; k++) {
		struct out_link *l = &cl->out[k];
		if (!l->open)
			continue;
		if (overflow || !buf)
			l->need_full = true;
		else if (!l->need_full && len > 0)
			cluster_out_send(l, STOMP_CMD_SEND, CLUSTER_T_DELTA, buf, len);
	}
	free(buf);
}

void cluster_flush(struct cluster *cl)
{
	publish(cl);
	flush_sess(cl);
	if (cl->board->strict_nodes > 0)
		cluster_units_hand_over(cl);
}

static void shut_check(evutil_socket_t fd, short what, void *arg)
{
	struct cluster *cl = arg;
	size_t pending = 0;

	for (size_t k = 0; k < cl->n_out; k++)
		if (cl->out[k].sc)
			pending += stomp_conn_output_pending(cl->out[k].sc);
	if (pending && cluster_mono_ms() < cl->shut_deadline_ms) {
		struct timeval tv = { 0, 10000 };
		evtimer_add(cl->shut_timer, &tv);
		return;
	}
	if (pending)
		log_warn("cluster: leaving with %zu bytes not written to the peers", pending);
	if (cl->shut_done) {
		void (*done)(void *) = cl->shut_done;
		cl->shut_done = NULL;
		done(cl->shut_arg);
	}
}

void cluster_shutdown(struct cluster *cl, void (*done)(void *arg), void *arg)
{
	struct timeval now = { 0, 0 };

	cluster_flush(cl);
	cl->shut_done = done;
	cl->shut_arg = arg;
	cl->shut_deadline_ms = cluster_mono_ms() + CLUSTER_SHUTDOWN_MS;
	if (!cl->shut_timer)
		cl->shut_timer = evtimer_new(cl->base, shut_check, cl);
	if (!cl->shut_timer || evtimer_add(cl->shut_timer, &now) < 0) {
		cl->shut_done = NULL;
		done(arg); /* out of memory: no wait */
	}
}

/* A frame of type `type` to node, on our out link to it. 0, or -1 (no open link). */
int cluster_send_to(struct cluster *cl, const char *node, enum cluster_type type,
		    const char *body, size_t len)
{
	for (size_t k = 0; k < cl->n_out; k++) {
		struct out_link *l = &cl->out[k];
		if (l->open && strcmp(l->node, node) == 0)
			return cluster_out_send(l, STOMP_CMD_SEND, type, body, len);
	}
	return -1;
}

/* Ask node for its state again, on our out link to it (at most once a heartbeat). */
void cluster_ask_resync(struct cluster *cl, struct peer *p)
{
	int64_t now = cluster_mono_ms();

	if (p->resync_asked_ms && now - p->resync_asked_ms < cl->hb_ms)
		return;
	for (size_t k = 0; k < cl->n_out; k++) {
		struct out_link *l = &cl->out[k];
		if (l->open && strcmp(l->node, p->node) == 0) {
			p->resync_asked_ms = now;
			metric_inc(cl->mm.cluster_resyncs);
			cluster_out_send(l, STOMP_CMD_SEND, CLUSTER_T_RESYNC, NULL, 0);
			return;
		}
	}
}

/* A peer asked for our state (resync): its link sends it at the next tick. */
void cluster_resync_asked(struct cluster *cl, const char *node)
{
	for (size_t k = 0; k < cl->n_out; k++)
		if (cl->out[k].open && strcmp(cl->out[k].node, node) == 0)
			cl->out[k].need_full = true;
}

/* ---- out links ----------------------------------------------------------------------- */

static void out_dial(struct out_link *l);

static void out_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	out_dial(arg);
}

void cluster_peer_heard(struct cluster *cl, const char *node)
{
	for (size_t k = 0; k < cl->n_out; k++) {
		struct out_link *l = &cl->out[k];
		if (!l->sc && !l->self && !cl->stopping && strcmp(l->node, node) == 0) {
			/* it is back (it dialed us): answer now, not after our backoff */
			evtimer_del(l->retry);
			l->fails = 0;
			out_dial(l);
		}
	}
}

/* Drop the connection and dial again after the backoff delay. */
void cluster_out_reset(struct out_link *l)
{
	struct cluster *cl = l->cl;

	if (l->sc) {
		stomp_conn_close(l->sc);
		l->sc = NULL;
	}
	l->open = false;
	l->need_full = true;
	if (l->self || cl->stopping)
		return;
	unsigned ms = backoff_delay_ms(cl->hb_ms, 2000, ++l->fails, true);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(l->retry, &tv);
}

static void out_on_open(stomp_conn_t *sc, void *arg)
{
	struct out_link *l = arg;

	cluster_out_send(l, STOMP_CMD_CONNECT, CLUSTER_T_HELLO, NULL, 0);
}

static void out_on_frame(stomp_conn_t *sc, const stomp_frame_t *f, void *arg)
{
	struct out_link *l = arg;
	struct cluster *cl = l->cl;
	struct cluster_msg m;
	enum cluster_drop d;

	if (l->open)
		return; /* nothing is expected after CONNECTED */
	d = cluster_frame_decode(f, cl->key, cl->keylen, cl->me, &m);
	if (d == CLUSTER_DROP_WRONG_NODE && m.cmd == STOMP_CMD_CONNECTED &&
	    strcmp(m.from, cl->me) == 0) {
		log_info("cluster: peer %s is this node: not dialed again", l->addr);
		l->self = true;
		cluster_out_reset(l);
		return;
	}
	if (d != CLUSTER_DROP_NONE || m.cmd != STOMP_CMD_CONNECTED) {
		metric_inc(cl->mm.cluster_dropped[d ? d : CLUSTER_DROP_MALFORMED]);
		log_warn("cluster: %s answered our CONNECT with a frame we drop (%s)", l->addr,
			 cluster_drop_name(d ? d : CLUSTER_DROP_MALFORMED));
		cluster_out_reset(l);
		return;
	}
	for (size_t k = 0; k < cl->n_out; k++) {
		struct out_link *o = &cl->out[k];
		if (o != l && o->open && strcmp(o->node, m.from) == 0) {
			/* two entries of peers reach one node (an address and a name): one
			 * stream only, or its sequence numbers would interleave */
			log_warn("cluster: peer %s is node %s, already reached through %s: "
				 "not used", l->addr, m.from, o->addr);
			snprintf(l->node, sizeof l->node, "%s", m.from);
			l->fails = 16; /* retried at the longest delay, in case o goes */
			cluster_out_reset(l);
			return;
		}
	}
	stomp_conn_deadline(sc, 0);
	if (strcmp(l->node, m.from) != 0)
		log_info("cluster: peer %s is node %s", l->addr, m.from);
	snprintf(l->node, sizeof l->node, "%s", m.from);
	l->open = true;
	l->fails = 0;
	if (cl->board->strict_nodes > 0)
		cluster_units_connected(cl, m.from, m.inc);
	send_state(l);
}

static void out_on_close(stomp_conn_t *sc, enum stomp_conn_end why, const char *detail,
			 void *arg)
{
	struct out_link *l = arg;
	char reason[sizeof l->last_err];

	snprintf(reason, sizeof reason, "%s%s%s", why == STOMP_CONN_EOF ? "peer closed" : "error",
		 detail && *detail ? ": " : "", detail ? detail : "");
	if (l->open || strcmp(reason, l->last_err) != 0) /* not once per retry */
		log_info("cluster: link to %s (%s) closed: %s", l->addr, l->node[0] ? l->node : "?",
			 reason);
	snprintf(l->last_err, sizeof l->last_err, "%s", reason);
	l->sc = NULL; /* freed by the layer */
	cluster_out_reset(l);
}

static void out_dial(struct out_link *l)
{
	struct cluster *cl = l->cl;
	stomp_limits_t lim;
	stomp_conn_opts_t o;
	char err[256];
	static const stomp_conn_cbs_t cbs = { .on_open = out_on_open,
					      .on_frame = out_on_frame,
					      .on_close = out_on_close };

	conn_opts(&o, &lim);
	if (!cl->dns) /* names are resolved at every dial: a Service's pods come and go */
		cl->dns = evdns_base_new(cl->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	l->open = false;
	l->sc = stomp_conn_connect(cl->base, cl->dns, cl->tls_cli, l->host, l->port, &o, &cbs, l,
				   err, sizeof err);
	if (!l->sc) {
		log_warn("cluster: cannot dial %s: %s", l->addr, err);
		cluster_out_reset(l);
	}
}

/* ---- in links ------------------------------------------------------------------------ */

static void in_free(struct in_link *in)
{
	struct cluster *cl = in->cl;

	if (in->sc)
		stomp_conn_close(in->sc);
	in->sc = NULL;
	in->used = false;
	cl->n_in--;
}

static void in_on_frame(stomp_conn_t *sc, const stomp_frame_t *f, void *arg)
{
	struct in_link *in = arg;
	struct cluster *cl = in->cl;
	struct cluster_msg m;
	enum cluster_drop d = cluster_frame_decode(f, cl->key, cl->keylen, cl->me, &m);

	if (d == CLUSTER_DROP_WRONG_NODE && m.cmd == STOMP_CMD_CONNECT &&
	    strcmp(m.from, cl->me) == 0) {
		/* our own dial (the peers list names this node too): tell it so */
		frame_send(cl, sc, STOMP_CMD_CONNECTED, CLUSTER_T_HELLO, cl->me, 0, NULL, 0);
		stomp_conn_end(sc);
		return;
	}
	if (d != CLUSTER_DROP_NONE) {
		metric_inc(cl->mm.cluster_dropped[d]);
		log_debug("cluster: frame from %s dropped: %s", in->addr, cluster_drop_name(d));
		return;
	}
	if (m.cmd == STOMP_CMD_CONNECT) {
		/* hello: answer who we are; no state, no sequence check (cluster_frame.h) */
		metric_inc(cl->mm.cluster_frames_received);
		stomp_conn_deadline(sc, 0);
		stomp_conn_heartbeat(sc, 0, (unsigned)cl->hb_ms);
		frame_send(cl, sc, STOMP_CMD_CONNECTED, CLUSTER_T_HELLO, m.from, 0, NULL, 0);
		return;
	}
	if (m.cmd != STOMP_CMD_SEND) {
		metric_inc(cl->mm.cluster_dropped[CLUSTER_DROP_MALFORMED]);
		return;
	}
	cluster_peer_frame(cl, &m, in->addr);
}

static void in_on_close(stomp_conn_t *sc, enum stomp_conn_end why, const char *detail,
			void *arg)
{
	struct in_link *in = arg;

	in->sc = NULL;
	in_free(in);
}

static void in_on_bad_input(stomp_conn_t *sc, const char *err, void *arg)
{
	struct in_link *in = arg;

	metric_inc(in->cl->mm.cluster_dropped[CLUSTER_DROP_MALFORMED]);
	log_warn("cluster: %s sent something that is not STOMP (%s): closed", in->addr, err);
	in_free(in);
}

static void accept_cb(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct cluster *cl = arg;
	struct in_link *in = NULL;
	stomp_limits_t lim;
	stomp_conn_opts_t o;
	static const stomp_conn_cbs_t cbs = { .on_frame = in_on_frame,
					      .on_bad_input = in_on_bad_input,
					      .on_close = in_on_close };

	for (int i = 0; i < CLUSTER_MAX_IN; i++)
		if (!cl->in[i].used) {
			in = &cl->in[i];
			break;
		}
	if (!in) {
		log_warn("cluster: %d inbound links already: connection refused", CLUSTER_MAX_IN);
		evutil_closesocket(fd);
		return;
	}
	memset(in, 0, sizeof *in);
	in->cl = cl;
	in->used = true;
	cl->n_in++;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, in->addr,
			  sizeof in->addr);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, in->addr,
			  sizeof in->addr);
	conn_opts(&o, &lim);
	in->sc = stomp_conn_accept(cl->base, cl->tls_srv, fd, &o, &cbs, in);
	if (!in->sc) {
		in->used = false;
		cl->n_in--;
	}
}

/* ---- tick and lifetime ------------------------------------------------------------------ */

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cluster *cl = arg;
	int64_t now = cluster_mono_ms();

	publish(cl);
	flush_sess(cl);
	cluster_health_flush(cl);
	cluster_seen_flush(cl);
	for (size_t k = 0; k < cl->n_out; k++) {
		struct out_link *l = &cl->out[k];
		if (!l->open)
			continue;
		if (l->need_full)
			send_state(l);
		else if (now - l->last_sent_ms >= cl->hb_ms)
			cluster_out_send(l, STOMP_CMD_SEND, CLUSTER_T_HB, NULL, 0);
	}
	/* This node's own lateness never counts against a peer: after a stall of this
	 * loop (CPU starved, SIGSTOP, a disk write), what the peers sent meanwhile still
	 * waits unread, and their links may have to reconnect (they saw us silent). The
	 * stall is credited to every peer's silence: a peer is dead after dead_after_ms
	 * of silence counted in the time this node was running. */
	int64_t late = cl->last_tick_ms ? now - cl->last_tick_ms - cl->publish_ms : 0;
	cl->last_tick_ms = now;
	if (late > cl->hb_ms) {
		log_info("cluster: this node did not run for %lld ms: not counted as the "
			 "peers' silence", (long long)late);
		cluster_peers_credit(cl, late, now);
	}
	if (cl->joining)
		cluster_units_join_check(cl, now);
	cluster_peers_check(cl, now);
}

struct cluster *cluster_new(struct event_base *base, const struct rm_config *cfg,
			    struct cluster_board *board, metrics_t *metrics, char *err,
			    size_t errlen)
{
	struct cluster *cl = calloc(1, sizeof *cl);
	struct sockaddr_storage ss;
	int sslen = sizeof ss;
	char at[RM_HOST_MAX + 16];

	if (!cl || rm_metrics_init(&cl->mm, metrics) < 0) {
		snprintf(err, errlen, "out of memory");
		free(cl);
		return NULL;
	}
	cl->base = base;
	cl->board = board;
	cl->local_sess = cluster_sess_set_new();
	if (!cl->local_sess) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	snprintf(cl->me, sizeof cl->me, "%s", cfg->cluster_node[0] ? cfg->cluster_node : cfg->node);
	cl->adopt_keep = cfg->cluster_adopt_keep;
	if (!cluster_node_valid(cl->me)) {
		snprintf(err, errlen, "cluster: node id \"%s\" (cluster.node, else node) may hold "
			 "only letters, digits, '.', '_' and '-'", cl->me);
		goto fail;
	}
	cl->keylen = strlen(cfg->cluster_key);
	memcpy(cl->key, cfg->cluster_key, cl->keylen);
	cl->inc = wall_ms();
	cl->started_ms = cluster_mono_ms();
	cl->hb_ms = cfg->cluster_heartbeat_ms;
	cl->dead_ms = cfg->cluster_dead_after_ms;
	cl->publish_ms = cfg->cluster_publish_ms;
	if (board->strict_nodes > 0) { /* own share only once no peer holds it */
		atomic_store(&board->units, 0);
		cl->joining = true;
	}
	snprintf(cl->listen_at, sizeof cl->listen_at, "%s:%d", cfg->cluster_listen,
		 cfg->cluster_port);
	snprintf(at, sizeof at, "%s%s%s:%d", strchr(cfg->cluster_listen, ':') ? "[" : "",
		 cfg->cluster_listen, strchr(cfg->cluster_listen, ':') ? "]" : "",
		 cfg->cluster_port);
	if (evutil_parse_sockaddr_port(at, (struct sockaddr *)&ss, &sslen) < 0) {
		snprintf(err, errlen, "cluster.listen: \"%s\" is not a numeric address",
			 cfg->cluster_listen);
		goto fail;
	}
	if (cfg->cluster_tls.enabled) {
		tls_config_t srv;
		char why[384];
		rm_config_cluster_tls_server(&cfg->cluster_tls, &srv);
		cl->tls_srv = tls_ctx_new(&srv, TLS_SERVER, NULL, why, sizeof why);
		if (cl->tls_srv)
			cl->tls_cli = tls_ctx_new(&cfg->cluster_tls, TLS_CLIENT, NULL, why, sizeof why);
		if (!cl->tls_srv || !cl->tls_cli) {
			snprintf(err, errlen, "cluster.tls: %s", why);
			goto fail;
		}
	}
	cl->lis = evconnlistener_new_bind(base, accept_cb, cl,
					  LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
						  LEV_OPT_CLOSE_ON_EXEC,
					  64, (struct sockaddr *)&ss, sslen);
	if (!cl->lis) {
		snprintf(err, errlen, "cluster: cannot listen on %s: %s", at,
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		goto fail;
	}
	cl->n_out = cfg->n_cluster_peers;
	for (size_t k = 0; k < cl->n_out; k++) {
		struct out_link *l = &cl->out[k];
		l->cl = cl;
		snprintf(l->addr, sizeof l->addr, "%s", cfg->cluster_peers[k]);
		if (hostport_split(l->addr, l->host, sizeof l->host, &l->port) < 0) {
			snprintf(err, errlen, "cluster.peers: \"%s\" is not host:port", l->addr);
			goto fail;
		}
		l->retry = evtimer_new(base, out_retry_cb, l);
		if (!l->retry) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	cl->tick = event_new(base, -1, EV_PERSIST, tick_cb, cl);
	struct timeval tv = { cfg->cluster_publish_ms / 1000,
			      (cfg->cluster_publish_ms % 1000) * 1000 };
	if (!cl->tick || event_add(cl->tick, &tv) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t k = 0; k < cl->n_out; k++)
		out_dial(&cl->out[k]);
	log_info("cluster: node %s (incarnation %llu) on %s%s, %zu peers, heartbeat %d ms, "
		 "dead after %d ms", cl->me, (unsigned long long)cl->inc, at,
		 cl->tls_srv ? " (TLS)" : "", cl->n_out, cl->hb_ms, cl->dead_ms);
	return cl;
fail:
	cluster_free(cl);
	return NULL;
}

void cluster_free(struct cluster *cl)
{
	if (!cl)
		return;
	cl->stopping = true;
	for (size_t k = 0; k < cl->n_out; k++) {
		stomp_conn_close(cl->out[k].sc);
		if (cl->out[k].retry)
			event_free(cl->out[k].retry);
	}
	for (int i = 0; i < CLUSTER_MAX_IN; i++)
		if (cl->in[i].used)
			in_free(&cl->in[i]);
	for (int i = 0; i < CLUSTER_MAX_PEERS; i++) {
		free(cl->peer[i].contrib);
		cluster_sess_set_free(cl->peer[i].sess);
	}
	cluster_sess_set_free(cl->local_sess);
	free(cl->seen_pend);
	free(cl->sess_pend);
	free(cl->health);
	if (cl->tick)
		event_free(cl->tick);
	if (cl->shut_timer)
		event_free(cl->shut_timer);
	if (cl->lis)
		evconnlistener_free(cl->lis);
	if (cl->dns)
		evdns_base_free(cl->dns, 0);
	tls_ctx_free(cl->tls_srv);
	tls_ctx_free(cl->tls_cli);
	free(cl);
}
