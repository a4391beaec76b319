/* rm_config_policy: "reject", "failover", "overload", and the "monitor", "session",
 * "http" and "logging" sections. */
#include "rm_config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cfg.h"

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

int rmc_load_reject(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
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
	if (cfg_no_unknown(c, rs, "reject.reasons", rmc_refuse_names + 1) != 0)
		return -1;
	for (int r = 1; r < RM_REFUSE_COUNT; r++) {
		char w[64];
		snprintf(w, sizeof(w), "reject.reasons.%s", rmc_refuse_names[r]);
		const cJSON *ro = cfg_object(c, rs, "reject.reasons", rmc_refuse_names[r], false);
		if (c->failed)
			return -1;
		if (ro && read_reject(c, ro, w, &cfg->reject[RM_REFUSE_NONE], &cfg->reject[r]))
			return -1;
	}
	return 0;
}

int rmc_load_failover(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
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

/* After rmc_load_reject: an overload refusal defaults to 503 with a short Retry-After
 * (2 s: the SIP Server retries soon, spread by its own timers), not the section's. */
int rmc_load_overload(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
{
	static const char *const known[] = {"max_cps", "max_pending", "lag_ms",
					     "max_tcp_connections", NULL};
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
	cfg_int(c, o, "overload", "max_tcp_connections", false, 1000, 0, 1000000, &v);
	cfg->overload_max_tcp = (int)v;
	if (!rs || !cJSON_GetObjectItemCaseSensitive(rs, "overload"))
		cfg->reject[RM_REFUSE_OVERLOAD] = (struct rm_reject){ 503, 2 };
	return c->failed ? -1 : 0;
}

int rmc_load_misc(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
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
	cfg_enum(c, o, "logging", "level", false, 2, rmc_level_names, &e);
	if (!c->failed)
		snprintf(cfg->log_level, sizeof(cfg->log_level), "%s", rmc_level_names[e]);
	cfg_str(c, o, "logging", "file", false, "-", cfg->log_file, sizeof(cfg->log_file));
	cfg_bool(c, o, "logging", "json", false, false, &cfg->log_json);
	return c->failed ? -1 : 0;
}
