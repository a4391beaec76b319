/*
 * config: the one configuration struct of rs, loaded and validated once.
 *
 * Every key is optional; the defaults make `rs` with no -c a working SQLite sink on
 * 127.0.0.1:61616 / :8080. Errors name the file, the key path and the reason.
 */
#ifndef RS_CONFIG_H
#define RS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum rs_backend { RS_BACKEND_SQLITE = 0, RS_BACKEND_POSTGRESQL };

typedef struct rs_config {
	/* log */
	char log_file[512];  /* "-" = stderr */
	char log_level[16];  /* error|warn|info|debug */
	bool log_json;
	/* stomp */
	char stomp_listen[64];
	int stomp_port;
	char stomp_login[128];    /* "" = no authentication */
	char stomp_passcode[128];
	int stomp_max_connections;
	long long stomp_max_frame_size;
	int stomp_heartbeat_ms;   /* what we offer both ways; 0 = none */
	int stomp_max_inflight;   /* per connection, records not yet receipted */
	/* http */
	char http_listen[64];
	int http_port;            /* 0 = no HTTP listener */
	/* storage */
	enum rs_backend backend;
	char sqlite_path[512];
	char pg_conninfo[1024];
	/* writer */
	int batch_max;            /* records per transaction */
	int queue_max;            /* records accepted but not yet durable, all connections */
	int retry_ms;             /* how often to retry an unreachable database */
	/* journal */
	char journal_dir[512];
	long long journal_max_bytes;
} rs_config_t;

/* Fill every field with its default. */
void rs_config_defaults(rs_config_t *c);

/* Load path (as shown in errors: its basename... the path as given) over the defaults.
 * Returns 0, or -1 with "FILE: KEY: reason" in err. */
int rs_config_load(rs_config_t *c, const char *path, char *err, size_t errlen);

/* Load from an already parsed tree; `file` is the name used in errors. */
int rs_config_from_json(rs_config_t *c, const void *root, const char *file, char *err,
			size_t errlen);

#endif
