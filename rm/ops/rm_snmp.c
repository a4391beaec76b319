/*
 * rm_snmp: GVP-RM-MIB served from the metrics registry (see rm_snmp.h), read through
 * rm_metrics.h's typed handles: no series is named here.
 *
 * OID (under BASE.1)  object              /metrics series
 * 1.1.0               rmActiveCalls       rm_calls_active
 * 1.2.0 .. 1.6.0      rmCallsAnswered..   rm_calls_total{disposition=answered|cancelled|
 *                     rmCallsTimedOut       rejected|failed|timed-out}
 * 1.7.0               rmRejects           sum of rm_rejects_total{reason=...}
 * 1.8.0               rmFailovers         rm_failovers_total
 * 1.9.0               rmSpoolDepth        rm_spool_depth
 * 1.10.0              rmSpoolUsagePercent rm_spool_usage_percent
 * 2.1.c.i             MCP table           uri, group (config), rm_mcp_up, rm_mcp_active,
 *                                         rm_mcp_max_ports, rm_mcp_options_rtt_seconds
 * 3.1.c.i             LRG table           name, scheme, members (config), members up
 *                                         (rm_mcp_up of the members),
 *                                         rm_lrg_calls_active
 * 5.1.c.i             peer table          node, address, state, heartbeat age, calls
 *                                         held: from rm/cluster (rm_snmp_set_peers),
 *                                         not from the registry (per-peer state that
 *                                         /cluster shows)
 */
#include "rm_snmp.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "rm_metrics.h"

#define RM_SNMP_CHECK_MS 200

struct snmp_mcp {
	char uri[RM_URI_MAX];
	char group[256];     /* LRG names, comma-separated, config order */
	int max_ports;       /* the largest over its groups (as route.c does) */
	int last_up;         /* -1 unknown, 0, 1 */
	struct rm_metrics_mcp h; /* its series, looked up until all exist (mcp_h) */
};

struct snmp_lrg {
	char name[RM_NAME_MAX];
	char scheme[32];
	size_t *members;     /* indexes into mcps */
	size_t n_members;
	int last_up;         /* members up at the last check; -1 unknown */
	metric_t *active;    /* rm_lrg_calls_active; NULL until published */
};

struct snmp_limit {          /* a profile or a tenant with an l3 */
	char tenant[RM_NAME_MAX];
	char profile[RM_NAME_MAX]; /* "" for a tenant */
	int l3;
};

struct rm_snmp {
	struct event_base *base;
	rm_metrics_t m;    /* handles on the registry rm_snmp_new was given */
	snmpsub_t *ax;
	struct event *timer;
	char master[RM_HOST_MAX];
	char root[RM_HOST_MAX + 4];
	struct snmp_mcp *mcps;
	size_t n_mcps;
	struct snmp_lrg *lrgs;
	size_t n_lrgs;
	struct snmp_limit *limits;
	size_t n_limits;
	int last_spool_hw; /* -1 unknown, 0, 1 */
	rm_snmp_peers_fn peers_fn;
	void *peers_arg;
	struct {
		char node[64];
		int up; /* 1 up, 0 not (down, or never up since it was first seen) */
	} last_peer[RM_SNMP_PEERS_MAX];
	size_t n_last_peers;
	bool configured;   /* the AgentX session was decided (first configure) */
};

/* ---- reading the registry ---------------------------------------------------------- */

/* A series' value as an SNMP number: 0 for a series not registered yet (NULL), a
 * negative value or NaN; clamped to INT64_MAX. */
static int64_t num_of(const metric_t *h)
{
	double v = h ? metric_value(h) : 0;

	if (!(v > 0)) /* also NaN */
		return 0;
	if (v > 9.2e18)
		return INT64_MAX;
	return (int64_t)llround(v);
}

/* The MCP's handles: looked up while any is missing (the SIP thread publishes them;
 * rm_mcp_up only from the first OPTIONS result), then kept (valid until
 * metrics_free), so a walk does not search the registry once all exist. */
static const struct rm_metrics_mcp *mcp_h(struct rm_snmp *s, struct snmp_mcp *m)
{
	struct rm_metrics_mcp *h = &m->h;

	if (!h->up || !h->active || !h->max_ports || !h->rtt || !h->attempts)
		rm_metrics_mcp_find(&s->m, m->uri, h);
	return h;
}

/* 1 up, 0 down, -1 no such series yet. */
static int mcp_up(struct rm_snmp *s, struct snmp_mcp *m)
{
	const struct rm_metrics_mcp *h = mcp_h(s, m);

	return h->up ? metric_value(h->up) >= 1 : -1;
}

static metric_t *lrg_active(struct rm_snmp *s, struct snmp_lrg *g)
{
	if (!g->active)
		g->active = rm_metrics_lrg_active(&s->m, g->name, false);
	return g->active;
}

static size_t lrg_up(struct rm_snmp *s, const struct snmp_lrg *g)
{
	size_t up = 0;

	for (size_t i = 0; i < g->n_members; i++)
		up += mcp_up(s, &s->mcps[g->members[i]]) == 1;
	return up;
}

/* ---- building values --------------------------------------------------------------- */

struct sink {
	snmpsub_value_t *out;
	size_t cap, n;
};

static snmpsub_value_t *sink_next(struct sink *k, enum snmpsub_type type, size_t len,
				  const uint32_t *oid)
{
	snmpsub_value_t *v = k->n < k->cap ? &k->out[k->n] : NULL;

	k->n++;
	if (!v)
		return NULL;
	memset(v, 0, sizeof *v);
	memcpy(v->oid, oid, len * sizeof *oid);
	v->oid_len = len;
	v->type = type;
	return v;
}

static void put_num(struct sink *k, enum snmpsub_type type, int64_t num, size_t len,
		    const uint32_t *oid)
{
	snmpsub_value_t *v = sink_next(k, type, len, oid);

	if (v)
		v->num = num;
}

static void put_str(struct sink *k, const char *str, size_t len, const uint32_t *oid)
{
	snmpsub_value_t *v = sink_next(k, SNMPSUB_STRING, len, oid);

	if (v)
		snprintf(v->str, sizeof v->str, "%s", str);
}

#define OID(...) (sizeof((uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t)), \
		 ((uint32_t[]){ __VA_ARGS__ })

static void mcp_row(struct rm_snmp *s, struct sink *k, uint32_t col, size_t i)
{
	struct snmp_mcp *m = &s->mcps[i];
	uint32_t row = (uint32_t)i + 1;
	const struct rm_metrics_mcp *h = mcp_h(s, m);
	double v;

	switch (col) {
	case 2:
		put_str(k, m->uri, OID(2, 1, 2, row));
		break;
	case 3:
		put_str(k, m->group, OID(2, 1, 3, row));
		break;
	case 4:
		put_num(k, SNMPSUB_INTEGER, h->up && metric_value(h->up) >= 1 ? 1 : 2,
			OID(2, 1, 4, row));
		break;
	case 5:
		put_num(k, SNMPSUB_GAUGE32, num_of(h->active), OID(2, 1, 5, row));
		break;
	case 6:
		v = h->max_ports ? metric_value(h->max_ports) : 0;
		put_num(k, SNMPSUB_GAUGE32, v > 0 ? (int64_t)v : m->max_ports,
			OID(2, 1, 6, row));
		break;
	case 7:
		v = h->rtt ? metric_value(h->rtt) : 0;
		put_num(k, SNMPSUB_GAUGE32, v > 0 ? (int64_t)llround(v * 1000) : 0,
			OID(2, 1, 7, row));
		break;
	}
}

static void lrg_row(struct rm_snmp *s, struct sink *k, uint32_t col, size_t i)
{
	struct snmp_lrg *g = &s->lrgs[i];
	uint32_t row = (uint32_t)i + 1;

	switch (col) {
	case 2:
		put_str(k, g->name, OID(3, 1, 2, row));
		break;
	case 3:
		put_str(k, g->scheme, OID(3, 1, 3, row));
		break;
	case 4:
		put_num(k, SNMPSUB_GAUGE32, (int64_t)g->n_members, OID(3, 1, 4, row));
		break;
	case 5:
		put_num(k, SNMPSUB_GAUGE32, (int64_t)lrg_up(s, g), OID(3, 1, 5, row));
		break;
	case 6:
		put_num(k, SNMPSUB_GAUGE32, num_of(lrg_active(s, g)), OID(3, 1, 6, row));
		break;
	}
}

void rm_snmp_set_peers(struct rm_snmp *s, rm_snmp_peers_fn fn, void *arg)
{
	s->peers_fn = fn;
	s->peers_arg = arg;
}

static size_t peers_get(struct rm_snmp *s, struct rm_snmp_peer *out)
{
	size_t n = s->peers_fn ? s->peers_fn(s->peers_arg, out, RM_SNMP_PEERS_MAX) : 0;

	return n < RM_SNMP_PEERS_MAX ? n : RM_SNMP_PEERS_MAX;
}

/* Copy at most cap - 1 bytes of src (a field of maxlen bytes) and a NUL. */
static void copy_field(char *dst, size_t cap, const char *src, size_t maxlen)
{
	size_t n = strnlen(src, maxlen);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void put_field(struct sink *k, const char *str, size_t maxlen, size_t len,
		      const uint32_t *oid)
{
	snmpsub_value_t *v = sink_next(k, SNMPSUB_STRING, len, oid);

	if (v)
		copy_field(v->str, sizeof v->str, str, maxlen);
}

static void peer_row(struct sink *k, const struct rm_snmp_peer *p, uint32_t col, size_t i)
{
	uint32_t row = (uint32_t)i + 1;

	switch (col) {
	case 2:
		put_field(k, p->node, sizeof p->node, OID(5, 1, 2, row));
		break;
	case 3:
		put_field(k, p->address, sizeof p->address, OID(5, 1, 3, row));
		break;
	case 4:
		put_num(k, SNMPSUB_INTEGER, p->state, OID(5, 1, 4, row));
		break;
	case 5:
		put_num(k, SNMPSUB_GAUGE32, p->heartbeat_age_ms < 0 ? 0 :
			p->heartbeat_age_ms > 0xffffffffLL ? 0xffffffffLL : p->heartbeat_age_ms,
			OID(5, 1, 5, row));
		break;
	case 6:
		put_num(k, SNMPSUB_GAUGE32, p->sessions < 0 ? 0 : p->sessions, OID(5, 1, 6, row));
		break;
	}
}

size_t rm_snmp_collect(struct rm_snmp *s, snmpsub_value_t *out, size_t cap)
{
	struct rm_snmp_peer peers[RM_SNMP_PEERS_MAX];
	size_t n_peers = peers_get(s, peers);
	struct sink k = { out, cap, 0 };
	int64_t rejects = 0;

	put_num(&k, SNMPSUB_GAUGE32, num_of(s->m.calls_active), OID(1, 1, 0));
	/* rmCallsAnswered .. rmCallsTimedOut: enum record_disposition order */
	for (uint32_t d = 0; d < RM_METRICS_DISP; d++)
		put_num(&k, SNMPSUB_COUNTER64, num_of(s->m.calls[d]), OID(1, 2 + d, 0));
	for (int r = 1; r < RM_REFUSE_COUNT; r++)
		rejects += num_of(s->m.rejects[r]);
	put_num(&k, SNMPSUB_COUNTER64, rejects, OID(1, 7, 0));
	put_num(&k, SNMPSUB_COUNTER64, num_of(s->m.failovers), OID(1, 8, 0));
	put_num(&k, SNMPSUB_GAUGE32, num_of(s->m.spool_depth), OID(1, 9, 0));
	int64_t pct = num_of(s->m.spool_usage_percent);
	put_num(&k, SNMPSUB_GAUGE32, pct > 100 ? 100 : pct, OID(1, 10, 0));
	for (uint32_t col = 2; col <= 7; col++)
		for (size_t i = 0; i < s->n_mcps; i++)
			mcp_row(s, &k, col, i);
	for (uint32_t col = 2; col <= 6; col++)
		for (size_t i = 0; i < s->n_lrgs; i++)
			lrg_row(s, &k, col, i);
	for (uint32_t col = 2; col <= 6; col++)
		for (size_t i = 0; i < n_peers; i++)
			peer_row(&k, &peers[i], col, i);
	return k.n;
}

static size_t collect_cb(void *arg, snmpsub_value_t *out, size_t cap)
{
	return rm_snmp_collect(arg, out, cap);
}

/* ---- notifications ----------------------------------------------------------------- */

/* rmPeerDown (6) when a peer that was up is down; rmPeerUp (7) when a peer is up
 * that was down or not up since it was first seen: a join, including the peers
 * found at start (unlike the MCPs' first look, which only records). */
static void check_peers(struct rm_snmp *s, rm_snmp_notify_fn fn, void *arg)
{
	struct rm_snmp_peer peers[RM_SNMP_PEERS_MAX];
	size_t n = peers_get(s, peers);
	snmpsub_value_t vb[3];
	struct sink k = { vb, 3, 0 };

	for (size_t i = 0; i < n; i++) {
		const struct rm_snmp_peer *p = &peers[i];
		size_t j;
		for (j = 0; j < s->n_last_peers; j++)
			if (strcmp(s->last_peer[j].node, p->node) == 0)
				break;
		if (j == s->n_last_peers) {
			if (j == RM_SNMP_PEERS_MAX) /* full: reuse an entry no longer listed */
				for (j = 0; j < s->n_last_peers; j++) {
					bool listed = false;
					for (size_t q = 0; q < n && !listed; q++)
						listed = strcmp(peers[q].node,
								s->last_peer[j].node) == 0;
					if (!listed)
						break;
				}
			if (j == RM_SNMP_PEERS_MAX)
				continue;
			if (j == s->n_last_peers)
				s->n_last_peers++;
			copy_field(s->last_peer[j].node, sizeof s->last_peer[j].node, p->node,
				   sizeof p->node);
			s->last_peer[j].up = 0; /* a peer first seen up has joined */
		}
		int up = p->state == 1, was = s->last_peer[j].up;
		if (p->state == 3)
			continue; /* syncing: neither */
		if (up != was) {
			k.n = 0;
			peer_row(&k, p, 2, i);
			peer_row(&k, p, 3, i);
			peer_row(&k, p, 4, i);
			log_info("snmp: notification %s for cluster peer %s",
				 up ? "rmPeerUp" : "rmPeerDown", p->node);
			fn(arg, up ? 7 : 6, vb, 3);
		}
		s->last_peer[j].up = up;
	}
}

/* rmL3LimitReached for l (how: for the log). */
static void l3_notify(struct snmp_limit *l, const char *how, rm_snmp_notify_fn fn, void *arg)
{
	snmpsub_value_t vb[3];
	struct sink k = { vb, 3, 0 };

	put_str(&k, l->tenant, OID(4, 1, 0));
	put_str(&k, l->profile, OID(4, 2, 0));
	put_num(&k, SNMPSUB_GAUGE32, l->l3, OID(4, 3, 0));
	log_info("snmp: notification rmL3LimitReached for tenant %s profile %s (%d, %s)",
		 l->tenant, l->profile[0] ? l->profile : "-", l->l3, how);
	fn(arg, 4, vb, 3);
}

void rm_snmp_limit_reached(struct rm_snmp *s, const struct rm_snmp_limit_event *ev,
			   rm_snmp_notify_fn fn, void *arg)
{
	/* route raises one edge per reach (again only after the count fell below):
	 * each is one notification; a limit not in the current config (a reload raced
	 * the event) is not told */
	for (size_t i = 0; i < s->n_limits; i++) {
		struct snmp_limit *l = &s->limits[i];
		if (strcmp(l->tenant, ev->tenant) == 0 && strcmp(l->profile, ev->profile) == 0) {
			l3_notify(l, "at admission", fn, arg);
			return;
		}
	}
}

static void send_notify(void *arg, uint32_t notif, const snmpsub_value_t *vars, size_t n);

void rm_snmp_limit_notify(struct rm_snmp *s, const struct rm_snmp_limit_event *ev)
{
	rm_snmp_limit_reached(s, ev, send_notify, s);
}

void rm_snmp_check(struct rm_snmp *s, rm_snmp_notify_fn fn, void *arg)
{
	snmpsub_value_t vb[3];
	struct sink k = { vb, 3, 0 };

	for (size_t i = 0; i < s->n_mcps; i++) {
		struct snmp_mcp *m = &s->mcps[i];
		int up = mcp_up(s, m);
		if (up >= 0 && m->last_up >= 0 && up != m->last_up) {
			k.n = 0;
			mcp_row(s, &k, 2, i);
			mcp_row(s, &k, 3, i);
			mcp_row(s, &k, 4, i);
			log_info("snmp: notification %s for MCP %s", up ? "rmMcpUp" : "rmMcpDown",
				 m->uri);
			fn(arg, up ? 2 : 1, vb, 3);
		}
		if (up >= 0)
			m->last_up = up;
	}
	for (size_t i = 0; i < s->n_lrgs; i++) {
		struct snmp_lrg *g = &s->lrgs[i];
		int up = (int)lrg_up(s, g);
		if (up == 0 && g->last_up > 0) {
			k.n = 0;
			lrg_row(s, &k, 2, i);
			lrg_row(s, &k, 4, i);
			lrg_row(s, &k, 5, i);
			log_info("snmp: notification rmLrgAllDown for group %s", g->name);
			fn(arg, 3, vb, 3);
		}
		g->last_up = up;
	}
	int hw = metric_value(s->m.spool_high_water) >= 1;
	if (hw && s->last_spool_hw == 0) {
		k.n = 0;
		put_num(&k, SNMPSUB_GAUGE32, num_of(s->m.spool_depth), OID(1, 9, 0));
		int64_t pct = num_of(s->m.spool_usage_percent);
		put_num(&k, SNMPSUB_GAUGE32, pct > 100 ? 100 : pct, OID(1, 10, 0));
		log_info("snmp: notification rmSpoolHighWater");
		fn(arg, 5, vb, 2);
	}
	s->last_spool_hw = hw;
	check_peers(s, fn, arg);
}

static void send_notify(void *arg, uint32_t notif, const snmpsub_value_t *vars, size_t n)
{
	struct rm_snmp *s = arg;

	if (s->ax)
		snmpsub_notify(s->ax, notif, vars, n);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	rm_snmp_check(arg, send_notify, arg);
}

/* ---- configuration ----------------------------------------------------------------- */

static void tables_free(struct rm_snmp *s)
{
	for (size_t i = 0; i < s->n_lrgs; i++)
		free(s->lrgs[i].members);
	free(s->lrgs);
	free(s->mcps);
	free(s->limits);
	s->lrgs = NULL;
	s->mcps = NULL;
	s->limits = NULL;
	s->n_lrgs = s->n_mcps = s->n_limits = 0;
}

static int tables_build(struct rm_snmp *s, const struct rm_config *cfg)
{
	size_t total = 0;

	for (size_t g = 0; g < cfg->n_lrgs; g++)
		total += cfg->lrgs[g].n_members;
	s->mcps = calloc(total ? total : 1, sizeof *s->mcps);
	s->lrgs = calloc(cfg->n_lrgs ? cfg->n_lrgs : 1, sizeof *s->lrgs);
	s->limits = calloc(cfg->n_profiles + cfg->n_tenants + 1, sizeof *s->limits);
	if (!s->mcps || !s->lrgs || !s->limits)
		return -1;
	for (size_t g = 0; g < cfg->n_lrgs; g++) {
		const struct rm_lrg *cl = &cfg->lrgs[g];
		struct snmp_lrg *sl = &s->lrgs[s->n_lrgs++];
		snprintf(sl->name, sizeof sl->name, "%s", cl->name);
		snprintf(sl->scheme, sizeof sl->scheme, "%s", rm_scheme_name(cl->scheme));
		sl->last_up = -1;
		sl->members = calloc(cl->n_members ? cl->n_members : 1, sizeof *sl->members);
		if (!sl->members)
			return -1;
		for (size_t j = 0; j < cl->n_members; j++) {
			const struct rm_member *mb = &cl->members[j];
			size_t i;
			for (i = 0; i < s->n_mcps; i++)
				if (strcmp(s->mcps[i].uri, mb->uri) == 0)
					break;
			struct snmp_mcp *m = &s->mcps[i];
			if (i == s->n_mcps) {
				s->n_mcps++;
				snprintf(m->uri, sizeof m->uri, "%s", mb->uri);
				m->last_up = -1;
			}
			size_t gl = strlen(m->group);
			snprintf(m->group + gl, sizeof m->group - gl, "%s%s", gl ? "," : "",
				 cl->name);
			if (mb->max_ports > m->max_ports)
				m->max_ports = mb->max_ports;
			sl->members[sl->n_members++] = i;
		}
	}
	for (size_t i = 0; i < cfg->n_profiles; i++) {
		const struct rm_profile *p = &cfg->profiles[i];
		if (p->limits.l3 <= 0)
			continue;
		struct snmp_limit *l = &s->limits[s->n_limits++];
		snprintf(l->tenant, sizeof l->tenant, "%s", p->tenant);
		snprintf(l->profile, sizeof l->profile, "%s", p->name);
		l->l3 = p->limits.l3;
	}
	for (size_t i = 0; i < cfg->n_tenants; i++) {
		const struct rm_tenant *t = &cfg->tenants[i];
		if (t->limits.l3 <= 0)
			continue;
		struct snmp_limit *l = &s->limits[s->n_limits++];
		snprintf(l->tenant, sizeof l->tenant, "%s", t->name);
		l->l3 = t->limits.l3;
	}
	return 0;
}

struct rm_snmp *rm_snmp_new(struct event_base *base, metrics_t *metrics)
{
	struct rm_snmp *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	s->base = base;
	if (rm_metrics_init(&s->m, metrics) < 0) {
		free(s);
		return NULL;
	}
	s->last_spool_hw = -1;
	return s;
}

static void agent_stop(struct rm_snmp *s)
{
	if (s->timer) {
		event_free(s->timer);
		s->timer = NULL;
	}
	snmpsub_stop(s->ax);
	s->ax = NULL;
	s->master[0] = s->root[0] = '\0';
}

int rm_snmp_configure(struct rm_snmp *s, const struct rm_config *cfg, char *err, size_t errlen)
{
	char root[sizeof s->root];

	tables_free(s);
	if (tables_build(s, cfg) < 0) {
		tables_free(s);
		snprintf(err, errlen, "snmp: out of memory building the MIB tables");
		return -1;
	}
	snprintf(root, sizeof root, "%s.1", cfg->snmp_base_oid);
	/* net-snmp keeps its registrations across snmp_shutdown, so a second subagent in
	 * one process cannot register the subtree again: the session is set at start. */
	if (s->configured) {
		if (cfg->snmp_enabled != (s->ax != NULL) ||
		    (s->ax && (strcmp(s->master, cfg->snmp_master) != 0 ||
			       strcmp(s->root, root) != 0)))
			log_warn("reload: snmp.enabled/master/base_oid changes need a restart; "
				 "ignored (tables are updated)");
		return 0;
	}
	s->configured = true;
	if (!cfg->snmp_enabled)
		return 0;
	if (!s->base) {
		snprintf(err, errlen, "snmp: no event loop");
		return -1;
	}
	s->ax = snmpsub_start(s->base, "rm", cfg->snmp_master, root, collect_cb, s, err, errlen);
	if (!s->ax)
		return -1;
	snprintf(s->master, sizeof s->master, "%s", cfg->snmp_master);
	snprintf(s->root, sizeof s->root, "%s", root);
	s->timer = event_new(s->base, -1, EV_PERSIST, on_timer, s);
	struct timeval tv = { 0, RM_SNMP_CHECK_MS * 1000 };
	if (!s->timer || event_add(s->timer, &tv) < 0) {
		agent_stop(s);
		snprintf(err, errlen, "snmp: cannot arm the notification timer");
		return -1;
	}
	return 0;
}

int rm_snmp_connected(const struct rm_snmp *s)
{
	return s && s->ax ? snmpsub_connected(s->ax) : 0;
}

void rm_snmp_free(struct rm_snmp *s)
{
	if (!s)
		return;
	agent_stop(s);
	tables_free(s);
	free(s);
}
