/*
 * proxy_metrics: the proxy's series (counted through rm_metrics.h's handles): call
 * totals, refusals, per-MCP health and load, per-profile/tenant/LRG usage.
 */
#include "proxy_int.h"

#include <string.h>

#include "sip_check.h"

int proxy_metrics_init(struct proxy *p)
{
	rm_metrics_t *m = &p->rmm;

	if (rm_metrics_init(m, p->metrics) < 0)
		return -1;
	p->m_active = m->calls_active;
	p->m_failovers = m->failovers;
	p->m_attempts = m->attempts;
	p->m_bad = rm_metrics_bad_request(m, sip_bad_name(SIP_BAD_MAX_FORWARDS));
	p->m_mcps_up = m->mcps_up;
	p->m_draining = m->draining;
	p->m_requests = m->sip_requests;
	p->m_setup = m->call_setup;
	memcpy(p->m_disp, m->calls, sizeof p->m_disp);
	memcpy(p->m_ended, m->ended, sizeof p->m_ended);
	memcpy(p->m_byes, m->byes_sent, sizeof p->m_byes);
	memcpy(p->m_reject, m->rejects, sizeof p->m_reject);
	return p->m_bad ? 0 : -1;
}

void proxy_count_reject(struct proxy *p, enum rm_refuse r)
{
	if ((int)r >= 0 && r < RM_REFUSE_COUNT)
		metric_inc(p->m_reject[r]);
	metric_inc(p->m_disp[REC_REJECTED]);
	/* A limit refusal means a profile or tenant sits at its hard limit (L3): publish
	 * usage now so that rmL3LimitReached (rm_snmp.c) sees it; at most every 100 ms. */
	if (r == RM_REFUSE_PROFILE_LIMIT || r == RM_REFUSE_TENANT_LIMIT) {
		int64_t now = proxy_now_ms();
		if (now - p->usage_pub_ms >= 100)
			proxy_usage_metrics(p);
	}
}

void proxy_sessions_changed(struct proxy *p)
{
	metric_set(p->m_active, (double)session_count(p->sessions));
}

/* Publish per-MCP up/down and load. Called after health changes and from the tick. */
void proxy_mcp_metrics(struct proxy *p)
{
	size_t n = route_mcp_count(p->route);
	struct rm_metrics_mcp h;

	for (size_t i = 0; i < n; i++) {
		struct route_mcp *mcp = route_mcp_at(p->route, i);
		/* no rm_mcp_up while unknown (before its first OPTIONS result) */
		rm_metrics_mcp(&p->rmm, mcp->uri, mcp->probed, &h);
		if (mcp->probed)
			metric_set(h.up, mcp->up ? 1 : 0);
		metric_set(h.active, mcp->active);
		metric_set(h.max_ports, mcp->max_ports);
		metric_set(h.rtt, mcp->last_rtt_us > 0 ? (double)mcp->last_rtt_us / 1e6 : 0);
		/* a counter fed from route's running count (picks only grows) */
		double seen = metric_value(h.attempts);
		if ((double)mcp->picks > seen)
			metric_add(h.attempts, mcp->picks - (uint64_t)seen);
	}
	metric_set(p->m_mcps_up, (double)route_mcp_up_count(p->route));
	proxy_usage_metrics(p);
}

/* Per-profile, per-tenant and per-LRG live calls (rm_snmp.c reads them for the LRG
 * table and rmL3LimitReached). Called every second and on limit refusals. */
void proxy_usage_metrics(struct proxy *p)
{
	const struct rm_config *cfg = p->cfg;

	p->usage_pub_ms = proxy_now_ms();
	for (size_t i = 0; i < route_profile_count(p->route); i++) {
		const struct route_profile *pr = route_profile_at(p->route, i);
		metric_set(rm_metrics_profile_active(&p->rmm, pr->name, true), pr->active);
	}
	for (size_t i = 0; i < route_tenant_count(p->route); i++) {
		const struct route_tenant *tn = route_tenant_at(p->route, i);
		metric_set(rm_metrics_tenant_active(&p->rmm, tn->name, true), tn->active);
	}
	for (size_t g = 0; cfg && g < cfg->n_lrgs; g++) {
		int active = 0;
		for (size_t i = 0; i < route_profile_count(p->route); i++) {
			const struct route_profile *pr = route_profile_at(p->route, i);
			if (strcmp(route_profile_lrg_name(pr), cfg->lrgs[g].name) == 0)
				active += pr->active;
		}
		metric_set(rm_metrics_lrg_active(&p->rmm, cfg->lrgs[g].name, true), active);
	}
}
