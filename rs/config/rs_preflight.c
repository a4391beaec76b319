/*
 * rs_preflight: rs's start-up checks on the host (see rs_preflight.h).
 */
#include "rs_preflight.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "cfg.h"
#include "preflight.h"

/* libpq's own parser, so both forms ("host=... dbname=..." and
 * "postgresql://user@host/db?...") are judged exactly as PQconnectdb will. */
static int rs_preflight_conninfo(cfg_ctx_t *c, const char *conninfo, int from_env)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);

	if (opts) {
		PQconninfoFree(opts);
		return 0;
	}
	if (msg) {
		size_t n = strlen(msg);
		while (n && (msg[n - 1] == '\n' || msg[n - 1] == '.'))
			msg[--n] = '\0';
	}
	cfg_fail(c, from_env ? "env" : "storage.postgresql", from_env ? "RS_PG_URL" : "conninfo",
		 "not a libpq connection string (key=value pairs or a postgresql:// URL): %s",
		 msg ? msg : "out of memory");
	PQfreemem(msg);
	return -1;
}

/* SQLite writes a rollback journal or WAL file beside the database: its directory
 * must be writable even when the file exists. */
static int rs_preflight_sqlite(cfg_ctx_t *c, const char *path)
{
	char dir[600];
	const char *slash = strrchr(path, '/');

	if (preflight_file(c, "storage.sqlite", "path", path) < 0)
		return -1;
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (access(dir, W_OK | X_OK) < 0)
		return cfg_fail(c, "storage.sqlite", "path", "directory %s is not writable (SQLite "
				"keeps its journal beside the database): %s", dir, strerror(errno));
	return 0;
}

int rs_preflight(const rs_config_t *cfg, const char *file, int pg_from_env, char *err,
		 size_t errlen)
{
	cfg_ctx_t c;

	cfg_ctx_init(&c, file ? file : "(defaults)", err, errlen);
	preflight_listen(&c, "stomp", "listen", cfg->stomp_listen);
	if (cfg->http_port)
		preflight_listen(&c, "http", "listen", cfg->http_listen);
	preflight_file(&c, "log", "file", cfg->log_file);
	preflight_dir(&c, "journal", "dir", cfg->journal_dir);
	if (cfg->backend == RS_BACKEND_SQLITE)
		rs_preflight_sqlite(&c, cfg->sqlite_path);
	else if (!c.failed)
		rs_preflight_conninfo(&c, cfg->pg_conninfo, pg_from_env);
	return c.failed ? -1 : 0;
}
