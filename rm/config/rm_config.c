/* rm_config: load and validate rm's JSON configuration (contract in rm_config.h). */
#include "rm_config.h"
#include "rm_config_robust.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cfg.h"
#include "sip_trust.h"

static const char *const scheme_names[] = {"round-robin", "least-used", "least-percent",
					   "weighted", NULL};
static const char *const refuse_names[] = {"none",	   "profile-limit", "tenant-limit",
					   "no-mcp-up",	   "mcp-capacity",  "draining",
					   "no-profile",   "overload",	    NULL};
static const char *const billing_names[] = {"stomp", "spool-only", "off", NULL};
static const char *const level_names[] = {"error", "warn", "info", "debug", NULL};

const char *rm_scheme_name(enum rm_scheme s)
{
	if ((int)s < 0 || s > RM_SCHEME_WEIGHTED)
		return "?";
	return scheme_names[s];
}

const char *rm_refuse_name(enum rm_refuse r)
{
	if ((int)r < 0 || r >= RM_REFUSE_COUNT)
		return "?";
	return refuse_names[r];
}

const char *rm_billing_mode_name(enum rm_billing_mode m)
{
	if ((int)m < 0 || m > RM_BILLING_OFF)
		return "?";
	return billing_names[m];
}

/* ---- small helpers ---------------------------------------------------------------- */

static void where_fmt(char *out, size_t len, const char *kind, const char *name)
{
	snprintf(out, len, "%s \"%s\"", kind, name);
}

static bool is_sip_uri(const char *s)
{
	return (strncmp(s, "sip:", 4) == 0 && s[4]) || (strncmp(s, "sips:", 5) == 0 && s[5]);
}

/* A required, non-empty name. */
static int read_name(cfg_ctx_t *c, const cJSON *o, const char *where, const char *key,
		     char *out)
{
	if (cfg_str(c, o, where, key, true, NULL, out, RM_NAME_MAX) != 0)
		return -1;
	if (!out[0])
		return cfg_fail(c, where, key, "must not be empty");
	return 0;
}

/* An array of strings into a malloc'd array of fixed-size slots. Absent: one default
 * entry (def) or none (def NULL). */
static int read_str_list(cfg_ctx_t *c, const cJSON *obj, const char *where, const char *key,
			 const char *def, size_t slot, char **out, size_t *n)
{
	const cJSON *a = cfg_array(c, obj, where, key, false);
	*out = NULL;
	*n = 0;
	if (c->failed)
		return -1;
	if (!a) {
		if (!def)
			return 0;
		*out = calloc(1, slot);
		if (!*out)
			return cfg_fail(c, where, key, "out of memory");
		snprintf(*out, slot, "%s", def);
		*n = 1;
		return 0;
	}
	if (!cJSON_IsArray(a))
		return cfg_fail(c, where, key, "expected an array");
	size_t cnt = (size_t)cJSON_GetArraySize(a);
	*out = calloc(cnt ? cnt : 1, slot);
	if (!*out)
		return cfg_fail(c, where, key, "out of memory");
	size_t i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, a)
	{
		if (!cJSON_IsString(e))
			return cfg_fail(c, where, key, "item %zu: expected a string", i);
		if (strlen(e->valuestring) >= slot)
			return cfg_fail(c, where, key, "item %zu: longer than %zu characters", i,
					slot - 1);
		memcpy(*out + i * slot, e->valuestring, strlen(e->valuestring) + 1);
		i++;
	}
	*n = i;
	return 0;
}

static int read_limits(cfg_ctx_t *c, const cJSON *owner, const char *where,
		       struct rm_limits *l)
{
	static const char *const known[] = {"l1", "l2", "l3", NULL};
	char w[RM_NAME_MAX + 64];
	long long l1, l2, l3;

	memset(l, 0, sizeof(*l));
	const cJSON *o = cfg_object(c, owner, where, "limits", false);
	if (c->failed || !o)
		return c->failed ? -1 : 0;
	snprintf(w, sizeof(w), "%s.limits", where);
	cfg_no_unknown(c, o, w, known);
	cfg_int(c, o, w, "l3", false, 0, 0, 10000000, &l3);
	cfg_int(c, o, w, "l2", false, l3, 0, 10000000, &l2);
	cfg_int(c, o, w, "l1", false, l2, 0, 10000000, &l1);
	if (c->failed)
		return -1;
	if (l3 == 0) {
		if (l1 || l2)
			return cfg_fail(c, w, "l3",
					"is 0 (unlimited) but l1/l2 are set; set l3 too");
	} else {
		if (l1 < 1)
			return cfg_fail(c, w, "l1", "must be at least 1 when l3 is set");
		if (l2 < l1)
			return cfg_fail(c, w, "l2", "must be >= l1 (%lld); got %lld", l1, l2);
		if (l3 < l2)
			return cfg_fail(c, w, "l3", "must be >= l2 (%lld); got %lld", l2, l3);
	}
	l->l1 = (int)l1;
	l->l2 = (int)l2;
	l->l3 = (int)l3;
	return 0;
}

/* ---- sections --------------------------------------------------------------------- */

/* sip.trusted (CIDR list) and sip.untrusted (reject|drop). */
static int load_sip_trust(cfg_ctx_t *c, const cJSON *o, struct rm_config *cfg)
{
	char untrusted[16], err[160], *buf;
	size_t n;
	struct sip_trust_entry e;

	if (read_str_list(c, o, "sip", "trusted", NULL, RM_CIDR_MAX, &buf, &n) != 0) {
		free(buf);
		return -1;
	}
	cfg->sip_trusted = (char(*)[RM_CIDR_MAX])buf;
	cfg->n_sip_trusted = n;
	for (size_t i = 0; i < n; i++)
		if (sip_trust_parse_cidr(cfg->sip_trusted[i], &e, err, sizeof err) < 0)
			return cfg_fail(c, "sip", "trusted", "item %zu: %s", i, err);
	cfg_str(c, o, "sip", "untrusted", false, "reject", untrusted, sizeof untrusted);
	if (c->failed)
		return -1;
	if (strcmp(untrusted, "drop") == 0)
		cfg->sip_untrusted_drop = true;
	else if (strcmp(untrusted, "reject") != 0)
		return cfg_fail(c, "sip", "untrusted", "expected one of reject, drop; got \"%s\"",
				untrusted);
	return 0;
}

static int load_sip(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
{
	static const char *const known[] = {"listen", "port", "transports", "sip_servers",
					    "advertise", "trusted", "untrusted", "dns",
					    "udp_rmem", "udp_wmem", NULL};
	const cJSON *o = cfg_object(c, root, "", "sip", false);
	long long port;
	char *buf;
	size_t n;

	cfg_no_unknown(c, o, "sip", known);
	cfg_str(c, o, "sip", "listen", false, "127.0.0.1", cfg->sip_listen,
		sizeof(cfg->sip_listen));
	/* A bare IPv6 address gets brackets: SIP URIs (and sofia's bind) want "[::1]". */
	n = strlen(cfg->sip_listen);
	if (strchr(cfg->sip_listen, ':') && cfg->sip_listen[0] != '[' &&
	    n + 2 < sizeof(cfg->sip_listen)) {
		memmove(cfg->sip_listen + 1, cfg->sip_listen, n);
		cfg->sip_listen[0] = '[';
		cfg->sip_listen[n + 1] = ']';
		cfg->sip_listen[n + 2] = '\0';
	}
	cfg_str(c, o, "sip", "advertise", false, "", cfg->sip_advertise,
		sizeof(cfg->sip_advertise));
	cfg_int(c, o, "sip", "port", false, 5060, 1, 65535, &port);
	cfg->sip_port = (int)port;
	cfg_int(c, o, "sip", "udp_rmem", false, 4 << 20, 65536, 1 << 30, &port);
	cfg->sip_udp_rmem = (int)port;
	cfg_int(c, o, "sip", "udp_wmem", false, 4 << 20, 65536, 1 << 30, &port);
	cfg->sip_udp_wmem = (int)port;
	if (c->failed)
		return -1;

	if (read_str_list(c, o, "sip", "transports", NULL, 8, &buf, &n) != 0) {
		free(buf);
		return -1;
	}
	if (!buf || n == 0) {
		cfg->sip_udp = cfg->sip_tcp = true;
		if (buf) {
			free(buf);
			return cfg_fail(c, "sip", "transports", "must not be empty");
		}
	}
	for (size_t i = 0; i < n; i++) {
		const char *t = buf + i * 8;
		if (strcmp(t, "udp") == 0)
			cfg->sip_udp = true;
		else if (strcmp(t, "tcp") == 0)
			cfg->sip_tcp = true;
		else {
			cfg_fail(c, "sip", "transports",
				 "expected one of udp, tcp; got \"%s\"", t);
			free(buf);
			return -1;
		}
	}
	free(buf);

	if (read_str_list(c, o, "sip", "sip_servers", "sip:127.0.0.1:5090", RM_URI_MAX, &buf,
			  &n) != 0) {
		free(buf);
		return -1;
	}
	cfg->sip_servers = (char(*)[RM_URI_MAX])buf;
	cfg->n_sip_servers = n;
	if (n == 0)
		return cfg_fail(c, "sip", "sip_servers", "must not be empty");
	for (size_t i = 0; i < n; i++)
		if (!is_sip_uri(cfg->sip_servers[i]))
			return cfg_fail(c, "sip", "sip_servers",
					"item %zu: expected a sip: URI; got \"%s\"", i,
					cfg->sip_servers[i]);
	return load_sip_trust(c, o, cfg);
}

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
	if (read_name(c, o, tmp, "name", g->name) != 0)
		return -1;
	where_fmt(w, sizeof(w), "lrg", g->name);
	cfg_no_unknown(c, o, w, known);
	cfg_enum(c, o, w, "scheme", false, RM_SCHEME_ROUND_ROBIN, scheme_names, &scheme);
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
		if (!is_sip_uri(mb->uri))
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

static int load_lrgs(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
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
				where_fmt(w, sizeof(w), "lrg", cfg->lrgs[i].name);
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

static int load_tenants(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg,
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
		if (read_name(c, e, tmp, "name", name) != 0)
			return -1;
		where_fmt(w, sizeof(w), "tenant", name);
		if (rm_config_tenant(cfg, name))
			return cfg_fail(c, w, "name", "duplicate tenant name");
		if (add_tenant(c, cfg, cap, name, false) != 0)
			return -1;
		struct rm_tenant *t = &cfg->tenants[cfg->n_tenants - 1];
		cfg_no_unknown(c, e, w, known);
		cfg_str(c, e, w, "profile", false, "", t->profile, sizeof(t->profile));
		if (read_limits(c, e, w, &t->limits) != 0)
			return -1;
		i++;
	}
	return c->failed ? -1 : 0;
}

static int load_profiles(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg,
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
		if (read_name(c, e, tmp, "name", p->name) != 0)
			return -1;
		where_fmt(w, sizeof(w), "profile", p->name);
		if (rm_config_profile(cfg, p->name))
			return cfg_fail(c, w, "name", "duplicate profile name");
		cfg_no_unknown(c, e, w, known);
		cfg_str(c, e, w, "id", false, "", p->id, sizeof(p->id));
		cfg_str(c, e, w, "tenant", false, "default", p->tenant, sizeof(p->tenant));
		cfg_str(c, e, w, "service_type", false, "voicexml", p->service_type,
			sizeof(p->service_type));
		if (read_name(c, e, w, "lrg", p->lrg) != 0)
			return -1;
		if (read_limits(c, e, w, &p->limits) != 0)
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
		where_fmt(w, sizeof(w), "tenant", t->name);
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

static int load_dnis(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
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

static int read_reject(cfg_ctx_t *c, const cJSON *o, const char *where,
		       const struct rm_reject *def, struct rm_reject *out)
{
	static const char *const known[] = {"code", "retry_after", "reasons", NULL};
	static const char *const rknown[] = {"code", "retry_after", NULL};
	long long code, ra;
	cfg_no_unknown(c, o, where, def ? rknown : known);
	cfg_int(c, o, where, "code", false, def ? def->code : 503, 400, 699, &code);
	cfg_int(c, o, where, "retry_after", false, def ? def->retry_after : 30, 0, 86400, &ra);
	out->code = (int)code;
	out->retry_after = (int)ra;
	return c->failed ? -1 : 0;
}

static int load_reject(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
{
	const cJSON *o = cfg_object(c, root, "", "reject", false);
	if (read_reject(c, o, "reject", NULL, &cfg->reject[RM_REFUSE_NONE]) != 0)
		return -1;
	for (int r = 1; r < RM_REFUSE_COUNT; r++)
		cfg->reject[r] = cfg->reject[RM_REFUSE_NONE];
	const cJSON *rs = cfg_object(c, o, "reject", "reasons", false);
	if (c->failed)
		return -1;
	if (!rs)
		return 0;
	if (cfg_no_unknown(c, rs, "reject.reasons", refuse_names + 1) != 0)
		return -1;
	for (int r = 1; r < RM_REFUSE_COUNT; r++) {
		char w[64];
		snprintf(w, sizeof(w), "reject.reasons.%s", refuse_names[r]);
		const cJSON *ro = cfg_object(c, rs, "reject.reasons", refuse_names[r], false);
		if (c->failed)
			return -1;
		if (ro && read_reject(c, ro, w, &cfg->reject[RM_REFUSE_NONE], &cfg->reject[r]))
			return -1;
	}
	return 0;
}

static int load_failover(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
{
	static const char *const known[] = {"codes", "on_timeout", "max_attempts",
					    "attempt_timeout_ms", NULL};
	static const int def_codes[] = {408, 500, 503};
	const cJSON *o = cfg_object(c, root, "", "failover", false);
	long long ma, to;

	cfg_no_unknown(c, o, "failover", known);
	cfg_bool(c, o, "failover", "on_timeout", false, true, &cfg->failover_on_timeout);
	cfg_int(c, o, "failover", "max_attempts", false, 3, 1, RM_MAX_ATTEMPTS, &ma);
	cfg_int(c, o, "failover", "attempt_timeout_ms", false, 2000, 100, 120000, &to);
	const cJSON *a = cfg_array(c, o, "failover", "codes", false);
	if (c->failed)
		return -1;
	cfg->max_attempts = (int)ma;
	cfg->attempt_timeout_ms = (int)to;
	if (!a) {
		cfg->failover_codes = malloc(sizeof(def_codes));
		if (!cfg->failover_codes)
			return cfg_fail(c, "failover", "codes", "out of memory");
		memcpy(cfg->failover_codes, def_codes, sizeof(def_codes));
		cfg->n_failover_codes = 3;
		return 0;
	}
	if (!cJSON_IsArray(a))
		return cfg_fail(c, "failover", "codes", "expected an array of SIP codes");
	size_t n = (size_t)cJSON_GetArraySize(a);
	cfg->failover_codes = calloc(n ? n : 1, sizeof(int));
	if (!cfg->failover_codes)
		return cfg_fail(c, "failover", "codes", "out of memory");
	const cJSON *e;
	cJSON_ArrayForEach(e, a)
	{
		if (!cJSON_IsNumber(e) || e->valuedouble != (double)(int)e->valuedouble ||
		    e->valueint < 300 || e->valueint > 699)
			return cfg_fail(c, "failover", "codes",
					"item %zu: expected a SIP code 300..699",
					cfg->n_failover_codes);
		cfg->failover_codes[cfg->n_failover_codes++] = e->valueint;
	}
	return 0;
}

/* After load_reject: an overload refusal defaults to 503 with a short Retry-After
 * (2 s: the SIP Server retries soon, spread by its own timers), not the section's. */
static int load_overload(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
{
	static const char *const known[] = {"max_cps", "max_pending", "lag_ms", NULL};
	const cJSON *o = cfg_object(c, root, "", "overload", false);
	const cJSON *rj = cJSON_GetObjectItemCaseSensitive(root, "reject");
	const cJSON *rs = rj ? cJSON_GetObjectItemCaseSensitive(rj, "reasons") : NULL;
	long long v;

	cfg_no_unknown(c, o, "overload", known);
	cfg_int(c, o, "overload", "max_cps", false, -1, -1, 1000000, &v);
	cfg->overload_max_cps = (int)v;
	cfg_int(c, o, "overload", "max_pending", false, 1000, 0, 10000000, &v);
	cfg->overload_max_pending = (int)v;
	cfg_int(c, o, "overload", "lag_ms", false, 200, 10, 60000, &v);
	cfg->overload_lag_ms = (int)v;
	if (!rs || !cJSON_GetObjectItemCaseSensitive(rs, "overload"))
		cfg->reject[RM_REFUSE_OVERLOAD] = (struct rm_reject){ 503, 2 };
	return c->failed ? -1 : 0;
}

static int load_misc(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
{
	static const char *const mknown[] = {"interval_ms", "timeout_ms", "failures_to_down",
					     "successes_to_up", NULL};
	static const char *const sknown[] = {"max_duration_s", "drain_timeout_s",
					     "keepalive_s", "ack_timeout_ms", NULL};
	static const char *const hknown[] = {"listen", "port", "watchdog_s", NULL};
	static const char *const lknown[] = {"level", "file", "json", "rate_per_s", NULL};
	long long v;
	int e;

	const cJSON *o = cfg_object(c, root, "", "monitor", false);
	cfg_no_unknown(c, o, "monitor", mknown);
	cfg_int(c, o, "monitor", "interval_ms", false, 2000, 50, 3600000, &v);
	cfg->monitor_interval_ms = (int)v;
	cfg_int(c, o, "monitor", "timeout_ms", false, 1000, 10, 3600000, &v);
	cfg->monitor_timeout_ms = (int)v;
	cfg_int(c, o, "monitor", "failures_to_down", false, 3, 1, 1000, &v);
	cfg->monitor_failures_to_down = (int)v;
	cfg_int(c, o, "monitor", "successes_to_up", false, 2, 1, 1000, &v);
	cfg->monitor_successes_to_up = (int)v;

	o = cfg_object(c, root, "", "session", false);
	cfg_no_unknown(c, o, "session", sknown);
	cfg_int(c, o, "session", "max_duration_s", false, 14400, 0, 7 * 86400, &v);
	cfg->max_duration_s = (int)v;
	cfg_int(c, o, "session", "drain_timeout_s", false, 60, 0, 86400, &v);
	cfg->drain_timeout_s = (int)v;
	cfg_int(c, o, "session", "ack_timeout_ms", false, 32000, 1000, 300000, &v);
	cfg->ack_timeout_ms = (int)v;

	o = cfg_object(c, root, "", "http", false);
	cfg_no_unknown(c, o, "http", hknown);
	cfg_str(c, o, "http", "listen", false, "127.0.0.1", cfg->http_listen,
		sizeof(cfg->http_listen));
	cfg_int(c, o, "http", "port", false, 8300, 1, 65535, &v);
	cfg->http_port = (int)v;

	o = cfg_object(c, root, "", "logging", false);
	cfg_no_unknown(c, o, "logging", lknown);
	cfg_enum(c, o, "logging", "level", false, 2, level_names, &e);
	if (!c->failed)
		snprintf(cfg->log_level, sizeof(cfg->log_level), "%s", level_names[e]);
	cfg_str(c, o, "logging", "file", false, "-", cfg->log_file, sizeof(cfg->log_file));
	cfg_bool(c, o, "logging", "json", false, false, &cfg->log_json);
	return c->failed ? -1 : 0;
}

/* Environment variable var, when set, replaces billing.<key> (credentials come from
 * a Secret, not from the config file). */
static int billing_env(cfg_ctx_t *c, const char *key, const char *var, char *out,
		       size_t cap)
{
	const char *v = getenv(var);

	if (!v)
		return 0;
	if (strlen(v) >= cap)
		return cfg_fail(c, "billing", key, "%s is longer than %zu characters", var,
				cap - 1);
	snprintf(out, cap, "%s", v);
	return 0;
}

static int load_billing(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
{
	static const char *const known[] = {"mode",	 "endpoints",	    "destination",
					    "spool_dir", "spool_max_bytes", "login",
					    "passcode",  "tls",		    NULL};
	const cJSON *o = cfg_object(c, root, "", "billing", false);
	int mode;
	char *buf;
	size_t n;

	cfg_no_unknown(c, o, "billing", known);
	cfg_enum(c, o, "billing", "mode", false, RM_BILLING_STOMP, billing_names, &mode);
	cfg->billing_mode = (enum rm_billing_mode)mode;
	cfg_str(c, o, "billing", "destination", false, "/queue/gvp.cdr",
		cfg->billing_destination, sizeof(cfg->billing_destination));
	cfg_str(c, o, "billing", "spool_dir", false, "/var/spool/rm", cfg->billing_spool_dir,
		sizeof(cfg->billing_spool_dir));
	cfg_int(c, o, "billing", "spool_max_bytes", false, 1073741824LL, 4096,
		(long long)1 << 50, &cfg->billing_spool_max_bytes);
	cfg_str(c, o, "billing", "login", false, "", cfg->billing_login,
		sizeof(cfg->billing_login));
	cfg_str(c, o, "billing", "passcode", false, "", cfg->billing_passcode,
		sizeof(cfg->billing_passcode));
	if (!c->failed && (billing_env(c, "login", "RM_BILLING_LOGIN", cfg->billing_login,
				       sizeof(cfg->billing_login)) ||
			   billing_env(c, "passcode", "RM_BILLING_PASSCODE",
				       cfg->billing_passcode, sizeof(cfg->billing_passcode))))
		return -1;
	tls_config_defaults(&cfg->billing_tls, TLS_CLIENT);
	tls_config_read(c, o, "billing", "tls", TLS_CLIENT, &cfg->billing_tls);
	if (c->failed)
		return -1;
	if (read_str_list(c, o, "billing", "endpoints", "127.0.0.1:61616", RM_HOST_MAX, &buf,
			  &n) != 0) {
		free(buf);
		return -1;
	}
	cfg->billing_endpoints = (char(*)[RM_HOST_MAX])buf;
	cfg->n_billing_endpoints = n;
	for (size_t i = 0; i < n; i++) {
		const char *ep = cfg->billing_endpoints[i];
		const char *colon = strrchr(ep, ':');
		char *end;
		long port = colon ? strtol(colon + 1, &end, 10) : 0;
		if (!colon || colon == ep || !colon[1] || *end || port < 1 || port > 65535)
			return cfg_fail(c, "billing", "endpoints",
					"item %zu: expected \"host:port\"; got \"%s\"", i, ep);
	}
	if (cfg->billing_mode == RM_BILLING_STOMP && n == 0)
		return cfg_fail(c, "billing", "endpoints", "mode stomp needs an endpoint");
	if (cfg->billing_mode != RM_BILLING_OFF && !cfg->billing_spool_dir[0])
		return cfg_fail(c, "billing", "spool_dir", "must not be empty");
	return 0;
}

/* "host:port" with a port 1..65535 and a non-empty host. */
static bool is_host_port(const char *ep)
{
	const char *colon = strrchr(ep, ':');
	char *end;
	long port = colon ? strtol(colon + 1, &end, 10) : 0;

	return colon && colon != ep && colon[1] && !*end && port >= 1 && port <= 65535;
}

/* cluster: peering on 9801 is not implemented yet; the keys the helm chart renders
 * are accepted and validated so that a config written for it loads unchanged. */
static int load_cluster(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
{
	static const char *const known[] = {"listen", "port", "peers", NULL};
	const cJSON *o = cfg_object(c, root, "", "cluster", false);
	long long port;
	char *buf = NULL;
	size_t n = 0;

	cfg->cluster_present = o != NULL;
	cfg_no_unknown(c, o, "cluster", known);
	cfg_str(c, o, "cluster", "listen", false, "0.0.0.0", cfg->cluster_listen,
		sizeof(cfg->cluster_listen));
	cfg_int(c, o, "cluster", "port", false, 9801, 1, 65535, &port);
	cfg->cluster_port = (int)port;
	if (c->failed)
		return -1;
	if (!cfg->cluster_listen[0])
		return cfg_fail(c, "cluster", "listen", "must not be empty");
	if (read_str_list(c, o, "cluster", "peers", NULL, RM_HOST_MAX, &buf, &n) != 0) {
		free(buf);
		return -1;
	}
	cfg->cluster_peers = (char(*)[RM_HOST_MAX])buf;
	cfg->n_cluster_peers = n;
	for (size_t i = 0; i < n; i++)
		if (!is_host_port(cfg->cluster_peers[i]))
			return cfg_fail(c, "cluster", "peers",
					"item %zu: expected \"host:port\"; got \"%s\"", i,
					cfg->cluster_peers[i]);
	return 0;
}

/* snmp.base_oid: 2..15 dotted unsigned 32-bit numbers, e.g. 1.3.6.1.4.1.99999.1
 * (rm serves BASE.1 and snmpsub roots have at most 16 parts). */
static bool is_base_oid(const char *s)
{
	int parts = 0;

	while (*s) {
		char *end;
		if (*s < '0' || *s > '9')
			return false;
		errno = 0;
		unsigned long long v = strtoull(s, &end, 10);
		if (errno || v > 4294967295ULL)
			return false;
		parts++;
		if (*end == '.' && end[1])
			end++;
		else if (*end)
			return false;
		s = end;
	}
	return parts >= 2 && parts <= 15;
}

static int load_snmp(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
{
	static const char *const known[] = {"enabled", "master", "base_oid", NULL};
	const cJSON *o = cfg_object(c, root, "", "snmp", false);

	cfg_no_unknown(c, o, "snmp", known);
	cfg_bool(c, o, "snmp", "enabled", false, false, &cfg->snmp_enabled);
	cfg_str(c, o, "snmp", "master", false, "tcp:127.0.0.1:1705", cfg->snmp_master,
		sizeof(cfg->snmp_master));
	cfg_str(c, o, "snmp", "base_oid", false, "1.3.6.1.4.1.99999.1", cfg->snmp_base_oid,
		sizeof(cfg->snmp_base_oid));
	if (c->failed)
		return -1;
	if (!cfg->snmp_master[0])
		return cfg_fail(c, "snmp", "master", "must not be empty");
	if (!is_base_oid(cfg->snmp_base_oid))
		return cfg_fail(c, "snmp", "base_oid",
				"expected a dotted numeric OID such as 1.3.6.1.4.1.99999.1; "
				"got \"%s\"", cfg->snmp_base_oid);
	return 0;
}

bool rm_config_is_wildcard(const char *host)
{
	return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
	       strcmp(host, "[::]") == 0 || strcmp(host, "*") == 0;
}

/* RM_NODE_NAME (set by the helm chart to the pod name) replaces "node"; POD_IP is the
 * advertised SIP host when sip.listen is a wildcard and sip.advertise is not set. */
static int apply_env(cfg_ctx_t *c, struct rm_config *cfg)
{
	const char *env = getenv("RM_NODE_NAME");
	const char *pod_ip = getenv("POD_IP");

	if (!cfg->sip_advertise[0]) {
		const char *host = cfg->sip_listen;
		if (rm_config_is_wildcard(host) && pod_ip && *pod_ip)
			host = pod_ip;
		if (strlen(host) >= sizeof(cfg->sip_advertise))
			return cfg_fail(c, "sip", "advertise", "POD_IP is too long");
		snprintf(cfg->sip_advertise, sizeof(cfg->sip_advertise), "%s", host);
	}

	if (!env || !*env)
		return 0;
	if (strlen(env) >= sizeof(cfg->node))
		return cfg_fail(c, "", "node", "RM_NODE_NAME is longer than %zu characters",
				sizeof(cfg->node) - 1);
	snprintf(cfg->node, sizeof(cfg->node), "%s", env);
	return 0;
}

static int load_root(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
{
	static const char *const known[] = {"node",	 "sip",	    "lrgs",	"tenants",
					    "profiles", "dnis",	    "default_profile",
					    "reject",	 "failover", "monitor", "session",
					    "http",	 "billing",  "logging", "cluster",
					    "snmp",
					    "overload",
					    NULL};
	size_t tcap = 0;

	if (!cJSON_IsObject(root))
		return cfg_fail(c, "", "", "expected a JSON object at the top level");
	if (cfg_no_unknown(c, root, "", known) != 0)
		return -1;
	if (cfg_str(c, root, "", "node", false, "rm-1", cfg->node, sizeof(cfg->node)) != 0)
		return -1;
	if (!cfg->node[0])
		return cfg_fail(c, "", "node", "must not be empty");
	if (load_sip(c, root, cfg) || load_lrgs(c, root, cfg) ||
	    load_tenants(c, root, cfg, &tcap) || load_profiles(c, root, cfg, &tcap) ||
	    load_dnis(c, root, cfg) || load_reject(c, root, cfg) ||
	    load_failover(c, root, cfg) || load_misc(c, root, cfg) ||
	    load_overload(c, root, cfg) ||
	    load_billing(c, root, cfg) || load_cluster(c, root, cfg) ||
	    load_snmp(c, root, cfg) || apply_env(c, cfg) ||
	    rm_config_load_robust(c, root, cfg))
		return -1;
	return 0;
}

/* ---- public ----------------------------------------------------------------------- */

static int finish(cfg_ctx_t *c, cJSON *root, const char *name, struct rm_config *cfg)
{
	int rc = load_root(c, root, cfg);
	cJSON_Delete(root);
	if (rc != 0 || c->failed) {
		rm_config_free(cfg);
		return -1;
	}
	snprintf(cfg->file, sizeof(cfg->file), "%s", name);
	return 0;
}

int rm_config_load(const char *path, struct rm_config *cfg, char *err, size_t errlen)
{
	cfg_ctx_t c;
	memset(cfg, 0, sizeof(*cfg));
	cfg_ctx_init(&c, path, err, errlen);
	cJSON *root = cfg_load_file(&c, path);
	if (!root)
		return -1;
	return finish(&c, root, path, cfg);
}

int rm_config_parse(const char *json, const char *name, struct rm_config *cfg, char *err,
		    size_t errlen)
{
	cfg_ctx_t c;
	memset(cfg, 0, sizeof(*cfg));
	cfg_ctx_init(&c, name, err, errlen);
	cJSON *root = cfg_parse_text(&c, json, strlen(json));
	if (!root)
		return -1;
	return finish(&c, root, name, cfg);
}

void rm_config_free(struct rm_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->sip_servers);
	free(cfg->sip_trusted);
	for (size_t i = 0; i < cfg->n_lrgs; i++)
		free(cfg->lrgs[i].members);
	free(cfg->lrgs);
	free(cfg->tenants);
	free(cfg->profiles);
	free(cfg->dnis);
	free(cfg->failover_codes);
	free(cfg->billing_endpoints);
	free(cfg->cluster_peers);
	memset(cfg, 0, sizeof(*cfg));
}

const struct rm_profile *rm_config_profile(const struct rm_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_profiles; i++)
		if (strcmp(cfg->profiles[i].name, name) == 0)
			return &cfg->profiles[i];
	return NULL;
}

const struct rm_lrg *rm_config_lrg(const struct rm_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_lrgs; i++)
		if (strcmp(cfg->lrgs[i].name, name) == 0)
			return &cfg->lrgs[i];
	return NULL;
}

const struct rm_tenant *rm_config_tenant(const struct rm_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_tenants; i++)
		if (strcmp(cfg->tenants[i].name, name) == 0)
			return &cfg->tenants[i];
	return NULL;
}

bool rm_config_is_failover_code(const struct rm_config *cfg, int status)
{
	for (size_t i = 0; i < cfg->n_failover_codes; i++)
		if (cfg->failover_codes[i] == status)
			return true;
	return false;
}

struct rm_reject rm_config_reject(const struct rm_config *cfg, enum rm_refuse reason)
{
	if ((int)reason < 0 || reason >= RM_REFUSE_COUNT)
		reason = RM_REFUSE_NONE;
	return cfg->reject[reason];
}

char *rm_config_defaults_json(void)
{
	static const char *const minimal =
		"{\"lrgs\":[{\"name\":\"default\",\"members\":[{\"uri\":"
		"\"sip:127.0.0.1:5070\"}]}],"
		"\"profiles\":[{\"name\":\"default\",\"lrg\":\"default\"}],"
		"\"default_profile\":\"default\"}";
	struct rm_config cfg;
	char err[256];
	char *out = NULL;

	if (rm_config_parse(minimal, "defaults", &cfg, err, sizeof(err)) != 0)
		return NULL;
	cJSON *r = cJSON_CreateObject();
	if (!r)
		goto done;
	cJSON_AddStringToObject(r, "node", cfg.node);
	cJSON *sip = cJSON_AddObjectToObject(r, "sip");
	cJSON_AddStringToObject(sip, "listen", cfg.sip_listen);
	cJSON_AddNumberToObject(sip, "port", cfg.sip_port);
	cJSON *tr = cJSON_AddArrayToObject(sip, "transports");
	cJSON_AddItemToArray(tr, cJSON_CreateString("udp"));
	cJSON_AddItemToArray(tr, cJSON_CreateString("tcp"));
	cJSON *ss = cJSON_AddArrayToObject(sip, "sip_servers");
	cJSON_AddItemToArray(ss, cJSON_CreateString(cfg.sip_servers[0]));
	cJSON *dns = cJSON_AddObjectToObject(sip, "dns");
	cJSON_AddStringToObject(dns, "mode", cfg.dns_off ? "off" : "on");
	cJSON_AddNumberToObject(dns, "timeout_ms", cfg.dns_timeout_ms);
	cJSON_AddNumberToObject(dns, "cache_s", cfg.dns_cache_s);
	cJSON_AddNumberToObject(dns, "grace_s", cfg.dns_grace_s);
	cJSON *lrgs = cJSON_AddArrayToObject(r, "lrgs");
	cJSON *g = cJSON_CreateObject();
	cJSON_AddItemToArray(lrgs, g);
	cJSON_AddStringToObject(g, "name", cfg.lrgs[0].name);
	cJSON_AddStringToObject(g, "scheme", rm_scheme_name(cfg.lrgs[0].scheme));
	cJSON *ms = cJSON_AddArrayToObject(g, "members");
	cJSON *m = cJSON_CreateObject();
	cJSON_AddItemToArray(ms, m);
	cJSON_AddStringToObject(m, "uri", cfg.lrgs[0].members[0].uri);
	cJSON_AddNumberToObject(m, "max_ports", cfg.lrgs[0].members[0].max_ports);
	cJSON_AddNumberToObject(m, "weight", cfg.lrgs[0].members[0].weight);
	cJSON_AddArrayToObject(r, "tenants");
	cJSON *ps = cJSON_AddArrayToObject(r, "profiles");
	cJSON *p = cJSON_CreateObject();
	cJSON_AddItemToArray(ps, p);
	cJSON_AddStringToObject(p, "name", cfg.profiles[0].name);
	cJSON_AddStringToObject(p, "tenant", cfg.profiles[0].tenant);
	cJSON_AddStringToObject(p, "service_type", cfg.profiles[0].service_type);
	cJSON_AddStringToObject(p, "lrg", cfg.profiles[0].lrg);
	cJSON *l = cJSON_AddObjectToObject(p, "limits");
	cJSON_AddNumberToObject(l, "l1", 0);
	cJSON_AddNumberToObject(l, "l2", 0);
	cJSON_AddNumberToObject(l, "l3", 0);
	cJSON_AddObjectToObject(r, "dnis");
	cJSON_AddStringToObject(r, "default_profile", cfg.profiles[0].name);
	cJSON *rj = cJSON_AddObjectToObject(r, "reject");
	cJSON_AddNumberToObject(rj, "code", cfg.reject[0].code);
	cJSON_AddNumberToObject(rj, "retry_after", cfg.reject[0].retry_after);
	cJSON_AddObjectToObject(rj, "reasons");
	cJSON *fo = cJSON_AddObjectToObject(r, "failover");
	cJSON *codes = cJSON_AddArrayToObject(fo, "codes");
	for (size_t i = 0; i < cfg.n_failover_codes; i++)
		cJSON_AddItemToArray(codes, cJSON_CreateNumber(cfg.failover_codes[i]));
	cJSON_AddBoolToObject(fo, "on_timeout", cfg.failover_on_timeout);
	cJSON_AddNumberToObject(fo, "max_attempts", cfg.max_attempts);
	cJSON_AddNumberToObject(fo, "attempt_timeout_ms", cfg.attempt_timeout_ms);
	cJSON *mo = cJSON_AddObjectToObject(r, "monitor");
	cJSON_AddNumberToObject(mo, "interval_ms", cfg.monitor_interval_ms);
	cJSON_AddNumberToObject(mo, "timeout_ms", cfg.monitor_timeout_ms);
	cJSON_AddNumberToObject(mo, "failures_to_down", cfg.monitor_failures_to_down);
	cJSON_AddNumberToObject(mo, "successes_to_up", cfg.monitor_successes_to_up);
	cJSON *se = cJSON_AddObjectToObject(r, "session");
	cJSON_AddNumberToObject(se, "max_duration_s", cfg.max_duration_s);
	cJSON_AddNumberToObject(se, "drain_timeout_s", cfg.drain_timeout_s);
	cJSON_AddNumberToObject(se, "keepalive_s", cfg.keepalive_s);
	cJSON_AddNumberToObject(se, "ack_timeout_ms", cfg.ack_timeout_ms);
	cJSON *h = cJSON_AddObjectToObject(r, "http");
	cJSON_AddStringToObject(h, "listen", cfg.http_listen);
	cJSON_AddNumberToObject(h, "port", cfg.http_port);
	cJSON_AddNumberToObject(h, "watchdog_s", cfg.watchdog_s);
	cJSON *b = cJSON_AddObjectToObject(r, "billing");
	cJSON_AddStringToObject(b, "mode", rm_billing_mode_name(cfg.billing_mode));
	cJSON *eps = cJSON_AddArrayToObject(b, "endpoints");
	cJSON_AddItemToArray(eps, cJSON_CreateString(cfg.billing_endpoints[0]));
	cJSON_AddStringToObject(b, "destination", cfg.billing_destination);
	cJSON_AddStringToObject(b, "spool_dir", cfg.billing_spool_dir);
	cJSON_AddNumberToObject(b, "spool_max_bytes", (double)cfg.billing_spool_max_bytes);
	cJSON *lg = cJSON_AddObjectToObject(r, "logging");
	cJSON_AddStringToObject(lg, "level", cfg.log_level);
	cJSON_AddStringToObject(lg, "file", cfg.log_file);
	cJSON_AddBoolToObject(lg, "json", cfg.log_json);
	cJSON_AddNumberToObject(lg, "rate_per_s", cfg.log_rate_per_s);
	cJSON *cl = cJSON_AddObjectToObject(r, "cluster");
	cJSON_AddStringToObject(cl, "listen", cfg.cluster_listen);
	cJSON_AddNumberToObject(cl, "port", cfg.cluster_port);
	cJSON_AddArrayToObject(cl, "peers");
	cJSON_AddNumberToObject(sip, "udp_rmem", cfg.sip_udp_rmem);
	cJSON_AddNumberToObject(sip, "udp_wmem", cfg.sip_udp_wmem);
	cJSON *ov = cJSON_AddObjectToObject(r, "overload");
	cJSON_AddNumberToObject(ov, "max_cps", cfg.overload_max_cps);
	cJSON_AddNumberToObject(ov, "max_pending", cfg.overload_max_pending);
	cJSON_AddNumberToObject(ov, "lag_ms", cfg.overload_lag_ms);
	cJSON *sn = cJSON_AddObjectToObject(r, "snmp");
	cJSON_AddBoolToObject(sn, "enabled", cfg.snmp_enabled);
	cJSON_AddStringToObject(sn, "master", cfg.snmp_master);
	cJSON_AddStringToObject(sn, "base_oid", cfg.snmp_base_oid);
	out = cJSON_Print(r);
	cJSON_Delete(r);
done:
	rm_config_free(&cfg);
	return out;
}
