/* rm_config_services: the "billing", "cluster" and "snmp" sections. */
#include "rm_config_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cfg.h"
#include "hostport.h"
#include "oid.h"
#include "record.h"

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

int rmc_load_billing(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
{
	static const char *const known[] = {"mode",	 "endpoints",	    "destination",
					    "spool_dir", "spool_max_bytes", "login",
					    "passcode",  "tls",		    "events",
					    NULL};
	static const char *const events_names[] = {"all", "none", NULL};
	int events;
	const cJSON *o = cfg_object(c, root, "", "billing", false);
	int mode;
	char *buf;
	size_t n;

	cfg_no_unknown(c, o, "billing", known);
	cfg_enum(c, o, "billing", "mode", false, RM_BILLING_STOMP, rmc_billing_names, &mode);
	cfg->billing_mode = (enum rm_billing_mode)mode;
	cfg_enum(c, o, "billing", "events", false, 0, events_names, &events);
	cfg->billing_events = events == 0;
	cfg_str(c, o, "billing", "destination", false, REC_DEST_CDR,
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
	if (rmc_read_str_list(c, o, "billing", "endpoints", "127.0.0.1:61616", RM_HOST_MAX, &buf,
			      &n) != 0) {
		free(buf);
		return -1;
	}
	cfg->billing_endpoints = (char(*)[RM_HOST_MAX])buf;
	cfg->n_billing_endpoints = n;
	for (size_t i = 0; i < n; i++)
		if (!hostport_valid(cfg->billing_endpoints[i]))
			return cfg_fail(c, "billing", "endpoints",
					"item %zu: expected \"host:port\"; got \"%s\"", i,
					cfg->billing_endpoints[i]);
	if (cfg->billing_mode == RM_BILLING_STOMP && n == 0)
		return cfg_fail(c, "billing", "endpoints", "mode stomp needs an endpoint");
	if (cfg->billing_mode != RM_BILLING_OFF && !cfg->billing_spool_dir[0])
		return cfg_fail(c, "billing", "spool_dir", "must not be empty");
	return 0;
}

/* snmp.base_oid: 2..15 dotted unsigned 32-bit numbers, e.g. 1.3.6.1.4.1.99999.1
 * (rm serves BASE.1 and snmpsub roots have at most 16 parts). */
static bool is_base_oid(const char *s)
{
	int parts = oid_parts(s);

	return parts >= 2 && parts <= 15;
}

int rmc_load_snmp(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
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
