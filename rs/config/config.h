/*
 * config: the one configuration struct of rs, loaded and validated once.
 *
 * Every key is optional; the defaults make `rs` with no -c a working SQLite sink on
 * 127.0.0.1:61616 / :8080. Errors name the file, the key path and the reason.
 * Examples: etc/rs.json (every key with its default), etc/rs-consumer.json.
 *
 *   log      {file "-", level info, json false}
 *   stomp    {listen, port 61616, login, passcode, max_connections, max_frame_size,
 *             heartbeat_ms, max_inflight, connect_timeout_ms 5000,
 *             max_connections_per_source 256}: rs's own STOMP listener (always on:
 *             it also serves the liveness probe); max_connections 0 = sized from the
 *             open-file limit;
 *            allow_anonymous false: a listen address off loopback (127/8) needs a
 *            login unless this is true; tls {enabled, cert_file, key_file, ca_file,
 *            require_client_cert} (common/ev/tls.h). Env RS_STOMP_LOGIN /
 *            RS_STOMP_PASSCODE, when set and non-empty, replace login / passcode.
 *   http     {listen, port 8080 (0 = off), max_connections 0 (= from the open-file
 *             limit)}: /healthz /readyz /metrics
 *   storage  {backend sqlite|postgresql, sqlite.path, postgresql.conninfo,
 *            postgresql.statement_timeout_ms 3000}; env
 *            RS_PG_URL, when set and non-empty, replaces postgresql.conninfo (the
 *            helm chart passes the URL from a Secret that way)
 *   writer   {batch_max, queue_max, retry_ms}
 *   journal  {dir, max_bytes, high_water_percent 80 (rsJournalHighWater trap)}
 *   broker   {mode listen|consume (listen), endpoints ["host:port", ...],
 *             login, passcode, destinations [/queue/gvp.cdr, /queue/gvp.events,
 *             /queue/gvp.metrics], prefetch 1000, heartbeat_ms 10000,
 *             reconnect_min_ms 100, reconnect_max_ms 5000}
 *            consume: rs connects to the first endpoint that answers (then the
 *            next on failure, backing off from min to max), SUBSCRIBEs to each
 *            destination with ack:client-individual and activemq.prefetchSize =
 *            prefetch, and ACKs a message only once the batch holding it is durable
 *            (database, or journal while the database is down). Several rs may
 *            consume one queue: inserts are idempotent on the record id.
 *            tls {enabled, ca_file, cert_file, key_file, verify true}: TLS toward
 *            the broker (common/ev/tls.h)
 *   snmp     {enabled false, master "tcp:127.0.0.1:1705", base_oid
 *            "1.3.6.1.4.1.99999.1"}: AgentX subagent serving BASE.2
 *            (etc/mibs/GVP-RS-MIB.txt)
 *   api      {tokens [{token, tenant}] ([]), stream_max_subscribers 32}: who may read
 *            the /ems-rs API (rs/rt/api_auth.h). tenant "*" is an admin token (sees
 *            every tenant); any other tenant's token sees only that tenant. Tokens
 *            are 16..127 printable characters without ',' or spaces. Env
 *            RS_API_TOKENS ("tenant:token,tenant:token", e.g. from a Secret), when
 *            set and non-empty, replaces api.tokens (rs_config_api_env). Without a
 *            token, requests are refused (401) unless http.listen is loopback.
 *   report   {enabled true, rollups true, max_limit 10000, retention_days {raw 0,
 *            five_minutes 35, thirty_minutes 100, hour 400, day 0} (0 = keep),
 *            retention_batch 1000, retention_interval_s 60}: the /ems-rs/ report
 *            API on the HTTP port (rs/report/report.h); rollups off is for the
 *            bench's comparison only (the API then answers from what is there)
 */
#ifndef RS_CONFIG_H
#define RS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "tls.h"

enum rs_backend { RS_BACKEND_SQLITE = 0, RS_BACKEND_POSTGRESQL };

/* broker.mode: listen = producers connect to rs's own STOMP listener (the default);
 * consume = rs also connects to an external broker (ActiveMQ) and SUBSCRIBEs. */
enum rs_broker_mode { RS_BROKER_LISTEN = 0, RS_BROKER_CONSUME };

#define RS_BROKER_MAX_ENDPOINTS 8
#define RS_BROKER_MAX_DESTS 3

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
	int stomp_max_connections; /* 0 = from the open-file limit (main sets the result) */
	int stomp_max_connections_per_source; /* per source address; 0 = no cap */
	int stomp_connect_timeout_ms; /* close a connection that has not sent CONNECT */
	bool stomp_allow_anonymous; /* no login on a non-loopback listen address is OK */
	tls_config_t stomp_tls;     /* server role: require_client_cert is .verify */
	long long stomp_max_frame_size;
	int stomp_heartbeat_ms;   /* what we offer both ways; 0 = none */
	int stomp_max_inflight;   /* per connection, records not yet receipted */
	/* http */
	char http_listen[64];
	int http_port;            /* 0 = no HTTP listener */
	int http_max_connections; /* 0 = from the open-file limit (main sets the result) */
	/* storage */
	enum rs_backend backend;
	char sqlite_path[512];
	char pg_conninfo[1024];
	/* Server-side statement_timeout (unless the conninfo sets one) and, plus 0.5 s, how
	 * long rs waits for any answer before it counts the database as down. */
	int pg_statement_timeout_ms;
	/* writer */
	int batch_max;            /* records per transaction */
	int queue_max;            /* records accepted but not yet durable, all connections */
	int retry_ms;             /* how often to retry an unreachable database */
	/* journal */
	char journal_dir[512];
	long long journal_max_bytes;
	int journal_high_water_percent; /* rsJournalHighWater trap when crossed upward */
	/* broker (consume mode) */
	enum rs_broker_mode broker_mode;
	char broker_endpoints[RS_BROKER_MAX_ENDPOINTS][256]; /* "host:port", in order */
	int broker_nendpoints;
	char broker_login[128];
	char broker_passcode[128];
	tls_config_t broker_tls;  /* client role */
	char broker_dests[RS_BROKER_MAX_DESTS][64]; /* /queue/gvp.{cdr,events,metrics} */
	int broker_ndests;
	int broker_prefetch;      /* unacknowledged messages the broker may send us */
	int broker_heartbeat_ms;
	int broker_reconnect_min_ms, broker_reconnect_max_ms;
	/* snmp (AgentX subagent) */
	bool snmp_enabled;
	char snmp_master[256];
	char snmp_base_oid[128];  /* BASE; rs serves BASE.2 */
	/* api */
#define RS_API_MAX_TOKENS 64
	struct rs_api_token {
		char token[128];
		char tenant[64]; /* "*" = admin */
	} api_tokens[RS_API_MAX_TOKENS];
	int api_ntokens;
	int api_stream_max;       /* /ems-rs/RT/stream subscribers at once */
	/* report */
	bool report_enabled;      /* /ems-rs/ API on the HTTP port */
	bool report_rollups;      /* maintain rollups in the write transaction */
	int report_max_limit;     /* details: largest `limit` */
	/* retention in days, 0 = keep: [0] raw cdr, [1 + rollup granularity] rollups */
	int report_retention_days[5];
	int report_retention_batch;      /* rows per delete transaction */
	int report_retention_interval_s; /* between retention passes */
	int report_export_page;          /* records per read of a streamed CSV export */
} rs_config_t;

/* Fill every field with its default. */
void rs_config_defaults(rs_config_t *c);

/* Load path (as shown in errors: its basename... the path as given) over the defaults.
 * Returns 0, or -1 with "FILE: KEY: reason" in err. */
int rs_config_load(rs_config_t *c, const char *path, char *err, size_t errlen);

/* Load from an already parsed tree; `file` is the name used in errors. */
int rs_config_from_json(rs_config_t *c, const void *root, const char *file, char *err,
			size_t errlen);

/* The same, where pg_url (may be NULL or "") is the value of env RS_PG_URL: when set it
 * replaces storage.postgresql.conninfo (libpq accepts URLs and key=value strings).
 * rs_config_load and main pass getenv("RS_PG_URL"); this stays pure for tests. */
int rs_config_from_json_env(rs_config_t *c, const void *root, const char *file,
			    const char *pg_url, char *err, size_t errlen);

/* Apply env RS_PG_URL to a config that was not loaded from a file, and check that a
 * PostgreSQL backend has a conninfo. 0, or -1 with err. */
int rs_config_apply_env(rs_config_t *c, const char *pg_url, char *err, size_t errlen);

/* Apply env RS_API_TOKENS (tokens, may be NULL or ""): when set and non-empty, its
 * comma-separated "tenant:token" entries replace api.tokens. 0, or -1 with
 * "env: RS_API_TOKENS: reason" in err. Pure (main passes getenv's value). */
int rs_config_api_env(rs_config_t *c, const char *tokens, char *err, size_t errlen);

#endif
