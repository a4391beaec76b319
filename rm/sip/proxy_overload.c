/*
 * proxy_overload: overload control at the proxy's edge. overload.h decides; this file
 * feeds it (INVITEs in setup, loop lag, the UDP socket's queue and drops), answers
 * shed INVITEs and publishes what it sees.
 *
 * A shed INVITE is answered before rm does anything else for it (no 100 Trying, no
 * profile mapping, no MCP choice) and gets no CDR: under overload every record would
 * be spooled to disk and published, costing I/O exactly when rm has none to spare,
 * and a SIP Server that retries after Retry-After would bill the same call once per
 * try. They are counted in rm_rejects_total{reason="overload"} instead.
 */
#include "proxy_int.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "overload.h"
#include "udp_sock.h"

/* The receive queue holding more than 1/QUEUE_FRACTION of the buffer counts as
 * congestion: with 4 MiB (8 MiB as the kernel counts) that is thousands of
 * datagrams, hundreds of ms of traffic; short bursts below it are not. */
#define QUEUE_FRACTION 2

struct proxy_ov {
	struct overload ov;
	size_t in_setup;       /* routed INVITEs not finally answered */
	int udp_fd;            /* sofia-sip's UDP socket, -1 if none or unknown */
	uint32_t drops;        /* its drop counter at the last tick */
	int64_t last_tick_ms;
	int64_t last_log_ms;
	int64_t last_behind_log_ms;
	uint64_t shed_logged;  /* o->shed at the last log line */
	metric_t *m_drops, *m_limit, *m_setup, *m_queued, *m_lag;
};

static struct overload_params params_of(const struct rm_config *cfg)
{
	struct overload_params prm = { cfg->overload_max_cps, cfg->overload_max_pending };
	return prm;
}

static void size_socket(struct proxy *p, struct proxy_ov *o)
{
	const struct rm_config *cfg = p->cfg;
	int rcv = 0, snd = 0;

	o->udp_fd = cfg->sip_udp ? udp_sock_find(cfg->sip_port) : -1;
	if (o->udp_fd < 0) {
		if (cfg->sip_udp)
			log_warn("overload: cannot find rm's UDP socket; no queue/drop watch");
		return;
	}
	if (udp_sock_size(o->udp_fd, cfg->sip_udp_rmem, cfg->sip_udp_wmem, &rcv, &snd) < 0)
		log_warn("UDP receive buffer is %d bytes, asked for %d: raise "
			 "net.core.rmem_max or run with CAP_NET_ADMIN", rcv, cfg->sip_udp_rmem);
	log_info("UDP socket buffers: receive %d bytes, send %d bytes (as the kernel counts)",
		 rcv, snd);
	metric_set(metrics_gauge(p->metrics, "rm_udp_rcvbuf_bytes",
				 "Receive buffer of the SIP UDP socket (kernel view)", NULL), rcv);
}

int proxy_overload_init(struct proxy *p)
{
	struct proxy_ov *o = calloc(1, sizeof *o);
	metrics_t *m = p->metrics;
	struct overload_params prm = params_of(p->cfg);
	struct udp_sock_stats st;

	if (!o)
		return -1;
	overload_init(&o->ov, &prm, proxy_now_ms());
	o->m_drops = metrics_counter(m, "rm_udp_drops_total",
				     "Datagrams the kernel dropped on the SIP UDP socket "
				     "(receive buffer full)", NULL);
	o->m_limit = metrics_gauge(m, "rm_overload_cps_limit",
				   "New INVITEs per second rm admits now (0 = no limit)", NULL);
	o->m_setup = metrics_gauge(m, "rm_calls_in_setup",
				   "Routed INVITEs not yet finally answered", NULL);
	o->m_queued = metrics_gauge(m, "rm_udp_queued_bytes",
				    "Bytes waiting in the SIP UDP socket's receive queue", NULL);
	o->m_lag = metrics_gauge(m, "rm_loop_lag_seconds",
				 "How late the SIP thread's last tick ran", NULL);
	p->ov = o;
	size_socket(p, o);
	if (o->udp_fd >= 0 && udp_sock_stats(o->udp_fd, &st) == 0)
		o->drops = st.drops;
	metric_set(o->m_limit, overload_rate(&o->ov));
	return 0;
}

void proxy_overload_free(struct proxy *p)
{
	free(p->ov);
	p->ov = NULL;
}

void proxy_overload_reload(struct proxy *p)
{
	struct overload_params prm = params_of(p->cfg);

	if (p->ov)
		overload_set_params(&p->ov->ov, &prm, proxy_now_ms());
}

bool proxy_overload_shed(struct proxy *p, nta_incoming_t *irq)
{
	struct proxy_ov *o = p->ov;
	enum overload_verdict v;
	struct rm_reject rej;
	int64_t now;

	if (!o)
		return false;
	now = proxy_now_ms();
	v = overload_admit(&o->ov, o->in_setup, now);
	if (v == OVERLOAD_ADMIT)
		return false;
	rej = rm_config_reject(p->cfg, RM_REFUSE_OVERLOAD);
	proxy_count_reject(p, RM_REFUSE_OVERLOAD);
	proxy_reply(irq, rej.code, rej.retry_after);
	nta_incoming_destroy(irq);
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
		if ((uint64_t)st.queued * QUEUE_FRACTION > st.rcvbuf)
			congested = true;
		metric_set(o->m_queued, st.queued);
	}
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
