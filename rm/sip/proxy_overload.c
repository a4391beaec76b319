/*
 * proxy_overload: overload control at the proxy's edge. overload.h decides; this file
 * feeds it (INVITEs in setup, loop lag, the UDP socket's queue and drops), answers
 * shed INVITEs and publishes what it sees.
 *
 * A new INVITE is judged in nta's message callback (sip_guard.c), before a server
 * transaction exists: a shed one is answered statelessly (RFC 3261 16.3 lets a
 * stateless element answer 503 itself) with Retry-After and a To tag of its own
 * (SHED_TAG), and forgotten. No transaction, no 100 Trying, no timers, no
 * retransmissions of the answer: if the 503 is lost the sender retransmits its
 * INVITE, overload_recall finds it and it is answered again the same way. The
 * ACK for the 503 carries SHED_TAG and is discarded unparsed further. (A silent
 * drop would cost less per datagram but make every sender retransmit each INVITE
 * up to 7 times over 32 s, and tell it nothing: answering is cheaper in total.)
 *
 * A shed INVITE gets no CDR: under overload every record would be spooled to disk
 * and published, costing I/O exactly when rm has none to spare, and a SIP Server
 * that retries after Retry-After would bill the same call once per try. They are
 * counted in rm_rejects_total{reason="overload"} instead (retransmissions are not
 * counted again).
 */
#include "proxy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/sip_tag.h>

#include "log.h"
#include "overload.h"
#include "ratelog.h"
#include "tcp_sock.h"
#include "udp_sock.h"

/* TCP: the queue guard's limit for the bytes rm's connections hold unread when rm has
 * no UDP socket to size it from (about a thousand INVITEs: rm is a second behind). */
#define TCP_QUEUE_LIMIT (1024 * 1024)
/* TCP connections are counted (tcp_sock_census) this often. */
#define TCP_CENSUS_MS 200

/* The To tag of rm's stateless refusals: the ACK that answers one carries it. */
#define SHED_TAG "rmshed"

struct proxy_ov {
	struct overload ov;
	size_t in_setup;       /* routed INVITEs not finally answered */
	int udp_fd;            /* sofia-sip's UDP socket, -1 if none or unknown */
	uint32_t drops;        /* its drop counter at the last tick */
	int64_t last_tick_ms;
	int64_t last_log_ms;
	int64_t last_behind_log_ms;
	uint64_t shed_logged;  /* o->shed at the last log line */
	uint32_t max_queue;    /* receive-queue limit from the socket's size; 0 = none */
	uint32_t tag_seq;      /* makes each SHED_TAG unique */
	uint32_t queued;       /* bytes in the receive queue, read at queued_ms */
	int64_t queued_ms;
	struct overload_filter filter; /* share of INVITEs the kernel lets through */
	int64_t filter_log_ms;
	uint64_t filter_on;    /* times engaged since the last log line */
	struct overload_memory mem; /* INVITEs refused lately (their retransmissions) */
	metric_t *m_drops, *m_limit, *m_setup, *m_queued, *m_lag, *m_filter;
	/* TCP (tcp_sock.h): the last census, sorted by descriptor */
	struct tcp_conn *conns, *prev;
	size_t n_prev, cap;
	uint64_t tcp_queued;   /* bytes unread in the connections at the last census */
	int64_t census_ms;
	bool refusing;         /* the listener refuses new connections */
	ratelog_t tcp_log;
};

static struct overload_params params_of(const struct proxy *p)
{
	struct overload_params prm = { p->cfg->overload_max_cps, p->cfg->overload_max_pending,
				       p->ov ? p->ov->max_queue : 0 };
	return prm;
}

static void size_socket(struct proxy *p, struct proxy_ov *o)
{
	const struct rm_config *cfg = p->cfg;
	int rcv = 0, snd = 0;

	o->udp_fd = cfg->sip_udp ? udp_sock_find(cfg->sip_port) : -1;
	if (!cfg->sip_udp)
		o->max_queue = TCP_QUEUE_LIMIT;
	if (o->udp_fd < 0) {
		if (cfg->sip_udp)
			log_warn("overload: cannot find rm's UDP socket; no queue/drop watch");
		return;
	}
	if (udp_sock_size(o->udp_fd, cfg->sip_udp_rmem, cfg->sip_udp_wmem, &rcv, &snd) < 0)
		log_warn("UDP receive buffer is %d bytes, asked for %d: raise "
			 "net.core.rmem_max or run with CAP_NET_ADMIN", rcv, cfg->sip_udp_rmem);
	if (rcv > 0)
		o->max_queue = overload_queue_limit((uint32_t)rcv);
	log_info("UDP socket buffers: receive %d bytes, send %d bytes (as the kernel counts); "
		 "new INVITEs shed while more than %u bytes wait", rcv, snd, o->max_queue);
	metric_set(p->rmm.udp_rcvbuf, rcv);
}

int proxy_overload_init(struct proxy *p)
{
	struct proxy_ov *o = calloc(1, sizeof *o);
	struct overload_params prm;
	struct udp_sock_stats st;

	if (!o)
		return -1;
	o->m_drops = p->rmm.udp_drops;
	o->m_limit = p->rmm.overload_cps_limit;
	o->m_setup = p->rmm.calls_in_setup;
	o->m_queued = p->rmm.udp_queued;
	o->m_lag = p->rmm.loop_lag;
	o->m_filter = p->rmm.overload_filter;
	p->ov = o;
	size_socket(p, o);
	prm = params_of(p);
	overload_init(&o->ov, &prm, proxy_now_ms());
	o->filter.accept = OVERLOAD_FILTER_OFF;
	if (o->udp_fd >= 0 && udp_sock_stats(o->udp_fd, &st) == 0)
		o->drops = st.drops;
	metric_set(o->m_limit, overload_rate(&o->ov));
	return 0;
}

void proxy_overload_free(struct proxy *p)
{
	if (!p->ov)
		return;
	free(p->ov->conns);
	free(p->ov->prev);
	free(p->ov);
	p->ov = NULL;
}

void proxy_overload_reload(struct proxy *p)
{
	struct overload_params prm = params_of(p);

	if (p->ov)
		overload_set_params(&p->ov->ov, &prm, proxy_now_ms());
}

/* Bytes waiting in rm's UDP socket now (read at most once a millisecond: a system
 * call per INVITE costs more than the rest of the decision); 0 when unknown. */
static uint32_t queued_now(struct proxy_ov *o, int64_t now)
{
	struct udp_sock_stats st;

	if (o->max_queue == 0)
		return 0;
	if (now != o->queued_ms) {
		o->queued = o->udp_fd >= 0 && udp_sock_stats(o->udp_fd, &st) == 0 ? st.queued : 0;
		o->queued_ms = now;
	}
	/* TCP: as of the last census (TCP_CENSUS_MS old at most) */
	uint64_t q = o->queued + o->tcp_queued;
	return q > UINT32_MAX ? UINT32_MAX : (uint32_t)q;
}

/* The last resort (udp_sock.h, overload.h): past half the buffer rm is not even
 * refusing INVITEs as fast as they come, and a full buffer would drop the ACKs, BYEs
 * and answers of admitted calls at random: the kernel drops a share of new INVITEs
 * (they cost rm nothing then, but their senders retransmit them), adjusted each tick
 * and lifted as soon as the 503s hold the queue at the guard's limit again. */
static void filter_update(struct proxy_ov *o, uint32_t queued, bool tick, int64_t now)
{
	uint32_t was = o->filter.accept;

	if (o->max_queue == 0 || o->udp_fd < 0)
		return;
	uint32_t a = overload_filter_next(&o->filter, queued, o->max_queue, tick);
	if (a == was)
		return;
	if (udp_sock_filter_invites(o->udp_fd, a) < 0) {
		o->filter.accept = was;
		return;
	}
	if (was < OVERLOAD_FILTER_OFF)
		return;
	metric_inc(o->m_filter);
	o->filter_on++;
	if (now - o->filter_log_ms >= 1000) {
		log_warn("overload: %u bytes wait in the UDP socket; the kernel lets through "
			 "%.0f%% of new INVITEs until rm catches up (engaged %llu times since "
			 "the last report)", queued, a * 100.0 / OVERLOAD_FILTER_OFF,
			 (unsigned long long)o->filter_on);
		o->filter_log_ms = now;
		o->filter_on = 0;
	}
}

/* Answer msg (a new INVITE) statelessly with the overload refusal; msg consumed. */
static void refuse_stateless(struct proxy *p, struct proxy_ov *o, nta_agent_t *agent,
			     msg_t *msg, const sip_t *sip)
{
	struct rm_reject rej = rm_config_reject(p->cfg, RM_REFUSE_OVERLOAD);
	su_home_t *home = msg_home(msg);
	sip_to_t *to = sip_to_dup(home, sip->sip_to);
	char ra[16], tag[32];

	snprintf(ra, sizeof ra, "%d", rej.retry_after);
	snprintf(tag, sizeof tag, SHED_TAG "%x", ++o->tag_seq);
	if (!to || sip_to_tag(home, to, tag) < 0) {
		nta_msg_discard(agent, msg);
		return;
	}
	nta_msg_treply(agent, msg, rej.code, sip_status_phrase(rej.code), SIPTAG_TO(to),
		       TAG_IF(rej.retry_after > 0, SIPTAG_RETRY_AFTER_STR(ra)), TAG_END());
}

bool proxy_overload_gate(struct proxy *p, nta_agent_t *agent, msg_t *msg, const sip_t *sip)
{
	struct proxy_ov *o = p->ov;
	sip_method_t method = sip->sip_request->rq_method;
	enum overload_verdict v;
	int64_t now;
	uint64_t key;

	if (!o || !sip->sip_to || !sip->sip_call_id)
		return false;
	if (sip->sip_to->a_tag) {
		/* the ACK for one of rm's stateless refusals: nothing to do */
		if (method != sip_method_ack || strncmp(sip->sip_to->a_tag, SHED_TAG,
							 sizeof SHED_TAG - 1) != 0)
			return false;
		nta_msg_discard(agent, msg);
		return true;
	}
	if (method != sip_method_invite || p->draining || p->stopped)
		return false;
	now = proxy_now_ms();
	key = overload_key(sip->sip_call_id->i_id,
			   sip->sip_via ? sip->sip_via->v_branch : NULL);
	if (overload_recall(&o->mem, key, now)) {
		refuse_stateless(p, o, agent, msg, sip); /* a retransmission */
		return true;
	}
	uint32_t queued = queued_now(o, now);
	filter_update(o, queued, false, now);
	v = overload_admit(&o->ov, o->in_setup, queued, now);
	if (v == OVERLOAD_ADMIT)
		return false;
	overload_remember(&o->mem, key, now);
	proxy_count_reject(p, RM_REFUSE_OVERLOAD);
	refuse_stateless(p, o, agent, msg, sip);
	if (now - o->last_log_ms >= 1000) {
		log_warn("overload: shedding new INVITEs (%s): %llu refused since the last "
			 "report, limit %.0f/s, %zu in setup", overload_verdict_name(v),
			 (unsigned long long)(o->ov.shed - o->shed_logged),
			 overload_rate(&o->ov), o->in_setup);
		o->last_log_ms = now;
		o->shed_logged = o->ov.shed;
	}
	return true;
}

static int conn_cmp(const void *a, const void *b)
{
	const struct tcp_conn *x = a, *y = b;
	return x->fd < y->fd ? -1 : x->fd > y->fd;
}

static bool conn_known(const struct proxy_ov *o, const struct tcp_conn *c)
{
	const struct tcp_conn *k = o->n_prev ? bsearch(c, o->prev, o->n_prev, sizeof *c,
						       conn_cmp) : NULL;
	return k && k->peer == c->peer;
}

/* TCP, every TCP_CENSUS_MS: count the accepted connections and what they hold
 * unread (the queue guard adds it to the UDP queue). Past
 * overload.max_tcp_connections, connections that were not there at the last census
 * are shut down (the newest first: a SIP Server's long-lived connection stays), and
 * while the limit is reached the listener refuses new ones in the kernel. Returns
 * the bytes unread. */
static uint64_t tcp_watch(struct proxy *p, struct proxy_ov *o, int64_t now)
{
	const struct rm_config *cfg = p->cfg;
	struct tcp_census c;
	size_t limit = cfg->overload_max_tcp > 0 ? (size_t)cfg->overload_max_tcp : SIZE_MAX;
	unsigned closed = 0, held;

	if (!cfg->sip_tcp || now - o->census_ms < TCP_CENSUS_MS)
		return o->tcp_queued;
	o->census_ms = now;
	for (;;) {
		if (tcp_sock_census(cfg->sip_port, &c, o->conns, o->cap) < 0)
			return o->tcp_queued;
		if (c.n <= o->cap)
			break;
		size_t nc = c.n + c.n / 2 + 16;
		struct tcp_conn *a = realloc(o->conns, nc * sizeof *a);
		struct tcp_conn *b = a ? realloc(o->prev, nc * sizeof *b) : NULL;
		if (a)
			o->conns = a;
		if (b)
			o->prev = b;
		if (!a || !b)
			return o->tcp_queued;
		o->cap = nc;
	}
	if (c.n)
		qsort(o->conns, c.n, sizeof *o->conns, conn_cmp);
	size_t n = c.n;
	for (size_t i = c.n; i-- > 0 && n > limit;) {
		if (conn_known(o, &o->conns[i]) || tcp_sock_shut(cfg->sip_port, &o->conns[i]) < 0)
			continue;
		o->conns[i].fd = -1;
		n--;
		closed++;
	}
	o->n_prev = 0;
	for (size_t i = 0; i < c.n; i++)
		if (o->conns[i].fd >= 0)
			o->prev[o->n_prev++] = o->conns[i];
	if (closed)
		metric_add(p->rmm.tcp_refused, closed);
	bool refuse = n >= limit && c.listen_fd >= 0;
	if (refuse != o->refusing && c.listen_fd >= 0 &&
	    tcp_sock_refuse_new(c.listen_fd, refuse) == 0)
		o->refusing = refuse;
	if ((closed || refuse) && ratelog_allow(&o->tcp_log, now, 10000, &held))
		log_warn("overload: %zu SIP TCP connections open (overload.max_tcp_connections "
			 "%d): %u new ones closed, new connections refused until fewer are "
			 "open (%u more such reports held back)", n, cfg->overload_max_tcp,
			 closed, held);
	metric_set(p->rmm.tcp_connections, (double)n);
	metric_set(p->rmm.tcp_queued, (double)c.queued);
	o->tcp_queued = c.queued;
	return c.queued;
}

void proxy_overload_tick(struct proxy *p, int64_t now, int64_t period_ms)
{
	struct proxy_ov *o = p->ov;
	struct udp_sock_stats st = { 0 };
	uint32_t d = 0;
	bool congested = false;

	if (!o)
		return;
	int64_t lag = overload_lag_ms(o->last_tick_ms, now, period_ms);
	o->last_tick_ms = now;
	metric_set(o->m_lag, (double)lag / 1000);
	if (lag > p->cfg->overload_lag_ms)
		congested = true;
	if (o->udp_fd >= 0 && udp_sock_stats(o->udp_fd, &st) == 0) {
		d = st.drops - o->drops; /* unsigned: survives the wrap */
		o->drops = st.drops;
		if (d) {
			metric_add(o->m_drops, d);
			congested = true;
		}
		/* past the queue guard's limit rm is shedding for lateness: what waits
		 * behind it (OPTIONS answers among it) is late by rm's doing, and with the
		 * kernel filter kept for half the buffer, drops no longer say so */
		if (o->max_queue && st.queued > o->max_queue)
			congested = true;
		metric_set(o->m_queued, st.queued);
		filter_update(o, st.queued, true, now);
	}
	/* TCP: rm is behind when its connections hold more than half the queue limit */
	uint64_t tq = tcp_watch(p, o, now);
	if (o->max_queue && tq * 2 > o->max_queue)
		congested = true;
	overload_signal(&o->ov, congested, now);
	if (congested && now - o->last_behind_log_ms >= 1000) {
		log_info("overload: rm is behind (tick %lld ms late, %u bytes queued of %u, "
			 "%u datagrams dropped); now admitting %.0f INVITEs/s (0 = all)", (long long)lag,
			 st.queued, st.rcvbuf, d, overload_rate(&o->ov));
		o->last_behind_log_ms = now;
	}
	metric_set(o->m_limit, overload_rate(&o->ov));
	metric_set(o->m_setup, (double)o->in_setup);
}

bool proxy_overload_busy_since(const struct proxy *p, int64_t since_ms)
{
	return p->ov && overload_busy_since(&p->ov->ov, since_ms);
}

void proxy_setup_begin(struct call *c)
{
	if (c->in_setup || !c->p->ov)
		return;
	c->in_setup = true;
	c->p->ov->in_setup++;
}

void proxy_setup_end(struct call *c)
{
	if (!c->in_setup)
		return;
	c->in_setup = false;
	if (c->p->ov)
		c->p->ov->in_setup--;
}
