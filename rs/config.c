/* config: rs.json -> rs_config_t. See config.h and etc/rs.json. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cfg.h"

void rs_config_defaults(rs_config_t *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->log_file, "-");
	strcpy(c->log_level, "info");
	strcpy(c->stomp_listen, "127.0.0.1");
	c->stomp_port = 61616;
	c->stomp_max_connections = 1024;
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
	strcpy(c->journal_dir, "rs-journal");
	c->journal_max_bytes = 1024LL * 1024 * 1024;
}

static const char *const top_keys[] = { "log", "stomp", "http", "storage", "writer",
					"journal", NULL };
static const char *const log_keys[] = { "file", "level", "json", NULL };
static const char *const stomp_keys[] = { "listen", "port", "login", "passcode",
					  "max_connections", "max_frame_size",
					  "heartbeat_ms", "max_inflight", NULL };
static const char *const http_keys[] = { "listen", "port", NULL };
static const char *const storage_keys[] = { "backend", "sqlite", "postgresql", NULL };
static const char *const sqlite_keys[] = { "path", NULL };
static const char *const pg_keys[] = { "conninfo", NULL };
static const char *const writer_keys[] = { "batch_max", "queue_max", "retry_ms", NULL };
static const char *const journal_keys[] = { "dir", "max_bytes", NULL };
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

int rs_config_from_json(rs_config_t *c, const void *rootv, const char *file, char *err,
			size_t errlen)
{
	const cJSON *root = rootv;
	cfg_ctx_t x;
	long long v;
	int e;

	cfg_ctx_init(&x, file, err, errlen);
	if (root && !cJSON_IsObject(root))
		return cfg_fail(&x, "", "(root)", "expected a JSON object");
	cfg_no_unknown(&x, root, "", top_keys);

	const cJSON *lg = cfg_object(&x, root, "", "log", false);
	cfg_no_unknown(&x, lg, "log", log_keys);
	str_opt(&x, lg, "log", "file", c->log_file, sizeof(c->log_file));
	e = 2;
	for (int i = 0; levels[i]; i++)
		if (!strcmp(levels[i], c->log_level))
			e = i;
	cfg_enum(&x, lg, "log", "level", false, e, levels, &e);
	if (!x.failed)
		snprintf(c->log_level, sizeof(c->log_level), "%s", levels[e]);
	cfg_bool(&x, lg, "log", "json", false, c->log_json, &c->log_json);

	const cJSON *st = cfg_object(&x, root, "", "stomp", false);
	cfg_no_unknown(&x, st, "stomp", stomp_keys);
	str_opt(&x, st, "stomp", "listen", c->stomp_listen, sizeof(c->stomp_listen));
	if (!cfg_int(&x, st, "stomp", "port", false, c->stomp_port, 1, 65535, &v))
		c->stomp_port = (int)v;
	str_opt(&x, st, "stomp", "login", c->stomp_login, sizeof(c->stomp_login));
	str_opt(&x, st, "stomp", "passcode", c->stomp_passcode, sizeof(c->stomp_passcode));
	if (!cfg_int(&x, st, "stomp", "max_connections", false, c->stomp_max_connections, 1,
		     100000, &v))
		c->stomp_max_connections = (int)v;
	cfg_int(&x, st, "stomp", "max_frame_size", false, c->stomp_max_frame_size, 1024,
		64LL * 1024 * 1024, &c->stomp_max_frame_size);
	if (!cfg_int(&x, st, "stomp", "heartbeat_ms", false, c->stomp_heartbeat_ms, 0,
		     3600000, &v))
		c->stomp_heartbeat_ms = (int)v;
	if (!cfg_int(&x, st, "stomp", "max_inflight", false, c->stomp_max_inflight, 1,
		     1000000, &v))
		c->stomp_max_inflight = (int)v;

	const cJSON *ht = cfg_object(&x, root, "", "http", false);
	cfg_no_unknown(&x, ht, "http", http_keys);
	str_opt(&x, ht, "http", "listen", c->http_listen, sizeof(c->http_listen));
	if (!cfg_int(&x, ht, "http", "port", false, c->http_port, 0, 65535, &v))
		c->http_port = (int)v;

	const cJSON *sto = cfg_object(&x, root, "", "storage", false);
	cfg_no_unknown(&x, sto, "storage", storage_keys);
	e = c->backend;
	if (!cfg_enum(&x, sto, "storage", "backend", false, e, backends, &e))
		c->backend = e;
	const cJSON *sq = cfg_object(&x, sto, "storage", "sqlite", false);
	cfg_no_unknown(&x, sq, "storage.sqlite", sqlite_keys);
	str_opt(&x, sq, "storage.sqlite", "path", c->sqlite_path, sizeof(c->sqlite_path));
	const cJSON *pg = cfg_object(&x, sto, "storage", "postgresql", false);
	cfg_no_unknown(&x, pg, "storage.postgresql", pg_keys);
	str_opt(&x, pg, "storage.postgresql", "conninfo", c->pg_conninfo, sizeof(c->pg_conninfo));

	const cJSON *wr = cfg_object(&x, root, "", "writer", false);
	cfg_no_unknown(&x, wr, "writer", writer_keys);
	if (!cfg_int(&x, wr, "writer", "batch_max", false, c->batch_max, 1, 100000, &v))
		c->batch_max = (int)v;
	if (!cfg_int(&x, wr, "writer", "queue_max", false, c->queue_max, 1, 10000000, &v))
		c->queue_max = (int)v;
	if (!cfg_int(&x, wr, "writer", "retry_ms", false, c->retry_ms, 10, 600000, &v))
		c->retry_ms = (int)v;

	const cJSON *jn = cfg_object(&x, root, "", "journal", false);
	cfg_no_unknown(&x, jn, "journal", journal_keys);
	str_opt(&x, jn, "journal", "dir", c->journal_dir, sizeof(c->journal_dir));
	cfg_int(&x, jn, "journal", "max_bytes", false, c->journal_max_bytes, 4096,
		1LL << 50, &c->journal_max_bytes);

	if (x.failed)
		return -1;
	if (c->backend == RS_BACKEND_SQLITE && !c->sqlite_path[0])
		return cfg_fail(&x, "storage.sqlite", "path", "must not be empty");
	if (c->journal_dir[0] == 0)
		return cfg_fail(&x, "journal", "dir", "must not be empty");
	if (c->http_port && c->http_port == c->stomp_port &&
	    !strcmp(c->http_listen, c->stomp_listen))
		return cfg_fail(&x, "http", "port", "same as stomp.port (%d)", c->stomp_port);
	return 0;
}

int rs_config_load(rs_config_t *c, const char *path, char *err, size_t errlen)
{
	cfg_ctx_t x;
	cfg_ctx_init(&x, path, err, errlen);
	cJSON *root = cfg_load_file(&x, path);
	if (!root)
		return -1;
	int rc = rs_config_from_json(c, root, path, err, errlen);
	cJSON_Delete(root);
	return rc;
}
