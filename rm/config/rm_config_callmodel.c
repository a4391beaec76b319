/* rm_config_callmodel: the call model: "lrgs", "tenants", "profiles", "dnis", "default_profile". */
#include "rm_config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cfg.h"

static int load_lrg(cfg_ctx_t *c, const cJSON *o, size_t idx, struct rm_lrg *g)
{
	static const char *const known[] = {"name", "scheme", "members", NULL};
	static const char *const mknown[] = {"uri", "max_ports", "weight", NULL};
	char w[RM_NAME_MAX + 32], mw[RM_NAME_MAX + 64], tmp[32];
	int scheme;

	if (!cJSON_IsObject(o)) {
		snprintf(tmp, sizeof(tmp), "lrgs[%zu]", idx);
		return cfg_fail(c, "", tmp, "expected an object");
	}
	snprintf(tmp, sizeof(tmp), "lrgs[%zu]", idx);
	if (rmc_read_name(c, o, tmp, "name", g->name) != 0)
		return -1;
	rmc_where_fmt(w, sizeof(w), "lrg", g->name);
	cfg_no_unknown(c, o, w, known);
	cfg_enum(c, o, w, "scheme", false, RM_SCHEME_ROUND_ROBIN, rmc_scheme_names, &scheme);
	g->scheme = (enum rm_scheme)scheme;
	const cJSON *m = cfg_array(c, o, w, "members", true);
	if (c->failed)
		return -1;
	if (!cJSON_IsArray(m))
		return cfg_fail(c, w, "members", "expected an array");
	size_t n = (size_t)cJSON_GetArraySize(m);
	if (n == 0)
		return cfg_fail(c, w, "members", "must list at least one MCP");
	g->members = calloc(n, sizeof(*g->members));
	if (!g->members)
		return cfg_fail(c, w, "members", "out of memory");
	g->n_members = n;
	size_t i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, m)
	{
		struct rm_member *mb = &g->members[i];
		long long mp, wt;
		snprintf(mw, sizeof(mw), "%s.members[%zu]", w, i);
		if (!cJSON_IsObject(e))
			return cfg_fail(c, w, mw + strlen(w) + 1, "expected an object");
		cfg_no_unknown(c, e, mw, mknown);
		cfg_str(c, e, mw, "uri", true, NULL, mb->uri, sizeof(mb->uri));
		cfg_int(c, e, mw, "max_ports", false, 100, 1, 1000000, &mp);
		cfg_int(c, e, mw, "weight", false, 1, 1, 1000, &wt);
		if (c->failed)
			return -1;
		if (!rmc_is_sip_uri(mb->uri))
			return cfg_fail(c, mw, "uri", "expected a sip: URI; got \"%s\"", mb->uri);
		for (size_t j = 0; j < i; j++)
			if (strcmp(g->members[j].uri, mb->uri) == 0)
				return cfg_fail(c, mw, "uri", "duplicate member \"%s\"",
						mb->uri);
		mb->max_ports = (int)mp;
		mb->weight = (int)wt;
		i++;
	}
	return 0;
}

int rmc_load_lrgs(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
{
	const cJSON *a = cfg_array(c, root, "", "lrgs", true);
	if (c->failed)
		return -1;
	if (!cJSON_IsArray(a))
		return cfg_fail(c, "", "lrgs", "expected an array");
	size_t n = (size_t)cJSON_GetArraySize(a);
	if (n == 0)
		return cfg_fail(c, "", "lrgs", "must define at least one group");
	cfg->lrgs = calloc(n, sizeof(*cfg->lrgs));
	if (!cfg->lrgs)
		return cfg_fail(c, "", "lrgs", "out of memory");
	size_t i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, a)
	{
		cfg->n_lrgs = i + 1; /* so rm_config_free sees partial members */
		if (load_lrg(c, e, i, &cfg->lrgs[i]) != 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(cfg->lrgs[j].name, cfg->lrgs[i].name) == 0) {
				char w[RM_NAME_MAX + 16];
				rmc_where_fmt(w, sizeof(w), "lrg", cfg->lrgs[i].name);
				return cfg_fail(c, w, "name", "duplicate group name");
			}
		i++;
	}
	/* One MCP listed in two groups must state the same capacity: ports are a
	 * property of the server, not of the group. */
	for (size_t g = 0; g < cfg->n_lrgs; g++)
		for (size_t m = 0; m < cfg->lrgs[g].n_members; m++)
			for (size_t h = 0; h < g; h++)
				for (size_t k = 0; k < cfg->lrgs[h].n_members; k++) {
					const struct rm_member *a1 = &cfg->lrgs[g].members[m];
					const struct rm_member *b1 = &cfg->lrgs[h].members[k];
					if (strcmp(a1->uri, b1->uri) == 0 &&
					    a1->max_ports != b1->max_ports) {
						char w[RM_NAME_MAX + 64];
						snprintf(w, sizeof(w), "lrg \"%s\".members[%zu]",
							 cfg->lrgs[g].name, m);
						return cfg_fail(c, w, "max_ports",
								"%d differs from %d given for "
								"the same MCP in lrg \"%s\"",
								a1->max_ports, b1->max_ports,
								cfg->lrgs[h].name);
					}
				}
	return 0;
}

static int add_tenant(cfg_ctx_t *c, struct rm_config *cfg, size_t *cap, const char *name,
		      bool implicit)
{
	if (cfg->n_tenants == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct rm_tenant *nt = realloc(cfg->tenants, nc * sizeof(*nt));
		if (!nt)
			return cfg_fail(c, "", "tenants", "out of memory");
		cfg->tenants = nt;
		*cap = nc;
	}
	struct rm_tenant *t = &cfg->tenants[cfg->n_tenants++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->implicit = implicit;
	return 0;
}

int rmc_load_tenants(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg,
		     size_t *cap)
{
	static const char *const known[] = {"name", "profile", "limits", NULL};
	const cJSON *a = cfg_array(c, root, "", "tenants", false);
	if (c->failed)
		return -1;
	if (!a)
		return 0;
	if (!cJSON_IsArray(a))
		return cfg_fail(c, "", "tenants", "expected an array");
	size_t i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, a)
	{
		char tmp[32], w[RM_NAME_MAX + 16], name[RM_NAME_MAX];
		snprintf(tmp, sizeof(tmp), "tenants[%zu]", i);
		if (!cJSON_IsObject(e))
			return cfg_fail(c, "", tmp, "expected an object");
		if (rmc_read_name(c, e, tmp, "name", name) != 0)
			return -1;
		rmc_where_fmt(w, sizeof(w), "tenant", name);
		if (rm_config_tenant(cfg, name))
			return cfg_fail(c, w, "name", "duplicate tenant name");
		if (add_tenant(c, cfg, cap, name, false) != 0)
			return -1;
		struct rm_tenant *t = &cfg->tenants[cfg->n_tenants - 1];
		cfg_no_unknown(c, e, w, known);
		cfg_str(c, e, w, "profile", false, "", t->profile, sizeof(t->profile));
		if (rmc_read_limits(c, e, w, &t->limits) != 0)
			return -1;
		i++;
	}
	return c->failed ? -1 : 0;
}

int rmc_load_profiles(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg,
		      size_t *tcap)
{
	static const char *const known[] = {"name", "id", "tenant", "service_type", "lrg",
					    "limits", NULL};
	const cJSON *a = cfg_array(c, root, "", "profiles", true);
	if (c->failed)
		return -1;
	if (!cJSON_IsArray(a))
		return cfg_fail(c, "", "profiles", "expected an array");
	size_t n = (size_t)cJSON_GetArraySize(a);
	if (n == 0)
		return cfg_fail(c, "", "profiles", "must define at least one profile");
	cfg->profiles = calloc(n, sizeof(*cfg->profiles));
	if (!cfg->profiles)
		return cfg_fail(c, "", "profiles", "out of memory");
	size_t i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, a)
	{
		struct rm_profile *p = &cfg->profiles[i];
		char tmp[32], w[RM_NAME_MAX + 16];
		snprintf(tmp, sizeof(tmp), "profiles[%zu]", i);
		if (!cJSON_IsObject(e))
			return cfg_fail(c, "", tmp, "expected an object");
		if (rmc_read_name(c, e, tmp, "name", p->name) != 0)
			return -1;
		rmc_where_fmt(w, sizeof(w), "profile", p->name);
		if (rm_config_profile(cfg, p->name))
			return cfg_fail(c, w, "name", "duplicate profile name");
		cfg_no_unknown(c, e, w, known);
		cfg_str(c, e, w, "id", false, "", p->id, sizeof(p->id));
		cfg_str(c, e, w, "tenant", false, "default", p->tenant, sizeof(p->tenant));
		cfg_str(c, e, w, "service_type", false, "voicexml", p->service_type,
			sizeof(p->service_type));
		if (rmc_read_name(c, e, w, "lrg", p->lrg) != 0)
			return -1;
		if (rmc_read_limits(c, e, w, &p->limits) != 0)
			return -1;
		if (!p->tenant[0])
			return cfg_fail(c, w, "tenant", "must not be empty");
		const struct rm_lrg *g = rm_config_lrg(cfg, p->lrg);
		if (!g)
			return cfg_fail(c, w, "lrg", "unknown lrg \"%s\"", p->lrg);
		p->lrg_index = (size_t)(g - cfg->lrgs);
		if (p->id[0])
			for (size_t j = 0; j < i; j++)
				if (strcmp(cfg->profiles[j].id, p->id) == 0)
					return cfg_fail(c, w, "id",
							"duplicate id \"%s\" (also profile \"%s\")",
							p->id, cfg->profiles[j].name);
		const struct rm_tenant *t = rm_config_tenant(cfg, p->tenant);
		if (!t) {
			if (add_tenant(c, cfg, tcap, p->tenant, true) != 0)
				return -1;
			t = &cfg->tenants[cfg->n_tenants - 1];
		}
		p->tenant_index = (size_t)(t - cfg->tenants);
		cfg->n_profiles = ++i;
	}
	/* A tenant's own profile must exist and belong to it. */
	for (size_t k = 0; k < cfg->n_tenants; k++) {
		const struct rm_tenant *t = &cfg->tenants[k];
		char w[RM_NAME_MAX + 16];
		if (!t->profile[0])
			continue;
		rmc_where_fmt(w, sizeof(w), "tenant", t->name);
		const struct rm_profile *p = rm_config_profile(cfg, t->profile);
		if (!p)
			return cfg_fail(c, w, "profile", "unknown profile \"%s\"", t->profile);
		if (strcmp(p->tenant, t->name) != 0)
			return cfg_fail(c, w, "profile",
					"profile \"%s\" belongs to tenant \"%s\"", p->name,
					p->tenant);
	}
	return 0;
}

int rmc_load_dnis(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
{
	const cJSON *o = cfg_object(c, root, "", "dnis", false);
	char dp[RM_NAME_MAX];

	if (c->failed)
		return -1;
	if (o) {
		if (!cJSON_IsObject(o))
			return cfg_fail(c, "", "dnis",
					"expected an object mapping DNIS to profile name");
		size_t n = (size_t)cJSON_GetArraySize(o);
		cfg->dnis = calloc(n ? n : 1, sizeof(*cfg->dnis));
		if (!cfg->dnis)
			return cfg_fail(c, "", "dnis", "out of memory");
		const cJSON *e;
		cJSON_ArrayForEach(e, o)
		{
			char key[RM_NAME_MAX + 16];
			snprintf(key, sizeof(key), "\"%.*s\"", RM_NAME_MAX, e->string);
			if (!e->string[0])
				return cfg_fail(c, "dnis", key, "empty DNIS");
			if (strlen(e->string) >= RM_NAME_MAX)
				return cfg_fail(c, "dnis", key, "longer than %d characters",
						RM_NAME_MAX - 1);
			if (!cJSON_IsString(e))
				return cfg_fail(c, "dnis", key, "expected a profile name");
			const struct rm_profile *p = rm_config_profile(cfg, e->valuestring);
			if (!p)
				return cfg_fail(c, "dnis", key, "unknown profile \"%s\"",
						e->valuestring);
			for (size_t j = 0; j < cfg->n_dnis; j++)
				if (strcmp(cfg->dnis[j].dnis, e->string) == 0)
					return cfg_fail(c, "dnis", key, "duplicate DNIS");
			struct rm_dnis *d = &cfg->dnis[cfg->n_dnis++];
			snprintf(d->dnis, sizeof(d->dnis), "%s", e->string);
			d->profile_index = (size_t)(p - cfg->profiles);
		}
	}

	if (cfg_str(c, root, "", "default_profile", false, "", dp, sizeof(dp)) != 0)
		return -1;
	if (dp[0]) {
		const struct rm_profile *p = rm_config_profile(cfg, dp);
		if (!p)
			return cfg_fail(c, "", "default_profile", "unknown profile \"%s\"", dp);
		cfg->has_default_profile = true;
		cfg->default_profile = (size_t)(p - cfg->profiles);
	}
	return 0;
}
