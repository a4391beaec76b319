/*
 * monitor: OPTIONS pings to MCPs through the proxy's own nta agent (see monitor.h).
 */
#include "proxy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sofia-sip/su_tag.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/sip_tag.h>

#include "log.h"
#include "overload.h"
#include "util.h"

#define MON_TICK_MS 50

static int64_t mon_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct ping {
	struct monitor *mon;
	unsigned mcp_id;
	char uri[RM_URI_MAX];
	nta_outgoing_t *orq;  /* outstanding OPTIONS or NULL */
	int64_t sent_ms;
	int64_t sent_us;      /* the same, finer: OPTIONS RTTs on a LAN are < 1 ms */
	int64_t next_ms;      /* when to send the next one */
	/* a peer's verdict differs from ours (monitor_hint): probe back to back while
	 * our results agree with it and our view has not turned yet */
	bool check;
	bool claim_up;        /* what the peer says */
	int check_left;       /* probes left in this check */
	char claim_by[64];    /* the peer's node id (logs) */
};

struct monitor {
	struct proxy *p;
	su_timer_t *timer;
	struct ping *pings;
	size_t n;
	unsigned long seq;
	char from[RM_URI_MAX + 32];
	metric_t *rtt; /* rm_options_rtt_seconds histogram, every MCP */
	metric_t *skipped; /* rm_options_timeouts_skipped_total */
	int64_t last_tick_ms;
};

static void apply_result(struct proxy *p, struct route_mcp *mcp, bool ok, int64_t rtt_us)
{
	const struct rm_config *cfg = p->cfg;
	int ch = route_health(mcp, ok, rtt_us, cfg->monitor_failures_to_down,
			      cfg->monitor_successes_to_up);
	if (ch > 0)
		log_info("MCP %s is up", mcp->uri);
	else if (ch < 0)
		log_warn("MCP %s is down", mcp->uri);
	if (ch)
		proxy_mcp_metrics(p);
	if (ch && p->cluster_post) {
		/* our verdict changed: the cluster tells the peers (an input for them) */
		size_t n = strlen(mcp->uri) + 8;
		char *line = malloc(n);
		if (line) {
			snprintf(line, n, "h %c %s", ch > 0 ? 'u' : 'd', mcp->uri);
			p->cluster_post(p->cluster_arg, line);
		}
	}
}

void monitor_report(struct proxy *p, struct route_mcp *mcp, bool ok)
{
	if (mcp && !mcp->retired)
		apply_result(p, mcp, ok, -1);
}

static struct route_mcp *mcp_by_id(struct proxy *p, unsigned id)
{
	size_t n = route_mcp_count(p->route);
	for (size_t i = 0; i < n; i++) {
		struct route_mcp *m = route_mcp_at(p->route, i);
		if (m->id == id)
			return m;
	}
	return NULL;
}

static void ping_done(struct ping *pg, bool ok)
{
	struct proxy *p = pg->mon->p;
	struct route_mcp *mcp = mcp_by_id(p, pg->mcp_id);
	int64_t rtt_us = mon_now_us() - pg->sent_us;

	if (pg->orq) {
		nta_outgoing_destroy(pg->orq);
		pg->orq = NULL;
	}
	if (rtt_us < 1)
		rtt_us = 1; /* "answered", as opposed to route's "none yet" (-1/0) */
	if (ok)
		metric_observe(pg->mon->rtt, (double)rtt_us / 1e6);
	if (mcp)
		apply_result(p, mcp, ok, ok ? rtt_us : -1);
	if (!pg->check)
		return;
	if (mcp && ok == pg->claim_up && mcp->up != pg->claim_up && --pg->check_left > 0) {
		pg->next_ms = proxy_now_ms(); /* the next probe at the next tick */
		return;
	}
	pg->check = false;
	if (!mcp)
		return;
	if (mcp->up == pg->claim_up)
		log_info("MCP %s: this node's OPTIONS agree with %s: %s", pg->uri, pg->claim_by,
			 mcp->up ? "up" : "down");
	else
		log_info("MCP %s: %s sees it %s, but it %s this node's OPTIONS: kept %s",
			 pg->uri, pg->claim_by, pg->claim_up ? "up" : "down",
			 ok ? "answered" : "did not answer", mcp->up ? "up" : "down");
}

static int ping_response(void *magic, nta_outgoing_t *orq, const sip_t *sip)
{
	struct ping *pg = magic;
	int status = sip && sip->sip_status ? sip->sip_status->st_status
					    : nta_outgoing_status(orq);

	if (orq != pg->orq || status < 200)
		return 0;
	ping_done(pg, sip && !nta_sip_is_internal(sip));
	return 0;
}

static void ping_send(struct monitor *m, struct ping *pg)
{
	struct proxy *p = m->p;
	char cid[RM_HOST_MAX + 64], to[RM_URI_MAX + 2];

	snprintf(cid, sizeof cid, "rm-options-%lu-%x@%s", ++m->seq, (unsigned)random(),
		 p->self_host);
	char dest[RM_URI_MAX];
	enum resolve_rc rr = proxy_resolve_uri(p, pg->uri, dest, sizeof dest);
	if (rr == RESOLVE_PENDING) {
		pg->next_ms = proxy_now_ms() + MON_TICK_MS; /* the lookup is bounded */
		return;
	}
	if (rr != RESOLVE_OK) {
		struct route_mcp *mcp = mcp_by_id(p, pg->mcp_id);
		if (mcp)
			apply_result(p, mcp, false, -1);
		return;
	}
	snprintf(to, sizeof to, "<%s>", pg->uri);
	pg->sent_ms = proxy_now_ms();
	pg->sent_us = mon_now_us();
	pg->orq = nta_outgoing_tcreate(p->defleg, ping_response, pg, (url_string_t const *)dest,
				       SIP_METHOD_OPTIONS, (url_string_t const *)pg->uri,
				       SIPTAG_FROM_STR(m->from), SIPTAG_TO_STR(to),
				       SIPTAG_CALL_ID_STR(cid), SIPTAG_CSEQ_STR("1 OPTIONS"),
				       SIPTAG_MAX_FORWARDS_STR("70"), TAG_END());
	if (!pg->orq) {
		struct route_mcp *mcp = mcp_by_id(p, pg->mcp_id);
		if (mcp)
			apply_result(p, mcp, false, -1);
	}
}

/* An OPTIONS that timed out while rm itself was behind (this tick ran late, or the
 * proxy saw its socket drop or queue up since the ping left): the answer may sit
 * unread in rm's own socket. Forget the ping without counting it either way. */
static void ping_void(struct ping *pg)
{
	nta_outgoing_destroy(pg->orq);
	pg->orq = NULL;
	if (pg->check)
		pg->next_ms = proxy_now_ms(); /* a check goes on at the next tick */
	metric_inc(pg->mon->skipped);
	log_debug("OPTIONS to %s timed out while rm was behind: not counted", pg->uri);
}

static void monitor_tick(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct monitor *m = arg;
	const struct rm_config *cfg = m->p->cfg;
	int64_t now = proxy_now_ms();
	bool late = overload_lag_ms(m->last_tick_ms, now, MON_TICK_MS) > cfg->overload_lag_ms;

	m->last_tick_ms = now;
	for (size_t i = 0; i < m->n; i++) {
		struct ping *pg = &m->pings[i];
		if (pg->orq && now - pg->sent_ms >= cfg->monitor_timeout_ms) {
			if (late || proxy_overload_busy_since(m->p, pg->sent_ms))
				ping_void(pg);
			else
				ping_done(pg, false);
		}
		if (!pg->orq && now >= pg->next_ms) {
			pg->next_ms = now + cfg->monitor_interval_ms;
			ping_send(m, pg);
		}
	}
}

void monitor_hint(struct proxy *p, const char *node, const char *line)
{
	struct monitor *m = p->mon;
	bool claim_up = line[2] == 'u';
	const char *uri = line + 4;
	const struct rm_config *cfg = p->cfg;

	if (!m || strlen(line) < 5)
		return;
	for (size_t i = 0; i < m->n; i++) {
		struct ping *pg = &m->pings[i];
		if (strcmp(pg->uri, uri) != 0)
			continue;
		struct route_mcp *mcp = mcp_by_id(p, pg->mcp_id);
		if (!mcp || pg->check || (mcp->probed && mcp->up == claim_up))
			return; /* agreed, or already checking */
		pg->check = true;
		pg->claim_up = claim_up;
		pg->check_left = claim_up ? cfg->monitor_successes_to_up
					  : cfg->monitor_failures_to_down;
		if (pg->check_left < 1)
			pg->check_left = 1;
		snprintf(pg->claim_by, sizeof pg->claim_by, "%s", node);
		log_info("MCP %s: %s sees it %s: probing it now (a peer's view is an input, "
			 "not a vote)", uri, node, claim_up ? "up" : "down");
		if (!pg->orq)
			pg->next_ms = proxy_now_ms(); /* sent at the next tick (<= 50 ms) */
		return;
	}
}

static void pings_clear(struct monitor *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->pings[i].orq)
			nta_outgoing_destroy(m->pings[i].orq);
	free(m->pings);
	m->pings = NULL;
	m->n = 0;
}

static int pings_build(struct monitor *m)
{
	struct proxy *p = m->p;
	size_t n = route_mcp_count(p->route);
	int64_t now = proxy_now_ms();

	m->pings = calloc(n ? n : 1, sizeof *m->pings);
	if (!m->pings)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct route_mcp *mcp = route_mcp_at(p->route, i);
		struct ping *pg = &m->pings[i];
		pg->mon = m;
		pg->mcp_id = mcp->id;
		snprintf(pg->uri, sizeof pg->uri, "%s", mcp->uri);
		pg->next_ms = now; /* first ping right away */
	}
	m->n = n;
	return 0;
}

struct monitor *monitor_new(struct proxy *p)
{
	struct monitor *m = calloc(1, sizeof *m);
	char tag[40];

	if (!m)
		return NULL;
	m->p = p;
	m->rtt = p->rmm.options_rtt;
	m->skipped = p->rmm.options_skipped;
	util_uuid4(tag);
	snprintf(m->from, sizeof m->from, "<sip:rm@%s:%s>;tag=%.8s", p->self_host, p->self_port,
		 tag);
	if (pings_build(m) < 0)
		goto fail;
	m->timer = su_timer_create(su_root_task(p->root), MON_TICK_MS);
	if (!m->timer || su_timer_set_for_ever(m->timer, monitor_tick, m) < 0)
		goto fail;
	return m;
fail:
	log_error("cannot start the MCP monitor (out of memory)");
	monitor_free(m);
	return NULL;
}

void monitor_reload(struct monitor *m)
{
	if (!m)
		return;
	pings_clear(m);
	if (pings_build(m) < 0)
		log_error("monitor: out of memory on reload; MCP health frozen");
}

void monitor_free(struct monitor *m)
{
	if (!m)
		return;
	if (m->timer)
		su_timer_destroy(m->timer);
	pings_clear(m);
	free(m);
}
