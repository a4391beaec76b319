/* rm_config_dump: the effective defaults as JSON (rm --print-defaults), built from
 * the loader itself so that the dump cannot drift from what an empty section means. */
#include "rm_config.h"

#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

static void dump_sip(cJSON *r, const struct rm_config *cfg)
{
	cJSON *sip = cJSON_AddObjectToObject(r, "sip");
	cJSON_AddStringToObject(sip, "listen", cfg->sip_listen);
	cJSON_AddNumberToObject(sip, "port", cfg->sip_port);
	cJSON *tr = cJSON_AddArrayToObject(sip, "transports");
	cJSON_AddItemToArray(tr, cJSON_CreateString("udp"));
	cJSON_AddItemToArray(tr, cJSON_CreateString("tcp"));
	cJSON *ss = cJSON_AddArrayToObject(sip, "sip_servers");
	cJSON_AddItemToArray(ss, cJSON_CreateString(cfg->sip_servers[0]));
	cJSON *dns = cJSON_AddObjectToObject(sip, "dns");
	cJSON_AddStringToObject(dns, "mode", cfg->dns_off ? "off" : "on");
	cJSON_AddNumberToObject(dns, "timeout_ms", cfg->dns_timeout_ms);
	cJSON_AddNumberToObject(dns, "cache_s", cfg->dns_cache_s);
	cJSON_AddNumberToObject(dns, "grace_s", cfg->dns_grace_s);
}

/* sip.udp_rmem/udp_wmem come last in the sip object (the dump's historical order). */
static void dump_sip_buffers(cJSON *r, const struct rm_config *cfg)
{
	cJSON *sip = cJSON_GetObjectItemCaseSensitive(r, "sip");
	cJSON_AddNumberToObject(sip, "udp_rmem", cfg->sip_udp_rmem);
	cJSON_AddNumberToObject(sip, "udp_wmem", cfg->sip_udp_wmem);
}

static void dump_call_model(cJSON *r, const struct rm_config *cfg)
{
	const struct rm_lrg *lg = &cfg->lrgs[0];
	const struct rm_profile *pf = &cfg->profiles[0];

	cJSON *lrgs = cJSON_AddArrayToObject(r, "lrgs");
	cJSON *g = cJSON_CreateObject();
	cJSON_AddItemToArray(lrgs, g);
	cJSON_AddStringToObject(g, "name", lg->name);
	cJSON_AddStringToObject(g, "scheme", rm_scheme_name(lg->scheme));
	cJSON *ms = cJSON_AddArrayToObject(g, "members");
	cJSON *m = cJSON_CreateObject();
	cJSON_AddItemToArray(ms, m);
	cJSON_AddStringToObject(m, "uri", lg->members[0].uri);
	cJSON_AddNumberToObject(m, "max_ports", lg->members[0].max_ports);
	cJSON_AddNumberToObject(m, "weight", lg->members[0].weight);
	cJSON_AddArrayToObject(r, "tenants");
	cJSON *ps = cJSON_AddArrayToObject(r, "profiles");
	cJSON *p = cJSON_CreateObject();
	cJSON_AddItemToArray(ps, p);
	cJSON_AddStringToObject(p, "name", pf->name);
	cJSON_AddStringToObject(p, "tenant", pf->tenant);
	cJSON_AddStringToObject(p, "service_type", pf->service_type);
	cJSON_AddStringToObject(p, "lrg", pf->lrg);
	cJSON *l = cJSON_AddObjectToObject(p, "limits");
	cJSON_AddNumberToObject(l, "l1", 0);
	cJSON_AddNumberToObject(l, "l2", 0);
	cJSON_AddNumberToObject(l, "l3", 0);
	cJSON_AddObjectToObject(r, "dnis");
	cJSON_AddStringToObject(r, "default_profile", pf->name);
}

static void dump_policy(cJSON *r, const struct rm_config *cfg)
{
	cJSON *rj = cJSON_AddObjectToObject(r, "reject");
	cJSON_AddNumberToObject(rj, "code", cfg->reject[0].code);
	cJSON_AddNumberToObject(rj, "retry_after", cfg->reject[0].retry_after);
	cJSON_AddObjectToObject(rj, "reasons");
	cJSON *fo = cJSON_AddObjectToObject(r, "failover");
	cJSON *codes = cJSON_AddArrayToObject(fo, "codes");
	for (size_t i = 0; i < cfg->n_failover_codes; i++)
		cJSON_AddItemToArray(codes, cJSON_CreateNumber(cfg->failover_codes[i]));
	cJSON_AddBoolToObject(fo, "on_timeout", cfg->failover_on_timeout);
	cJSON_AddNumberToObject(fo, "max_attempts", cfg->max_attempts);
	cJSON_AddNumberToObject(fo, "attempt_timeout_ms", cfg->attempt_timeout_ms);
	cJSON *mo = cJSON_AddObjectToObject(r, "monitor");
	cJSON_AddNumberToObject(mo, "interval_ms", cfg->monitor_interval_ms);
	cJSON_AddNumberToObject(mo, "timeout_ms", cfg->monitor_timeout_ms);
	cJSON_AddNumberToObject(mo, "failures_to_down", cfg->monitor_failures_to_down);
	cJSON_AddNumberToObject(mo, "successes_to_up", cfg->monitor_successes_to_up);
	cJSON *se = cJSON_AddObjectToObject(r, "session");
	cJSON_AddNumberToObject(se, "max_duration_s", cfg->max_duration_s);
	cJSON_AddNumberToObject(se, "drain_timeout_s", cfg->drain_timeout_s);
	cJSON_AddNumberToObject(se, "keepalive_s", cfg->keepalive_s);
	cJSON_AddNumberToObject(se, "ack_timeout_ms", cfg->ack_timeout_ms);
	cJSON *h = cJSON_AddObjectToObject(r, "http");
	cJSON_AddStringToObject(h, "listen", cfg->http_listen);
	cJSON_AddNumberToObject(h, "port", cfg->http_port);
	cJSON_AddNumberToObject(h, "watchdog_s", cfg->watchdog_s);
}

static void dump_services(cJSON *r, const struct rm_config *cfg)
{
	cJSON *b = cJSON_AddObjectToObject(r, "billing");
	cJSON_AddStringToObject(b, "mode", rm_billing_mode_name(cfg->billing_mode));
	cJSON *eps = cJSON_AddArrayToObject(b, "endpoints");
	cJSON_AddItemToArray(eps, cJSON_CreateString(cfg->billing_endpoints[0]));
	cJSON_AddStringToObject(b, "destination", cfg->billing_destination);
	cJSON_AddStringToObject(b, "events", cfg->billing_events ? "all" : "none");
	cJSON_AddStringToObject(b, "spool_dir", cfg->billing_spool_dir);
	cJSON_AddNumberToObject(b, "spool_max_bytes", (double)cfg->billing_spool_max_bytes);
	cJSON *lg = cJSON_AddObjectToObject(r, "logging");
	cJSON_AddStringToObject(lg, "level", cfg->log_level);
	cJSON_AddStringToObject(lg, "file", cfg->log_file);
	cJSON_AddBoolToObject(lg, "json", cfg->log_json);
	cJSON_AddNumberToObject(lg, "rate_per_s", cfg->log_rate_per_s);
	cJSON *cl = cJSON_AddObjectToObject(r, "cluster");
	cJSON_AddStringToObject(cl, "listen", cfg->cluster_listen);
	cJSON_AddNumberToObject(cl, "port", cfg->cluster_port);
	cJSON_AddArrayToObject(cl, "peers");
	cJSON_AddNumberToObject(cl, "heartbeat_ms", cfg->cluster_heartbeat_ms);
	cJSON_AddNumberToObject(cl, "dead_after_ms", cfg->cluster_dead_after_ms);
	cJSON_AddNumberToObject(cl, "publish_ms", cfg->cluster_publish_ms);
	cJSON_AddStringToObject(cl, "limits", cfg->cluster_strict ? "strict" : "normal");
}

static void dump_overload_snmp(cJSON *r, const struct rm_config *cfg)
{
	cJSON *ov = cJSON_AddObjectToObject(r, "overload");
	cJSON_AddNumberToObject(ov, "max_cps", cfg->overload_max_cps);
	cJSON_AddNumberToObject(ov, "max_pending", cfg->overload_max_pending);
	cJSON_AddNumberToObject(ov, "lag_ms", cfg->overload_lag_ms);
	cJSON_AddNumberToObject(ov, "max_tcp_connections", cfg->overload_max_tcp);
	cJSON *sn = cJSON_AddObjectToObject(r, "snmp");
	cJSON_AddBoolToObject(sn, "enabled", cfg->snmp_enabled);
	cJSON_AddStringToObject(sn, "master", cfg->snmp_master);
	cJSON_AddStringToObject(sn, "base_oid", cfg->snmp_base_oid);
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
	dump_sip(r, &cfg);
	dump_call_model(r, &cfg);
	dump_policy(r, &cfg);
	dump_services(r, &cfg);
	dump_sip_buffers(r, &cfg);
	dump_overload_snmp(r, &cfg);
	out = cJSON_Print(r);
	cJSON_Delete(r);
done:
	rm_config_free(&cfg);
	return out;
}
