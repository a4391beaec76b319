/* config: rs.json -> rs_config_t. See config.h and etc/rs.json. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "hostport.h"
#include "oid.h"
#include "record.h"

void rs_config_defaults(rs_config_t *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->log_file, "-");
	strcpy(c->log_level, "info");
	strcpy(c->stomp_listen, "127.0.0.1");
	c->stomp_port = 61616;
	c->stomp_max_connections = 0; /* from the open-file limit */
	c->stomp_max_connections_per_source = 256;
	c->stomp_connect_timeout_ms = 5000;
	c->stomp_max_frame_size = 1024 * 1024;
	c->stomp_heartbeat_ms = 10000;
	c->stomp_max_inflight = 20000;
	strcpy(c->http_listen, "127.0.0.1");
	c->http_port = 8080;
	c->backend = RS_BACKEND_SQLITE;
	strcpy(c->sqlite_path, "rs.db");
	strcpy(c->pg_conninfo, "host=127.0.0.1 port=5432 dbname=rs user=postgres");
	c->batch_max = 5000;
	c->queue_max = 50000;
	c->retry_ms = 500;
	c->pg_statement_timeout_ms = 3000;
	strcpy(c->journal_dir, "rs-journal");
	c->journal_max_bytes = 1024LL * 1024 * 1024;
	c->journal_high_water_percent = 80;
	c->broker_mode = RS_BROKER_LISTEN;
	c->broker_ndests = 3;
	strcpy(c->broker_dests[0], REC_DEST_CDR);
	strcpy(c->broker_dests[1], REC_DEST_EVENTS);
	strcpy(c->broker_dests[2], REC_DEST_METRICS);
	c->broker_prefetch = 1000;
	c->broker_heartbeat_ms = 10000;
	c->broker_reconnect_min_ms = 100;
	c->broker_reconnect_max_ms = 5000;
	tls_config_defaults(&c->stomp_tls, TLS_SERVER);
	tls_config_defaults(&c->broker_tls, TLS_CLIENT);
	c->snmp_enabled = false;
	strcpy(c->snmp_master, "tcp:127.0.0.1:1705");
	strcpy(c->snmp_base_oid, "1.3.6.1.4.1.99999.1");
	c->api_stream_max = 32;
	c->report_enabled = true;
	c->report_rollups = true;
	c->report_max_limit = 10000;
	c->report_retention_days[0] = 0;
	c->report_retention_days[1] = 35;
	c->report_retention_days[2] = 100;
	c->report_retention_days[3] = 400;
	c->report_retention_days[4] = 0;
	c->report_retention_batch = 1000;
	c->report_export_page = 10000;
	c->report_retention_interval_s = 60;
}

static const char *const top_keys[] = { "log",     "stomp",  "http", "storage", "writer",
					"journal", "broker", "snmp", "api", "report", NULL };
static const char *const broker_keys[] = { "mode", "endpoints", "login", "passcode",
					   "tls",
					   "destinations", "prefetch", "heartbeat_ms",
					   "reconnect_min_ms", "reconnect_max_ms", NULL };
static const char *const broker_modes[] = { "listen", "consume", NULL };
static const char *const known_dests[] = { REC_DEST_CDR, REC_DEST_EVENTS,
					   REC_DEST_METRICS, NULL };
static const char *const api_keys[] = { "tokens", "stream_max_subscribers", NULL };
static const char *const api_token_keys[] = { "token", "tenant", NULL };
static const char *const snmp_keys[] = { "enabled", "master", "base_oid", NULL };
static const char *const log_keys[] = { "file", "level", "json", NULL };
static const char *const stomp_keys[] = { "listen", "port", "login", "passcode",
					  "allow_anonymous", "tls",
					  "max_connections", "max_frame_size",
					  "heartbeat_ms", "max_inflight",
					  "max_connections_per_source", "connect_timeout_ms", NULL };
static const char *const http_keys[] = { "listen", "port", "max_connections", NULL };
static const char *const storage_keys[] = { "backend", "sqlite", "postgresql", NULL };
static const char *const sqlite_keys[] = { "path", NULL };
static const char *const pg_keys[] = { "conninfo", "statement_timeout_ms", NULL };
static const char *const writer_keys[] = { "batch_max", "queue_max", "retry_ms", NULL };
static const char *const journal_keys[] = { "dir", "max_bytes", "high_water_percent",
					    NULL };
static const char *const report_keys[] = { "enabled", "rollups", "max_limit",
					   "retention_days", "retention_batch",
					   "retention_interval_s", "export_page", NULL };
static const char *const retention_keys[] = { "raw", "five_minutes", "thirty_minutes",
					      "hour", "day", NULL };
static const char *const backends[] = { "sqlite", "postgresql", NULL };
static const char *const levels[] = { "error", "warn", "info", "debug", NULL };

/* cfg_str with the current value as default (copied first: cfg_str must not be
 * given overlapping default and output). */
static int str_opt(cfg_ctx_t *x, const cJSON *obj, const char *where, const char *key,
		   char *out, size_t outlen)
{
	char def[1024];
	snprintf(def, sizeof(def), "%s", out);
	return cfg_str(x, obj, where, key, false, def, out, outlen);
}

/* An optional int key into *field (kept when absent or invalid: cfg_int records the
 * error). */
static void int_opt(cfg_ctx_t *x, const cJSON *o, const char *where, const char *key,
		    int *field, long long lo, long long hi)
{
	long long v;

	if (!cfg_int(x, o, where, key, false, *field, lo, hi, &v))
		*field = (int)v;
}

/* broker.endpoints: up to RS_BROKER_MAX_ENDPOINTS "host:port" strings. */
static void read_broker_endpoints(cfg_ctx_t *x, rs_config_t *c, const cJSON *br)
{
	const cJSON *eps = cfg_array(x, br, "broker", "endpoints", false);
	if (eps && !cJSON_IsArray(eps))
		cfg_fail(x, "broker", "endpoints", "expected an array of \"host:port\" strings");
	if (eps && cJSON_IsArray(eps) && !x->failed) {
		int n = 0;
		const cJSON *it;
		cJSON_ArrayForEach(it, eps) {
			if (n == RS_BROKER_MAX_ENDPOINTS) {
				cfg_fail(x, "broker", "endpoints", "at most %d endpoints",
					 RS_BROKER_MAX_ENDPOINTS);
				break;
			}
			if (!cJSON_IsString(it) || !hostport_valid(it->valuestring) ||
			    strlen(it->valuestring) >= sizeof(c->broker_endpoints[0])) {
				char k[32];
				snprintf(k, sizeof(k), "endpoints[%d]", n);
				cfg_fail(x, "broker", k, "expected \"host:port\" (port 1..65535)");
				break;
			}
			snprintf(c->broker_endpoints[n], sizeof(c->broker_endpoints[n]), "%s",
				 it->valuestring);
			n++;
		}
		c->broker_nendpoints = n;
	}
}

/* broker.destinations: a non-empty subset of the three record queues, no repeats. */
static void read_broker_dests(cfg_ctx_t *x, rs_config_t *c, const cJSON *br)
{
	const cJSON *ds = cfg_array(x, br, "broker", "destinations", false);
	if (ds && !cJSON_IsArray(ds))
		cfg_fail(x, "broker", "destinations", "expected an array of destinations");
	if (ds && cJSON_IsArray(ds) && !x->failed) {
		int n = 0;
		const cJSON *it;
		cJSON_ArrayForEach(it, ds) {
			int known = -1;
			for (int i = 0; cJSON_IsString(it) && known_dests[i]; i++)
				if (!strcmp(known_dests[i], it->valuestring))
					known = i;
			for (int i = 0; known >= 0 && i < n; i++)
				if (!strcmp(c->broker_dests[i], it->valuestring))
					known = -2;
			if (known < 0) {
				char k[32];
				snprintf(k, sizeof(k), "destinations[%d]", n);
				cfg_fail(x, "broker", k,
					 known == -2 ? "listed twice"
						     : "expected one of " REC_DEST_CDR ", "
						       REC_DEST_EVENTS ", " REC_DEST_METRICS);
				break;
			}
			snprintf(c->broker_dests[n], sizeof(c->broker_dests[n]), "%s",
				 known_dests[known]);
			n++;
		}
		if (!x->failed && n == 0)
			cfg_fail(x, "broker", "destinations", "must not be empty");
		c->broker_ndests = n;
	}
}

static void read_broker(cfg_ctx_t *x, rs_config_t *c, const cJSON *root)
{
	int e;

	const cJSON *br = cfg_object(x, root, "", "broker", false);
	cfg_no_unknown(x, br, "broker", broker_keys);
	e = c->broker_mode;
	if (!cfg_enum(x, br, "broker", "mode", false, e, broker_modes, &e))
		c->broker_mode = e;
	read_broker_endpoints(x, c, br);
	str_opt(x, br, "broker", "login", c->broker_login, sizeof(c->broker_login));
	str_opt(x, br, "broker", "passcode", c->broker_passcode, sizeof(c->broker_passcode));
	tls_config_read(x, br, "broker", "tls", TLS_CLIENT, &c->broker_tls);
	read_broker_dests(x, c, br);
	int_opt(x, br, "broker", "prefetch", &c->broker_prefetch, 1, 100000);
	int_opt(x, br, "broker", "heartbeat_ms", &c->broker_heartbeat_ms, 0, 3600000);
	int_opt(x, br, "broker", "reconnect_min_ms", &c->broker_reconnect_min_ms, 10, 600000);
	int_opt(x, br, "broker", "reconnect_max_ms", &c->broker_reconnect_max_ms, 10, 600000);
}

static void read_snmp(cfg_ctx_t *x, rs_config_t *c, const cJSON *root)
{
	const cJSON *sn = cfg_object(x, root, "", "snmp", false);
	cfg_no_unknown(x, sn, "snmp", snmp_keys);
	cfg_bool(x, sn, "snmp", "enabled", false, c->snmp_enabled, &c->snmp_enabled);
	str_opt(x, sn, "snmp", "master", c->snmp_master, sizeof(c->snmp_master));
	str_opt(x, sn, "snmp", "base_oid", c->snmp_base_oid, sizeof(c->snmp_base_oid));
}

/* stomp.login/passcode from env RS_STOMP_LOGIN / RS_STOMP_PASSCODE (set and not
 * empty; the helm chart passes them from a Secret), then: a listener off loopback
 * needs a login unless stomp.allow_anonymous. */
static int check_stomp_auth(cfg_ctx_t *x, rs_config_t *c)
{
	const char *l = getenv("RS_STOMP_LOGIN"), *p = getenv("RS_STOMP_PASSCODE");
	struct in_addr a;

	if (l && l[0] && strlen(l) >= sizeof(c->stomp_login))
		return cfg_fail(x, "env", "RS_STOMP_LOGIN", "longer than %zu bytes",
				sizeof(c->stomp_login) - 1);
	if (p && p[0] && strlen(p) >= sizeof(c->stomp_passcode))
		return cfg_fail(x, "env", "RS_STOMP_PASSCODE", "longer than %zu bytes",
				sizeof(c->stomp_passcode) - 1);
	if (l && l[0])
		snprintf(c->stomp_login, sizeof(c->stomp_login), "%s", l);
	if (p && p[0])
		snprintf(c->stomp_passcode, sizeof(c->stomp_passcode), "%s", p);
	if (c->stomp_login[0] || c->stomp_allow_anonymous)
		return 0;
	if (inet_pton(AF_INET, c->stomp_listen, &a) == 1) {
		if ((ntohl(a.s_addr) >> 24) == 127)
			return 0;
	} else {
		/* IPv6 loopback is loopback too; anything that is not a numeric address
		 * is refused by the start checks, which name stomp.listen. */
		char bare[64];
		struct in6_addr a6;
		size_t n = strlen(c->stomp_listen);
		if (n > 2 && n < sizeof(bare) && c->stomp_listen[0] == '[' &&
		    c->stomp_listen[n - 1] == ']')
			snprintf(bare, sizeof(bare), "%.*s", (int)(n - 2), c->stomp_listen + 1);
		else
			snprintf(bare, sizeof(bare), "%s", c->stomp_listen);
		if (inet_pton(AF_INET6, bare, &a6) != 1 || IN6_IS_ADDR_LOOPBACK(&a6))
			return 0;
	}
	return cfg_fail(x, "stomp", "login",
			"required when stomp.listen (%s) is not a loopback address: anyone who"
			" reaches the port could write billing records; set stomp.login and"
			" stomp.passcode (or env RS_STOMP_LOGIN / RS_STOMP_PASSCODE), or"
			" stomp.allow_anonymous: true to accept that",
			c->stomp_listen);
}

/* Checks across keys, after every key was read. */
static int check_all(cfg_ctx_t *x, rs_config_t *c)
{
	int parts = 0;

	if (check_stomp_auth(x, c))
		return -1;
	if (c->backend == RS_BACKEND_SQLITE && !c->sqlite_path[0])
		return cfg_fail(x, "storage.sqlite", "path", "must not be empty");
	if (c->backend == RS_BACKEND_POSTGRESQL && !c->pg_conninfo[0])
		return cfg_fail(x, "storage.postgresql", "conninfo",
				"is empty and env RS_PG_URL is not set");
	if (c->journal_dir[0] == 0)
		return cfg_fail(x, "journal", "dir", "must not be empty");
	if (c->http_port && c->http_port == c->stomp_port &&
	    !strcmp(c->http_listen, c->stomp_listen))
		return cfg_fail(x, "http", "port", "same as stomp.port (%d)", c->stomp_port);
	if (c->broker_mode == RS_BROKER_CONSUME && c->broker_nendpoints == 0)
		return cfg_fail(x, "broker", "endpoints",
				"consume mode needs at least one \"host:port\"");
	if (c->broker_reconnect_max_ms < c->broker_reconnect_min_ms)
		return cfg_fail(x, "broker", "reconnect_max_ms",
				"must be >= reconnect_min_ms (%d)", c->broker_reconnect_min_ms);
	if (!c->snmp_master[0])
		return cfg_fail(x, "snmp", "master", "must not be empty");
	/* A dotted numeric OID of 2..12 parts: rs adds .2.x.y.z under it. */
	parts = oid_parts(c->snmp_base_oid);
	if (parts < 2 || parts > 12)
		return cfg_fail(x, "snmp", "base_oid",
				"expected a dotted numeric OID of 2 to 12 parts, got \"%s\"",
				c->snmp_base_oid);
	return 0;
}

int rs_config_apply_env(rs_config_t *c, const char *pg_url, char *err, size_t errlen)
{
	cfg_ctx_t x;
	cfg_ctx_init(&x, "(defaults)", err, errlen);
	if (pg_url && pg_url[0]) {
		if (strlen(pg_url) >= sizeof(c->pg_conninfo))
			return cfg_fail(&x, "env", "RS_PG_URL", "longer than %zu bytes",
					sizeof(c->pg_conninfo) - 1);
		snprintf(c->pg_conninfo, sizeof(c->pg_conninfo), "%s", pg_url);
	}
	return check_all(&x, c);
}

int rs_config_from_json(rs_config_t *c, const void *rootv, const char *file, char *err,
			size_t errlen)
{
	return rs_config_from_json_env(c, rootv, file, NULL, err, errlen);
}

/* log: file, level, json. */
static void read_log(cfg_ctx_t *x, rs_config_t *c, const cJSON *root)
{
	int e;

	const cJSON *lg = cfg_object(x, root, "", "log", false);
	cfg_no_unknown(x, lg, "log", log_keys);
	str_opt(x, lg, "log", "file", c->log_file, sizeof(c->log_file));
	e = 2;
	for (int i = 0; levels[i]; i++)
		if (!strcmp(levels[i], c->log_level))
			e = i;
	cfg_enum(x, lg, "log", "level", false, e, levels, &e);
	if (!x->failed)
		snprintf(c->log_level, sizeof(c->log_level), "%s", levels[e]);
	cfg_bool(x, lg, "log", "json", false, c->log_json, &c->log_json);
}

/* stomp: the listener rm (or a broker-less peer) sends records to. */
static void read_stomp(cfg_ctx_t *x, rs_config_t *c, const cJSON *root)
{
	const cJSON *st = cfg_object(x, root, "", "stomp", false);
	cfg_no_unknown(x, st, "stomp", stomp_keys);
	str_opt(x, st, "stomp", "listen", c->stomp_listen, sizeof(c->stomp_listen));
	int_opt(x, st, "stomp", "port", &c->stomp_port, 1, 65535);
	str_opt(x, st, "stomp", "login", c->stomp_login, sizeof(c->stomp_login));
	str_opt(x, st, "stomp", "passcode", c->stomp_passcode, sizeof(c->stomp_passcode));
	cfg_bool(x, st, "stomp", "allow_anonymous", false, c->stomp_allow_anonymous,
		 &c->stomp_allow_anonymous);
	tls_config_read(x, st, "stomp", "tls", TLS_SERVER, &c->stomp_tls);
	int_opt(x, st, "stomp", "max_connections", &c->stomp_max_connections, 0, 100000);
	int_opt(x, st, "stomp", "max_connections_per_source", &c->stomp_max_connections_per_source, 0, 100000);
	int_opt(x, st, "stomp", "connect_timeout_ms", &c->stomp_connect_timeout_ms, 100, 600000);
	cfg_int(x, st, "stomp", "max_frame_size", false, c->stomp_max_frame_size, 1024,
		64LL * 1024 * 1024, &c->stomp_max_frame_size);
	int_opt(x, st, "stomp", "heartbeat_ms", &c->stomp_heartbeat_ms, 0, 3600000);
	int_opt(x, st, "stomp", "max_inflight", &c->stomp_max_inflight, 1, 1000000);
}

/* http: the ops endpoints. */
static void read_http(cfg_ctx_t *x, rs_config_t *c, const cJSON *root)
{
	const cJSON *ht = cfg_object(x, root, "", "http", false);
	cfg_no_unknown(x, ht, "http", http_keys);
	str_opt(x, ht, "http", "listen", c->http_listen, sizeof(c->http_listen));
	int_opt(x, ht, "http", "port", &c->http_port, 0, 65535);
	int_opt(x, ht, "http", "max_connections", &c->http_max_connections, 0, 100000);
}

/* storage: the backend and its settings. */
static void read_storage(cfg_ctx_t *x, rs_config_t *c, const cJSON *root)
{
	int e;

	const cJSON *sto = cfg_object(x, root, "", "storage", false);
	cfg_no_unknown(x, sto, "storage", storage_keys);
	e = c->backend;
	if (!cfg_enum(x, sto, "storage", "backend", false, e, backends, &e))
		c->backend = e;
	const cJSON *sq = cfg_object(x, sto, "storage", "sqlite", false);
	cfg_no_unknown(x, sq, "storage.sqlite", sqlite_keys);
	str_opt(x, sq, "storage.sqlite", "path", c->sqlite_path, sizeof(c->sqlite_path));
	const cJSON *pg = cfg_object(x, sto, "storage", "postgresql", false);
	cfg_no_unknown(x, pg, "storage.postgresql", pg_keys);
	str_opt(x, pg, "storage.postgresql", "conninfo", c->pg_conninfo, sizeof(c->pg_conninfo));
	int_opt(x, pg, "storage.postgresql", "statement_timeout_ms", &c->pg_statement_timeout_ms, 100, 3600000);
}

/* writer: batching and retry of the writer thread. */
static void read_writer(cfg_ctx_t *x, rs_config_t *c, const cJSON *root)
{
	const cJSON *wr = cfg_object(x, root, "", "writer", false);
	cfg_no_unknown(x, wr, "writer", writer_keys);
	int_opt(x, wr, "writer", "batch_max", &c->batch_max, 1, 100000);
	int_opt(x, wr, "writer", "queue_max", &c->queue_max, 1, 10000000);
	int_opt(x, wr, "writer", "retry_ms", &c->retry_ms, 10, 600000);
}

/* journal: the local journal used while the database is away. */
static void read_journal(cfg_ctx_t *x, rs_config_t *c, const cJSON *root)
{
	const cJSON *jn = cfg_object(x, root, "", "journal", false);
	cfg_no_unknown(x, jn, "journal", journal_keys);
	str_opt(x, jn, "journal", "dir", c->journal_dir, sizeof(c->journal_dir));
	cfg_int(x, jn, "journal", "max_bytes", false, c->journal_max_bytes, 4096,
		1LL << 50, &c->journal_max_bytes);
	int_opt(x, jn, "journal", "high_water_percent", &c->journal_high_water_percent, 1, 100);
}

/* An API token: 16..127 printable ASCII characters, none of them ',' or a space (the
 * env form separates entries with ','). NULL when valid, else why not. */
static const char *api_token_bad(const char *t)
{
	size_t n = strlen(t);
	if (n < 16 || n > 127)
		return "expected 16 to 127 characters";
	for (; *t; t++)
		if (*t <= ' ' || *t > '~' || *t == ',')
			return "expected printable characters without ',' or spaces";
	return NULL;
}

/* Store one token (tenant "*" for an admin). 0, or -1 via cfg_fail. */
static int api_token_add(cfg_ctx_t *x, rs_config_t *c, const char *where, const char *token,
			 const char *tenant)
{
	const char *why = api_token_bad(token);
	if (why)
		return cfg_fail(x, where, "token", "%s", why);
	if (!tenant[0] || strlen(tenant) >= sizeof(c->api_tokens[0].tenant))
		return cfg_fail(x, where, "tenant", "expected 1 to %zu characters (\"*\": admin)",
				sizeof(c->api_tokens[0].tenant) - 1);
	if (c->api_ntokens == RS_API_MAX_TOKENS)
		return cfg_fail(x, where, "token", "at most %d tokens", RS_API_MAX_TOKENS);
	for (int i = 0; i < c->api_ntokens; i++)
		if (!strcmp(c->api_tokens[i].token, token))
			return cfg_fail(x, where, "token", "the same token is given twice");
	snprintf(c->api_tokens[c->api_ntokens].token, sizeof(c->api_tokens[0].token), "%s", token);
	snprintf(c->api_tokens[c->api_ntokens++].tenant, sizeof(c->api_tokens[0].tenant), "%s",
		 tenant);
	return 0;
}

/* api: tokens of the /ems-rs API and the stream's subscriber cap. */
static void read_api(cfg_ctx_t *x, rs_config_t *c, const cJSON *root)
{
	const cJSON *api = cfg_object(x, root, "", "api", false);
	cfg_no_unknown(x, api, "api", api_keys);
	int_opt(x, api, "api", "stream_max_subscribers", &c->api_stream_max, 1, 10000);
	const cJSON *toks = cfg_array(x, api, "api", "tokens", false), *it;
	int i = 0;
	if (!toks || x->failed)
		return;
	if (!cJSON_IsArray(toks)) {
		cfg_fail(x, "api", "tokens", "expected an array of {\"token\", \"tenant\"}");
		return;
	}
	c->api_ntokens = 0;
	cJSON_ArrayForEach(it, toks) {
		char where[32], tok[160], ten[80];
		snprintf(where, sizeof where, "api.tokens[%d]", i++);
		if (!cJSON_IsObject(it)) {
			cfg_fail(x, "api", where + 4, "expected an object {\"token\", \"tenant\"}");
			return;
		}
		cfg_no_unknown(x, it, where, api_token_keys);
		if (cfg_str(x, it, where, "token", true, "", tok, sizeof tok) ||
		    cfg_str(x, it, where, "tenant", true, "", ten, sizeof ten) ||
		    api_token_add(x, c, where, tok, ten))
			return;
	}
}

int rs_config_api_env(rs_config_t *c, const char *tokens, char *err, size_t errlen)
{
	cfg_ctx_t x;
	const char *p = tokens;

	cfg_ctx_init(&x, "env", err, errlen);
	if (!tokens || !tokens[0])
		return 0;
	c->api_ntokens = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		char entry[256], *colon;
		if (n >= sizeof entry)
			return cfg_fail(&x, "", "RS_API_TOKENS", "an entry is longer than %zu bytes",
					sizeof entry - 1);
		snprintf(entry, sizeof entry, "%.*s", (int)n, p);
		colon = strchr(entry, ':');
		if (!colon || colon == entry)
			return cfg_fail(&x, "", "RS_API_TOKENS",
					"expected \"tenant:token\" entries separated by ','");
		*colon = 0;
		if (api_token_add(&x, c, "RS_API_TOKENS", colon + 1, entry))
			return -1;
		p += n + (p[n] == ',');
	}
	return 0;
}

/* report: the /ems-rs/ API, rollups and their retention. */
static void read_report(cfg_ctx_t *x, rs_config_t *c, const cJSON *root)
{
	const cJSON *rp = cfg_object(x, root, "", "report", false);
	cfg_no_unknown(x, rp, "report", report_keys);
	cfg_bool(x, rp, "report", "enabled", false, c->report_enabled, &c->report_enabled);
	cfg_bool(x, rp, "report", "rollups", false, c->report_rollups, &c->report_rollups);
	int_opt(x, rp, "report", "max_limit", &c->report_max_limit, 1, 1000000);
	const cJSON *rd = cfg_object(x, rp, "report", "retention_days", false);
	cfg_no_unknown(x, rd, "report.retention_days", retention_keys);
	for (int i = 0; retention_keys[i]; i++)
		int_opt(x, rd, "report.retention_days", retention_keys[i],
			&c->report_retention_days[i], 0, 100000);
	int_opt(x, rp, "report", "retention_batch", &c->report_retention_batch, 1, 1000000);
	int_opt(x, rp, "report", "retention_interval_s", &c->report_retention_interval_s, 1,
		86400);
	int_opt(x, rp, "report", "export_page", &c->report_export_page, 1, 100000);
}

int rs_config_from_json_env(rs_config_t *c, const void *rootv, const char *file,
			    const char *pg_url, char *err, size_t errlen)
{
	const cJSON *root = rootv;
	cfg_ctx_t x;

	cfg_ctx_init(&x, file, err, errlen);
	if (root && !cJSON_IsObject(root))
		return cfg_fail(&x, "", "(root)", "expected a JSON object");
	cfg_no_unknown(&x, root, "", top_keys);
	read_log(&x, c, root);
	read_stomp(&x, c, root);
	read_http(&x, c, root);
	read_storage(&x, c, root);
	read_writer(&x, c, root);
	read_journal(&x, c, root);
	read_broker(&x, c, root);
	read_snmp(&x, c, root);
	read_api(&x, c, root);
	read_report(&x, c, root);

	if (x.failed)
		return -1;
	if (pg_url && pg_url[0]) {
		if (strlen(pg_url) >= sizeof(c->pg_conninfo))
			return cfg_fail(&x, "env", "RS_PG_URL", "longer than %zu bytes",
					sizeof(c->pg_conninfo) - 1);
		snprintf(c->pg_conninfo, sizeof(c->pg_conninfo), "%s", pg_url);
	}
	return check_all(&x, c);
}

int rs_config_load(rs_config_t *c, const char *path, char *err, size_t errlen)
{
	cfg_ctx_t x;
	cfg_ctx_init(&x, path, err, errlen);
	cJSON *root = cfg_load_file(&x, path);
	if (!root)
		return -1;
	int rc = rs_config_from_json_env(c, root, path, getenv("RS_PG_URL"), err, errlen);
	cJSON_Delete(root);
	return rc;
}
