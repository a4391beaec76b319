/* rm_config_env: environment overrides applied after the file (RM_NODE_NAME, POD_IP). */
#include "rm_config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cfg.h"

bool rm_config_is_wildcard(const char *host)
{
	return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
	       strcmp(host, "[::]") == 0 || strcmp(host, "*") == 0;
}

/* RM_NODE_NAME (set by the helm chart to the pod name) replaces "node"; POD_IP is the
 * advertised SIP host when sip.listen is a wildcard and sip.advertise is not set. */
int rmc_apply_env(cfg_ctx_t *c, struct rm_config *cfg)
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
