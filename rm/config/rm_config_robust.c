/*
 * rm_config_robust: sip.dns, http.watchdog_s, session.keepalive_s, logging.rate_per_s
 * (see rm_config_robust.h).
 */
#include "rm_config_robust.h"

#include <stdio.h>
#include <string.h>

#include "resolve.h"

static int load_dns(cfg_ctx_t *c, const cJSON *sip, struct rm_config *cfg)
{
	static const char *const known[] = {"mode", "timeout_ms", "cache_s", "grace_s", NULL};
	static const char *const modes[] = {"on", "off", NULL};
	const cJSON *d = sip ? cJSON_GetObjectItemCaseSensitive(sip, "dns") : NULL;
	const cJSON *o = NULL;
	long long v;
	int mode = 0;

	if (d && cJSON_IsString(d)) {
		/* the short form: "dns": "off" */
		cfg_enum(c, sip, "sip", "dns", false, 0, modes, &mode);
	} else {
		o = cfg_object(c, sip, "sip", "dns", false);
		cfg_no_unknown(c, o, "sip.dns", known);
		cfg_enum(c, o, "sip.dns", "mode", false, 0, modes, &mode);
	}
	cfg->dns_off = mode == 1;
	cfg_int(c, o, "sip.dns", "timeout_ms", false, 2000, 10, 60000, &v);
	cfg->dns_timeout_ms = (int)v;
	cfg_int(c, o, "sip.dns", "cache_s", false, 30, 0, 86400, &v);
	cfg->dns_cache_s = (int)v;
	cfg_int(c, o, "sip.dns", "grace_s", false, 300, 0, 7 * 86400, &v);
	cfg->dns_grace_s = (int)v;
	return c->failed ? -1 : 0;
}

/* With sip.dns "off" every configured SIP URI must name a numeric host. */
static int check_numeric(cfg_ctx_t *c, const struct rm_config *cfg)
{
	char host[RM_URI_MAX];

	for (size_t i = 0; i < cfg->n_sip_servers; i++)
		if (resolve_uri_host(cfg->sip_servers[i], host, sizeof host) == 0 &&
		    !resolve_is_numeric(host))
			return cfg_fail(c, "sip", "sip_servers",
					"item %zu names host \"%s\" but sip.dns is \"off\" "
					"(numeric addresses only)", i, host);
	for (size_t g = 0; g < cfg->n_lrgs; g++)
		for (size_t m = 0; m < cfg->lrgs[g].n_members; m++) {
			const char *uri = cfg->lrgs[g].members[m].uri;
			if (resolve_uri_host(uri, host, sizeof host) == 0 &&
			    !resolve_is_numeric(host))
				return cfg_fail(c, "lrg", cfg->lrgs[g].name,
						"member %s names host \"%s\" but sip.dns is "
						"\"off\" (numeric addresses only)", uri, host);
		}
	return 0;
}

int rm_config_load_robust(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
{
	const cJSON *sip = cJSON_GetObjectItemCaseSensitive(root, "sip");
	const cJSON *o;
	long long v;

	if (load_dns(c, cJSON_IsObject(sip) ? sip : NULL, cfg) < 0)
		return -1;
	o = cJSON_GetObjectItemCaseSensitive(root, "http");
	cfg_int(c, cJSON_IsObject(o) ? o : NULL, "http", "watchdog_s", false, 5, 0, 3600, &v);
	cfg->watchdog_s = (int)v;
	o = cJSON_GetObjectItemCaseSensitive(root, "session");
	cfg_int(c, cJSON_IsObject(o) ? o : NULL, "session", "keepalive_s", false, 30, 0, 86400,
		&v);
	cfg->keepalive_s = (int)v;
	o = cJSON_GetObjectItemCaseSensitive(root, "logging");
	cfg_int(c, cJSON_IsObject(o) ? o : NULL, "logging", "rate_per_s", false, 20, 0, 1000000,
		&v);
	cfg->log_rate_per_s = (int)v;
	if (c->failed)
		return -1;
	return cfg->dns_off ? check_numeric(c, cfg) : 0;
}
