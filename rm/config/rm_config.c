/*
 * rm_config: load and validate rm's JSON configuration (contract in rm_config.h).
 * This file: the enum names, the top level (load_root calls one loader per section,
 * declared in rm_config_int.h and defined in rm_config_<concern>.c), the lookups and
 * freeing.
 */
#include "rm_config.h"
#include "rm_config_int.h"
#include "rm_config_robust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cfg.h"

const char *const rmc_scheme_names[] = {"round-robin", "least-used", "least-percent",
					   "weighted", NULL};
const char *const rmc_refuse_names[] = {"none",	   "profile-limit", "tenant-limit",
					   "no-mcp-up",	   "mcp-capacity",  "draining",
					   "no-profile",   "overload",	    NULL};
const char *const rmc_billing_names[] = {"stomp", "spool-only", "off", NULL};
const char *const rmc_level_names[] = {"error", "warn", "info", "debug", NULL};

const char *rm_scheme_name(enum rm_scheme s)
{
	if ((int)s < 0 || s > RM_SCHEME_WEIGHTED)
		return "?";
	return rmc_scheme_names[s];
}

const char *rm_refuse_name(enum rm_refuse r)
{
	if ((int)r < 0 || r >= RM_REFUSE_COUNT)
		return "?";
	return rmc_refuse_names[r];
}

const char *rm_billing_mode_name(enum rm_billing_mode m)
{
	if ((int)m < 0 || m > RM_BILLING_OFF)
		return "?";
	return rmc_billing_names[m];
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
	if (rmc_load_sip(c, root, cfg) || rmc_load_lrgs(c, root, cfg) ||
	    rmc_load_tenants(c, root, cfg, &tcap) || rmc_load_profiles(c, root, cfg, &tcap) ||
	    rmc_load_dnis(c, root, cfg) || rmc_load_reject(c, root, cfg) ||
	    rmc_load_failover(c, root, cfg) || rmc_load_misc(c, root, cfg) ||
	    rmc_load_overload(c, root, cfg) ||
	    rmc_load_billing(c, root, cfg) || rmc_load_cluster(c, root, cfg) ||
	    rmc_load_snmp(c, root, cfg) || rmc_apply_env(c, cfg) ||
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
