/* route: profile selection, admission, MCP selection and health (contract in route.h). */
#include "route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

struct route_member {
	struct route_mcp *mcp; /* borrowed: the state holds the reference */
	int weight;
	int cw; /* smooth weighted round robin: current weight */
};

struct route_lrg {
	char name[RM_NAME_MAX];
	enum rm_scheme scheme;
	struct route_member *members;
	size_t n_members;
	size_t cursor; /* next member to consider first (round-robin, tie rotation) */
};

struct route_dnis {
	char dnis[RM_NAME_MAX];
	struct route_profile *profile; /* borrowed */
};

/* Everything that a reload replaces as a unit. Objects in the pointer arrays carry
 * one reference each, owned by the state. */
struct route_tables {
	struct route_mcp **mcps;
	size_t n_mcps;
	struct route_lrg *lrgs;
	size_t n_lrgs;
	struct route_tenant **tenants;
	size_t n_tenants;
	struct route_profile **profiles;
	size_t n_profiles;
	struct route_dnis *dnis; /* sorted by dnis for bsearch */
	size_t n_dnis;
	struct route_profile *def;
};

struct route_state {
	struct route_tables tb;
	unsigned next_mcp_id;
};

static const char *const by_names[] = {"tenant-param", "profile-id", "profile-name", "dnis",
				       "default"};

const char *route_level_name(enum route_level l)
{
	const char *name = record_usage_level_name((int)l); /* the record's names */

	return name ? name : l == ROUTE_LEVEL_NONE ? "none" : "?";
}

const char *route_by_name(enum route_by b)
{
	return (int)b >= 0 && b <= ROUTE_BY_DEFAULT ? by_names[b] : "?";
}

/* ---- reference counting ----------------------------------------------------------- */

static void mcp_unref(struct route_mcp *m)
{
	if (m && --m->refs == 0)
		free(m);
}

static void tenant_unref(struct route_tenant *t)
{
	if (t && --t->refs == 0)
		free(t);
}

static void profile_unref(struct route_profile *p)
{
	if (p && --p->refs == 0)
		free(p);
}

/* ---- building tables from a config ------------------------------------------------ */

static void tables_free_arrays(struct route_tables *tb)
{
	for (size_t i = 0; i < tb->n_lrgs; i++)
		free(tb->lrgs[i].members);
	free(tb->lrgs);
	free(tb->mcps);
	free(tb->tenants);
	free(tb->profiles);
	free(tb->dnis);
	memset(tb, 0, sizeof(*tb));
}

static struct route_mcp *find_mcp(struct route_mcp **v, size_t n, const char *uri)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i]->uri, uri) == 0)
			return v[i];
	return NULL;
}

static struct route_tenant *find_tenant(struct route_tenant **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i]->name, name) == 0)
			return v[i];
	return NULL;
}

static struct route_profile *find_profile(struct route_profile **v, size_t n,
					  const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i]->name, name) == 0)
			return v[i];
	return NULL;
}

static int dnis_cmp(const void *a, const void *b)
{
	return strcmp(((const struct route_dnis *)a)->dnis, ((const struct route_dnis *)b)->dnis);
}

/* The arrays of nt, sized for cfg. 0, or -1 out of memory (tables_free_arrays frees
 * what was allocated). */
static int tables_alloc(struct route_tables *nt, const struct rm_config *cfg)
{
	size_t cap = 0;

	for (size_t g = 0; g < cfg->n_lrgs; g++)
		cap += cfg->lrgs[g].n_members;
	nt->mcps = calloc(cap ? cap : 1, sizeof(*nt->mcps));
	nt->lrgs = calloc(cfg->n_lrgs ? cfg->n_lrgs : 1, sizeof(*nt->lrgs));
	nt->tenants = calloc(cfg->n_tenants ? cfg->n_tenants : 1, sizeof(*nt->tenants));
	nt->profiles = calloc(cfg->n_profiles ? cfg->n_profiles : 1, sizeof(*nt->profiles));
	nt->dnis = calloc(cfg->n_dnis ? cfg->n_dnis : 1, sizeof(*nt->dnis));
	return nt->mcps && nt->lrgs && nt->tenants && nt->profiles && nt->dnis ? 0 : -1;
}

/* The MCP of uri: already in nt, else the one of old (kept with its state), else a
 * new one (up, id assigned at commit), added to nt. NULL out of memory. */
static struct route_mcp *mcp_for(const struct route_tables *old, struct route_tables *nt,
				 const char *uri)
{
	struct route_mcp *m = find_mcp(nt->mcps, nt->n_mcps, uri);
	if (m)
		return m;
	m = old ? find_mcp(old->mcps, old->n_mcps, uri) : NULL;
	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m)
			return NULL;
		m->refs = 1;
		m->id = 0; /* assigned at commit */
		m->up = true;
		m->last_rtt_us = -1;
		snprintf(m->uri, sizeof(m->uri), "%s", uri);
	}
	nt->mcps[nt->n_mcps++] = m;
	return m;
}

/* Resource group g of cfg into nt->lrgs[g], its members linked to their MCPs. */
static int build_lrg(const struct route_tables *old, const struct rm_config *cfg,
		     struct route_tables *nt, size_t g)
{
	const struct rm_lrg *cl = &cfg->lrgs[g];
	struct route_lrg *l = &nt->lrgs[g];

	nt->n_lrgs = g + 1;
	snprintf(l->name, sizeof(l->name), "%s", cl->name);
	l->scheme = cl->scheme;
	l->members = calloc(cl->n_members, sizeof(*l->members));
	if (!l->members)
		return -1;
	l->n_members = cl->n_members;
	for (size_t i = 0; i < cl->n_members; i++) {
		struct route_mcp *m = mcp_for(old, nt, cl->members[i].uri);
		if (!m)
			return -1;
		l->members[i].mcp = m;
		l->members[i].weight = cl->members[i].weight;
	}
	return 0;
}

/* Tenants and profiles of cfg: the objects of old with the same name (their usage
 * counters carry over), else new ones. */
static int build_tenants_profiles(const struct route_tables *old, const struct rm_config *cfg,
				  struct route_tables *nt)
{
	for (size_t i = 0; i < cfg->n_tenants; i++) {
		const char *name = cfg->tenants[i].name;
		struct route_tenant *t = old ? find_tenant(old->tenants, old->n_tenants, name)
					     : NULL;
		if (!t) {
			t = calloc(1, sizeof(*t));
			if (!t)
				return -1;
			t->refs = 1;
			snprintf(t->name, sizeof(t->name), "%s", name);
		}
		nt->tenants[nt->n_tenants++] = t;
	}
	for (size_t i = 0; i < cfg->n_profiles; i++) {
		const char *name = cfg->profiles[i].name;
		struct route_profile *p =
			old ? find_profile(old->profiles, old->n_profiles, name) : NULL;
		if (!p) {
			p = calloc(1, sizeof(*p));
			if (!p)
				return -1;
			p->refs = 1;
			snprintf(p->name, sizeof(p->name), "%s", name);
		}
		nt->profiles[nt->n_profiles++] = p;
	}
	return 0;
}

/* After a failed build: free only what this build created (objects not in old),
 * then nt's arrays. */
static void tables_undo(const struct route_tables *old, struct route_tables *nt)
{
	for (size_t i = 0; i < nt->n_mcps; i++)
		if (!old || !find_mcp(old->mcps, old->n_mcps, nt->mcps[i]->uri))
			free(nt->mcps[i]);
	for (size_t i = 0; i < nt->n_tenants; i++)
		if (!old || !find_tenant(old->tenants, old->n_tenants, nt->tenants[i]->name))
			free(nt->tenants[i]);
	for (size_t i = 0; i < nt->n_profiles; i++)
		if (!old ||
		    !find_profile(old->profiles, old->n_profiles, nt->profiles[i]->name))
			free(nt->profiles[i]);
	tables_free_arrays(nt);
}

/*
 * Allocate the new tables for cfg. Objects that exist in `old` are reused (same
 * pointer; the state's reference carries over); new objects start with refs = 1 and
 * a failure frees them again (tables_undo). Config fields are written
 * later, by commit, so nothing shared changes until success is certain.
 */
static int tables_build(const struct route_tables *old, const struct rm_config *cfg,
			struct route_tables *nt)
{
	memset(nt, 0, sizeof(*nt));
	if (tables_alloc(nt, cfg) < 0)
		goto fail;
	for (size_t g = 0; g < cfg->n_lrgs; g++)
		if (build_lrg(old, cfg, nt, g) < 0)
			goto fail;
	if (build_tenants_profiles(old, cfg, nt) < 0)
		goto fail;
	return 0;
fail:
	tables_undo(old, nt);
	return -1;
}

/* Write config fields into the (new or reused) objects and resolve cross links. */
static void tables_commit(struct route_tables *nt, const struct rm_config *cfg,
			  unsigned *next_id)
{
	for (size_t i = 0; i < nt->n_mcps; i++) {
		if (nt->mcps[i]->id == 0)
			nt->mcps[i]->id = ++*next_id;
		nt->mcps[i]->max_ports = 0;
		nt->mcps[i]->retired = false;
	}
	for (size_t g = 0; g < cfg->n_lrgs; g++)
		for (size_t i = 0; i < cfg->lrgs[g].n_members; i++) {
			struct route_mcp *m = nt->lrgs[g].members[i].mcp;
			if (cfg->lrgs[g].members[i].max_ports > m->max_ports)
				m->max_ports = cfg->lrgs[g].members[i].max_ports;
		}
	for (size_t i = 0; i < nt->n_tenants; i++) {
		struct route_tenant *t = nt->tenants[i];
		t->limits = cfg->tenants[i].limits;
		t->at_l3 = false; /* a new limit: its first reach is told */
		t->retired = false;
		t->default_profile = NULL;
	}
	for (size_t i = 0; i < nt->n_profiles; i++) {
		const struct rm_profile *cp = &cfg->profiles[i];
		struct route_profile *p = nt->profiles[i];
		snprintf(p->id, sizeof(p->id), "%s", cp->id);
		snprintf(p->service_type, sizeof(p->service_type), "%s", cp->service_type);
		p->limits = cp->limits;
		p->at_l3 = false;
		p->tenant = nt->tenants[cp->tenant_index];
		p->lrg = &nt->lrgs[cp->lrg_index];
		p->retired = false;
		/* A tenant without an explicit profile gets its first one. */
		if (!p->tenant->default_profile && !cfg->tenants[cp->tenant_index].profile[0])
			p->tenant->default_profile = p;
	}
	for (size_t i = 0; i < nt->n_tenants; i++)
		if (cfg->tenants[i].profile[0])
			nt->tenants[i]->default_profile =
				find_profile(nt->profiles, nt->n_profiles, cfg->tenants[i].profile);
	for (size_t i = 0; i < cfg->n_dnis; i++) {
		snprintf(nt->dnis[i].dnis, sizeof(nt->dnis[i].dnis), "%s", cfg->dnis[i].dnis);
		nt->dnis[i].profile = nt->profiles[cfg->dnis[i].profile_index];
	}
	nt->n_dnis = cfg->n_dnis;
	qsort(nt->dnis, nt->n_dnis, sizeof(*nt->dnis), dnis_cmp);
	nt->def = cfg->has_default_profile ? nt->profiles[cfg->default_profile] : NULL;
}

/* Drop the state's reference to every object of `old` that is not in `keep` (NULL =
 * keep nothing), marking it retired first, then free old's arrays. */
static void tables_retire(struct route_tables *old, const struct route_tables *keep)
{
	for (size_t i = 0; i < old->n_mcps; i++) {
		struct route_mcp *m = old->mcps[i];
		if (keep && find_mcp(keep->mcps, keep->n_mcps, m->uri) == m)
			continue;
		m->retired = true;
		m->up = false;
		mcp_unref(m);
	}
	for (size_t i = 0; i < old->n_tenants; i++) {
		struct route_tenant *t = old->tenants[i];
		if (keep && find_tenant(keep->tenants, keep->n_tenants, t->name) == t)
			continue;
		t->retired = true;
		t->default_profile = NULL;
		tenant_unref(t);
	}
	for (size_t i = 0; i < old->n_profiles; i++) {
		struct route_profile *p = old->profiles[i];
		if (keep && find_profile(keep->profiles, keep->n_profiles, p->name) == p)
			continue;
		p->retired = true;
		p->tenant = NULL;
		p->lrg = NULL;
		profile_unref(p);
	}
	tables_free_arrays(old);
}

struct route_state *route_state_new(const struct rm_config *cfg, char *err, size_t errlen)
{
	struct route_state *st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(err, errlen, "route: out of memory");
		return NULL;
	}
	if (route_state_reload(st, cfg, err, errlen) != 0) {
		free(st);
		return NULL;
	}
	return st;
}

void route_state_free(struct route_state *st)
{
	if (!st)
		return;
	tables_retire(&st->tb, NULL);
	free(st);
}

int route_state_reload(struct route_state *st, const struct rm_config *cfg, char *err,
		       size_t errlen)
{
	struct route_tables nt;
	if (tables_build(&st->tb, cfg, &nt) != 0) {
		snprintf(err, errlen, "route: out of memory while loading %s",
			 cfg->file[0] ? cfg->file : "the config");
		return -1;
	}
	tables_commit(&nt, cfg, &st->next_mcp_id);
	tables_retire(&st->tb, &nt);
	st->tb = nt;
	return 0;
}

/* ---- profile selection ------------------------------------------------------------ */

static bool present(const char *s)
{
	return s && s[0];
}

int route_select(const struct route_state *st, const struct route_request *rq,
		 struct route_match *m)
{
	const struct route_tables *tb = &st->tb;
	memset(m, 0, sizeof(*m));
	m->strip_tenant_param = rq->tenant_param != NULL;

	if (present(rq->tenant_param)) {
		struct route_tenant *t = find_tenant(tb->tenants, tb->n_tenants, rq->tenant_param);
		if (t && t->default_profile) {
			m->profile = t->default_profile;
			m->by = ROUTE_BY_TENANT_PARAM;
			return 0;
		}
	}
	if (present(rq->profile_id)) {
		for (size_t i = 0; i < tb->n_profiles; i++)
			if (tb->profiles[i]->id[0] &&
			    strcmp(tb->profiles[i]->id, rq->profile_id) == 0) {
				m->profile = tb->profiles[i];
				m->by = ROUTE_BY_PROFILE_ID;
				return 0;
			}
	}
	if (present(rq->profile_name)) {
		struct route_profile *p =
			find_profile(tb->profiles, tb->n_profiles, rq->profile_name);
		if (p) {
			m->profile = p;
			m->by = ROUTE_BY_PROFILE_NAME;
			return 0;
		}
	}
	if (present(rq->ruri_user) && tb->n_dnis &&
	    strlen(rq->ruri_user) < RM_NAME_MAX) {
		struct route_dnis key;
		snprintf(key.dnis, sizeof(key.dnis), "%s", rq->ruri_user);
		const struct route_dnis *d =
			bsearch(&key, tb->dnis, tb->n_dnis, sizeof(*tb->dnis), dnis_cmp);
		if (d) {
			m->profile = d->profile;
			m->by = ROUTE_BY_DNIS;
			return 0;
		}
	}
	if (tb->def) {
		m->profile = tb->def;
		m->by = ROUTE_BY_DEFAULT;
		return 0;
	}
	return -1;
}

/* ---- admission -------------------------------------------------------------------- */

/* The cluster usage hook (route.h): set once before the SIP thread starts, read only
 * afterwards, so a plain static is enough. */
static struct route_usage_hook usage_hook;

void route_set_usage_hook(const struct route_usage_hook *h)
{
	if (h)
		usage_hook = *h;
	else
		memset(&usage_hook, 0, sizeof usage_hook);
}

static int usage_remote(enum route_usage_kind k, const char *name)
{
	int n = usage_hook.remote ? usage_hook.remote(usage_hook.arg, k, name) : 0;

	return n > 0 ? n : 0;
}

static struct route_limit_hook limit_hook;

void route_set_limit_hook(const struct route_limit_hook *h)
{
	if (h)
		limit_hook = *h;
	else
		memset(&limit_hook, 0, sizeof limit_hook);
}

/* The limit was reached (route_limit_hook): tell it once per reach. */
static void limit_edge(bool *at, const char *tenant, const char *profile, int l3)
{
	if (*at || l3 <= 0)
		return;
	*at = true;
	if (limit_hook.reached)
		limit_hook.reached(limit_hook.arg, tenant, profile, l3);
}

/* Strict mode: has this node's own count reached its share of l's hard limit? */
static bool over_share(int local, const struct rm_limits *l)
{
	return usage_hook.share && l->l3 > 0 && local >= usage_hook.share(usage_hook.arg, l->l3);
}

static void usage_local(enum route_usage_kind k, const char *name, int delta)
{
	if (usage_hook.local && name && name[0])
		usage_hook.local(usage_hook.arg, k, name, delta);
}

/* Level a new call would enter at, given `count` calls already admitted; NONE when
 * the hard limit is reached. */
static enum route_level level_for(int count, const struct rm_limits *l)
{
	if (l->l3 == 0)
		return ROUTE_LEVEL_L1;
	if (count >= l->l3)
		return ROUTE_LEVEL_NONE;
	if (count < l->l1)
		return ROUTE_LEVEL_L1;
	if (count < l->l2)
		return ROUTE_LEVEL_L2;
	return ROUTE_LEVEL_L3;
}

enum rm_refuse route_admit(struct route_state *st, struct route_profile *p, bool draining,
			   struct route_ticket *t)
{
	(void)st;
	memset(t, 0, sizeof(*t));
	if (!p || p->retired || !p->tenant)
		return RM_REFUSE_NO_PROFILE;
	if (draining) {
		p->refused++;
		return RM_REFUSE_DRAINING;
	}
	enum route_level pl =
		level_for(p->active + usage_remote(ROUTE_USAGE_PROFILE, p->name), &p->limits);
	if (pl == ROUTE_LEVEL_NONE || over_share(p->active, &p->limits)) {
		p->refused++;
		limit_edge(&p->at_l3, p->tenant->name, p->name, p->limits.l3);
		return RM_REFUSE_PROFILE_LIMIT;
	}
	struct route_tenant *tn = p->tenant;
	int tn_remote = usage_remote(ROUTE_USAGE_TENANT, tn->name);
	enum route_level tl = level_for(tn->active + tn_remote, &tn->limits);
	if (tl == ROUTE_LEVEL_NONE || over_share(tn->active, &tn->limits)) {
		p->refused++;
		tn->refused++;
		limit_edge(&tn->at_l3, tn->name, "", tn->limits.l3);
		return RM_REFUSE_TENANT_LIMIT;
	}
	p->active++;
	p->admitted++;
	p->refs++;
	tn->active++;
	tn->admitted++;
	tn->refs++;
	/* this call took the last one under a hard limit */
	if (p->limits.l3 > 0 && p->active + usage_remote(ROUTE_USAGE_PROFILE, p->name) >= p->limits.l3)
		limit_edge(&p->at_l3, tn->name, p->name, p->limits.l3);
	if (tn->limits.l3 > 0 && tn->active + tn_remote >= tn->limits.l3)
		limit_edge(&tn->at_l3, tn->name, "", tn->limits.l3);
	t->profile = p;
	t->tenant = tn;
	t->profile_level = pl;
	t->tenant_level = tl;
	t->level = pl > tl ? pl : tl;
	snprintf(t->lrg, sizeof t->lrg, "%s", route_profile_lrg_name(p));
	usage_local(ROUTE_USAGE_PROFILE, p->name, +1);
	usage_local(ROUTE_USAGE_TENANT, tn->name, +1);
	usage_local(ROUTE_USAGE_LRG, t->lrg, +1);
	return RM_REFUSE_NONE;
}

/* route_hold (route.h): route_admit + route_pick's counting, without their checks. */
bool route_hold(struct route_state *st, const char *profile, const char *mcp_uri,
		struct route_ticket *t)
{
	struct route_profile *p = route_profile_find(st, profile);
	struct route_mcp *m = route_mcp_find(st, mcp_uri ? mcp_uri : "");

	memset(t, 0, sizeof(*t));
	if (!p || p->retired || !p->tenant)
		return false;
	p->active++;
	p->refs++;
	p->tenant->active++;
	p->tenant->refs++;
	t->profile = p;
	t->tenant = p->tenant;
	snprintf(t->lrg, sizeof t->lrg, "%s", route_profile_lrg_name(p));
	usage_local(ROUTE_USAGE_PROFILE, p->name, +1);
	usage_local(ROUTE_USAGE_TENANT, p->tenant->name, +1);
	usage_local(ROUTE_USAGE_LRG, t->lrg, +1);
	if (m) {
		m->active++;
		m->refs++;
		usage_local(ROUTE_USAGE_MCP, m->uri, +1);
		t->mcp = m;
	}
	return true;
}

/* ---- MCP selection ---------------------------------------------------------------- */

static bool tried(const struct route_ticket *t, unsigned id)
{
	for (int i = 0; i < t->n_tried; i++)
		if (t->tried[i] == id)
			return true;
	return false;
}

/* least-percent: is a strictly less loaded than b (active/max_ports)? */
static bool less_percent(const struct route_mcp *a, const struct route_mcp *b)
{
	return (int64_t)a->active * b->max_ports < (int64_t)b->active * a->max_ports;
}

/* A failover pick (the ticket already tried an MCP) leaves the group's rotation
 * state alone: otherwise one MCP that refuses everything would make every call start
 * on it, and the round-robin / weighted shares would follow the failures. */
static struct route_member *pick_member(struct route_lrg *l, const struct route_ticket *t,
					bool *any_up)
{
	const bool first = t->n_tried == 0;
	struct route_member *best = NULL;
	size_t best_i = 0;
	int total = 0;

	*any_up = false;
	for (size_t k = 0; k < l->n_members; k++) {
		size_t i = (l->cursor + k) % l->n_members;
		struct route_member *mb = &l->members[i];
		struct route_mcp *m = mb->mcp;
		if (!m->up || tried(t, m->id))
			continue;
		*any_up = true;
		if (m->active + usage_remote(ROUTE_USAGE_MCP, m->uri) >= m->max_ports)
			continue;
		switch (l->scheme) {
		case RM_SCHEME_ROUND_ROBIN:
			if (!best)
				best = mb, best_i = i;
			break;
		case RM_SCHEME_LEAST_USED:
			if (!best || m->active < best->mcp->active)
				best = mb, best_i = i;
			break;
		case RM_SCHEME_LEAST_PERCENT:
			if (!best || less_percent(m, best->mcp))
				best = mb, best_i = i;
			break;
		case RM_SCHEME_WEIGHTED:
			/* nginx's smooth weighted round robin, over eligible members. */
			if (!first) {
				if (!best || mb->cw + mb->weight > best->cw + best->weight)
					best = mb, best_i = i;
				break;
			}
			mb->cw += mb->weight;
			total += mb->weight;
			if (!best || mb->cw > best->cw)
				best = mb, best_i = i;
			break;
		}
		if (l->scheme == RM_SCHEME_ROUND_ROBIN && best)
			break;
	}
	if (!best || !first)
		return best;
	if (l->scheme == RM_SCHEME_WEIGHTED)
		best->cw -= total;
	else
		l->cursor = (best_i + 1) % l->n_members;
	return best;
}

enum rm_refuse route_pick(struct route_state *st, struct route_ticket *t)
{
	(void)st;
	route_release_mcp(t);
	if (!t->profile || !t->profile->lrg || t->n_tried >= RM_MAX_ATTEMPTS)
		return RM_REFUSE_NO_MCP_UP;
	bool any_up;
	struct route_member *mb = pick_member(t->profile->lrg, t, &any_up);
	if (!mb)
		return any_up ? RM_REFUSE_MCP_CAPACITY : RM_REFUSE_NO_MCP_UP;
	struct route_mcp *m = mb->mcp;
	m->active++;
	m->refs++;
	m->picks++;
	usage_local(ROUTE_USAGE_MCP, m->uri, +1);
	t->mcp = m;
	t->tried[t->n_tried++] = m->id;
	t->attempts++;
	return RM_REFUSE_NONE;
}

void route_release_mcp(struct route_ticket *t)
{
	if (!t->mcp)
		return;
	t->mcp->active--;
	usage_local(ROUTE_USAGE_MCP, t->mcp->uri, -1);
	mcp_unref(t->mcp);
	t->mcp = NULL;
}

void route_release(struct route_ticket *t)
{
	route_release_mcp(t);
	if (t->profile) {
		struct route_profile *p = t->profile;
		p->active--;
		usage_local(ROUTE_USAGE_PROFILE, p->name, -1);
		if (p->at_l3 && p->active + usage_remote(ROUTE_USAGE_PROFILE, p->name) < p->limits.l3)
			p->at_l3 = false; /* below again: the next reach is told */
		profile_unref(p);
	}
	if (t->tenant) {
		struct route_tenant *tn = t->tenant;
		tn->active--;
		usage_local(ROUTE_USAGE_TENANT, tn->name, -1);
		if (tn->at_l3 && tn->active + usage_remote(ROUTE_USAGE_TENANT, tn->name) < tn->limits.l3)
			tn->at_l3 = false;
		tenant_unref(tn);
	}
	if (t->profile || t->tenant)
		usage_local(ROUTE_USAGE_LRG, t->lrg, -1);
	memset(t, 0, sizeof(*t));
}

/* ---- accessors -------------------------------------------------------------------- */

size_t route_mcp_count(const struct route_state *st)
{
	return st->tb.n_mcps;
}

struct route_mcp *route_mcp_at(const struct route_state *st, size_t i)
{
	return i < st->tb.n_mcps ? st->tb.mcps[i] : NULL;
}

struct route_mcp *route_mcp_find(const struct route_state *st, const char *uri)
{
	return find_mcp(st->tb.mcps, st->tb.n_mcps, uri);
}

size_t route_mcp_up_count(const struct route_state *st)
{
	size_t n = 0;
	for (size_t i = 0; i < st->tb.n_mcps; i++)
		n += st->tb.mcps[i]->up && st->tb.mcps[i]->probed;
	return n;
}

size_t route_profile_count(const struct route_state *st)
{
	return st->tb.n_profiles;
}

struct route_profile *route_profile_at(const struct route_state *st, size_t i)
{
	return i < st->tb.n_profiles ? st->tb.profiles[i] : NULL;
}

struct route_profile *route_profile_find(const struct route_state *st, const char *name)
{
	return find_profile(st->tb.profiles, st->tb.n_profiles, name);
}

size_t route_tenant_count(const struct route_state *st)
{
	return st->tb.n_tenants;
}

struct route_tenant *route_tenant_at(const struct route_state *st, size_t i)
{
	return i < st->tb.n_tenants ? st->tb.tenants[i] : NULL;
}

const char *route_profile_lrg_name(const struct route_profile *p)
{
	return p && p->lrg ? p->lrg->name : "";
}

int route_gvp_session_id(char *out, size_t outlen, const char *uuid, const char *tenant)
{
	int n = snprintf(out, outlen, "%s;gvp.rm.datanodes=1;gvp.rm.tenant-id=%s",
			 uuid ? uuid : "", tenant ? tenant : "");
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen)
			out[0] = '\0';
		return -1;
	}
	return n;
}
