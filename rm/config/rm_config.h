/*
 * rm_config: the one configuration struct of the Resource Manager.
 *
 * Loaded from JSON (etc/rm.json is a complete, commented-by-example file) with
 * common/cfg.h and validated once: every reference (profile -> lrg, profile -> tenant,
 * tenant -> profile, dnis -> profile, default_profile) resolves, names are unique, and
 * every number is in range. Errors name the file, the key path and the reason:
 *   rm.json: lrg "ivr".scheme: expected one of round-robin, least-used,
 *   least-percent, weighted; got "rr"
 * Unknown keys are errors (typos must not pass silently).
 *
 * Ownership: rm_config_load fills a caller-provided struct; rm_config_free releases
 * the arrays inside it (not the struct). All strings are fixed-size arrays inside the
 * struct, so pointers into a loaded config stay valid until rm_config_free.
 *
 * JSON shape (every section and most keys optional; defaults in brackets):
 *   node                      string ["rm-1"]
 *   sip.listen                host [127.0.0.1]     sip.port [5060]
 *   sip.transports            ["udp","tcp"]        (subset of udp, tcp; non-empty)
 *   sip.advertise             host [sip.listen; env POD_IP when sip.listen is a
 *                             wildcard such as 0.0.0.0]: rm's address in Record-Route
 *                             and in its own requests, and how it recognises
 *                             requests addressed to itself
 *   sip.sip_servers           ["sip:127.0.0.1:5090"] SIP Server URIs for
 *                             out-of-dialog requests that MCPs originate
 *   sip.trusted               [] more sources allowed to send SIP to rm, as
 *                             "ADDR" or "ADDR/PREFIX" (SIP Servers and LRG members
 *                             are always trusted; see rm/core/sip_trust.h)
 *   sip.untrusted             ["reject"] reject (403) | drop: what other sources get
 *   lrgs[]                    {name, scheme [round-robin],
 *                              members[]: {uri, max_ports [100], weight [1]}}
 *   tenants[]                 {name, profile (default profile of the tenant, optional),
 *                              limits {l1, l2, l3}}
 *   profiles[]                {name, id (optional, matched against header
 *                              X-Genesys-gsw-ivr-profile-id), tenant ["default"],
 *                              service_type ["voicexml"], lrg, limits {l1, l2, l3}}
 *   dnis                      {"8005551212": "profile-name", ...}
 *   default_profile           profile name (optional: no default means unmatched
 *                             calls are refused with reason no-profile)
 *   reject                    {code [503], retry_after [30],
 *                              reasons: {"profile-limit": {code, retry_after}, ...}}
 *   failover                  {codes [408,500,503], on_timeout [true],
 *                              max_attempts [3], attempt_timeout_ms [2000]}
 *   monitor                   {interval_ms [2000], timeout_ms [1000],
 *                              failures_to_down [3], successes_to_up [2]}
 *   session                   {max_duration_s [14400], drain_timeout_s [60],
 *                              keepalive_s [30]: in-dialog OPTIONS, 0 = off,
 *                              ack_timeout_ms [32000] (64*T1; 1000..300000)}
 *   sip.udp_rmem, sip.udp_wmem  UDP socket buffers, bytes [4194304] (64 KiB..1 GiB)
 *   overload                  {max_cps [-1 = off; 0 = automatic], max_pending [1000]
 *                              (0 = off), lag_ms [200], max_tcp_connections
 *                              [1000] (0 = no limit)}; refused INVITEs get
 *                              reject.reasons.overload [503, retry_after 2]
 *   http                      {listen [127.0.0.1], port [8300], watchdog_s [5]}
 *   billing                   {mode [stomp]: stomp|spool-only|off,
 *                              endpoints ["127.0.0.1:61616"], destination
 *                              ["/queue/gvp.cdr"], spool_dir ["/var/spool/rm"],
 *                              spool_max_bytes [1073741824], login [""],
 *                              passcode [""] (sent in STOMP CONNECT when login
 *                              is set),
 *                              tls {enabled [false], ca_file, cert_file, key_file,
 *                              verify [true]} (common/ev/tls.h)}
 *   logging                   {level [info], file ["-" = stderr], json [false],
 *                              rate_per_s [20]: lines per message per second}
 *   sip.dns                   "on" | "off" | {mode [on], timeout_ms [2000],
 *                              cache_s [30], grace_s [300]} (rm_config_robust.c)
 *   cluster                   {node [node], listen [0.0.0.0], port [9801],
 *                              peers [] of "host:port" (names re-resolved at each
 *                              connect; at most 16), key [""] (>= 16 bytes; env
 *                              RM_CLUSTER_KEY replaces it), heartbeat_ms [150]
 *                              (20..10000), dead_after_ms [850] (> 2 heartbeats,
 *                              <= 60000), publish_ms [10] (1..1000), limits
 *                              ["normal"] | "strict" (each node admits at most
 *                              l3 / nodes of a hard limit), nodes (the cluster's
 *                              size, 2..16; required with strict), adopt
 *                              ["end"] | "keep" (a dead peer's answered calls:
 *                              BYE both sides, or go on routing them; "keep"
 *                              needs sip.advertise set to a shared address other
 *                              than sip.listen), tls {enabled
 *                              [false], cert_file, key_file (both required when
 *                              enabled), ca_file, verify [true]: mutual TLS when
 *                              ca_file is set}}: peering runs
 *                              when the section is present and a key is set (else
 *                              rm logs a warning and runs standalone); README
 *                              "Cluster"
 *   snmp                      {enabled [false], master ["tcp:127.0.0.1:1705"]
 *                              (net-snmp transport), base_oid ["1.3.6.1.4.1.99999.1"]
 *                              (dotted numeric; rm serves BASE.1, see etc/mibs)}
 *
 * Environment: RM_NODE_NAME, when set and not empty, replaces "node" (the helm chart
 * sets it to the pod name); it is validated like "node". POD_IP (also set by the
 * chart) becomes sip_advertise when sip.listen is a wildcard and sip.advertise is
 * absent. RM_BILLING_LOGIN / RM_BILLING_PASSCODE, when set, replace billing.login /
 * billing.passcode (the helm chart fills them from a Secret).
 *
 * Limits: {l1 usage limit, l2 burst limit, l3 hard limit}, concurrent calls. l3 absent
 * or 0 means unlimited (then l1/l2 must be absent or 0 too). Otherwise
 * 1 <= l1 <= l2 <= l3; an absent l1 or l2 defaults to the next level up.
 *
 * Tenants: a tenant named by a profile but not listed under "tenants" exists
 * implicitly, with no limits (implicit = true). A listed tenant's "profile", if
 * given, must name a profile of that tenant.
 *
 * Not thread-safe; load in one thread, then treat the struct as read-only.
 */
#ifndef RM_CONFIG_H
#define RM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls.h"

#define RM_NAME_MAX 64   /* names of lrgs, profiles, tenants, node; incl. NUL */
#define RM_URI_MAX 256   /* SIP URIs; incl. NUL */
#define RM_CIDR_MAX 64   /* sip.trusted entries; incl. NUL */
#define RM_HOST_MAX 128  /* listen hosts, "host:port" endpoints; incl. NUL */
#define RM_PATH_MAX 512
#define RM_SECRET_MAX 256 /* billing login / passcode; incl. NUL */
#define RM_MAX_ATTEMPTS 16 /* upper bound of failover.max_attempts */

enum rm_scheme {
	RM_SCHEME_ROUND_ROBIN = 0,
	RM_SCHEME_LEAST_USED,
	RM_SCHEME_LEAST_PERCENT,
	RM_SCHEME_WEIGHTED,
};
/* "round-robin", "least-used", "least-percent", "weighted"; "?" if out of range. */
const char *rm_scheme_name(enum rm_scheme s);

/*
 * Why a call is refused. Declared here (not in route.h) because the config maps each
 * reason to a SIP code; route.h returns these. RM_REFUSE_NONE means admitted.
 */
enum rm_refuse {
	RM_REFUSE_NONE = 0,
	RM_REFUSE_PROFILE_LIMIT,
	RM_REFUSE_TENANT_LIMIT,
	RM_REFUSE_NO_MCP_UP,
	RM_REFUSE_MCP_CAPACITY,
	RM_REFUSE_DRAINING,
	RM_REFUSE_NO_PROFILE,
	RM_REFUSE_OVERLOAD, /* shed before routing (overload.h) */
	RM_REFUSE_COUNT
};
/* Stable names for metrics labels and config keys: "none", "profile-limit",
 * "tenant-limit", "no-mcp-up", "mcp-capacity", "draining", "no-profile", "overload".
 * "?" if out of range. */
const char *rm_refuse_name(enum rm_refuse r);

enum rm_billing_mode {
	RM_BILLING_STOMP = 0,
	RM_BILLING_SPOOL_ONLY,
	RM_BILLING_OFF,
};
const char *rm_billing_mode_name(enum rm_billing_mode m);

/* Concurrent-call limits; l3 == 0 means unlimited (l1 == l2 == 0 then). */
struct rm_limits {
	int l1; /* usage limit */
	int l2; /* burst limit */
	int l3; /* hard limit: a call is admitted while count < l3 */
};

struct rm_member {
	char uri[RM_URI_MAX]; /* "sip:host:port[;transport=tcp]" */
	int max_ports;        /* 1..1000000 */
	int weight;           /* 1..1000 */
};

struct rm_lrg {
	char name[RM_NAME_MAX];
	enum rm_scheme scheme;
	struct rm_member *members; /* n_members >= 1 */
	size_t n_members;
};

struct rm_tenant {
	char name[RM_NAME_MAX];
	char profile[RM_NAME_MAX]; /* "" = first profile of this tenant */
	struct rm_limits limits;
	bool implicit; /* named by a profile only; no limits */
};

struct rm_profile {
	char name[RM_NAME_MAX];
	char id[RM_NAME_MAX]; /* "" = no id */
	char tenant[RM_NAME_MAX];
	char service_type[RM_NAME_MAX];
	char lrg[RM_NAME_MAX];
	size_t lrg_index;    /* index into rm_config.lrgs, resolved at load */
	size_t tenant_index; /* index into rm_config.tenants, resolved at load */
	struct rm_limits limits;
};

struct rm_dnis {
	char dnis[RM_NAME_MAX];
	size_t profile_index; /* index into rm_config.profiles */
};

struct rm_reject {
	int code;        /* 400..699 */
	int retry_after; /* seconds; 0 = no Retry-After header */
};

struct rm_config {
	char file[RM_PATH_MAX]; /* path it was loaded from */
	char node[RM_NAME_MAX];

	/* SIP */
	char sip_listen[RM_HOST_MAX];
	char sip_advertise[RM_HOST_MAX]; /* never empty after load (see sip.advertise) */
	int sip_port;
	bool sip_udp, sip_tcp;
	char (*sip_servers)[RM_URI_MAX];
	size_t n_sip_servers; /* >= 1 */
	char (*sip_trusted)[RM_CIDR_MAX]; /* sip.trusted, validated CIDRs */
	size_t n_sip_trusted;
	bool sip_untrusted_drop;          /* sip.untrusted: "drop" */
	int sip_udp_rmem, sip_udp_wmem; /* UDP socket buffer sizes asked for, bytes */

	/* overload control (overload.h); the refusal is reject[RM_REFUSE_OVERLOAD] */
	int overload_max_cps;     /* > 0 fixed; 0 automatic; -1 off (default, see README) */
	int overload_max_pending; /* routed INVITEs in setup at most; 0 = no limit */
	int overload_lag_ms;      /* a tick this late means rm is behind */
	int overload_max_tcp;     /* accepted SIP TCP connections at most; 0 = no limit */

	/* resources and applications */
	struct rm_lrg *lrgs;
	size_t n_lrgs; /* >= 1 */
	struct rm_tenant *tenants; /* listed ones first, then implicit ones */
	size_t n_tenants;
	struct rm_profile *profiles;
	size_t n_profiles; /* >= 1 */
	struct rm_dnis *dnis; /* in file order; unique */
	size_t n_dnis;
	bool has_default_profile;
	size_t default_profile; /* index into profiles when has_default_profile */

	/* refusals: reject[reason] (reject[RM_REFUSE_NONE] is the section default) */
	struct rm_reject reject[RM_REFUSE_COUNT];

	/* failover */
	int *failover_codes;
	size_t n_failover_codes;
	bool failover_on_timeout;
	int max_attempts;       /* 1..RM_MAX_ATTEMPTS, attempts in total incl. the first */
	int attempt_timeout_ms; /* no response (not even provisional) within this = timeout */

	/* MCP health (SIP OPTIONS) */
	int monitor_interval_ms;
	int monitor_timeout_ms;
	int monitor_failures_to_down; /* K */
	int monitor_successes_to_up;  /* M */

	/* sessions */
	int max_duration_s;  /* 0 = unlimited */
	int drain_timeout_s;
	int ack_timeout_ms;  /* an answered call not ACKed through rm by then is ended */

	/* HTTP (/healthz /readyz /metrics) */
	char http_listen[RM_HOST_MAX];
	int http_port;

	/* billing (used by the billing issue; loaded and validated now) */
	enum rm_billing_mode billing_mode;
	char (*billing_endpoints)[RM_HOST_MAX]; /* "host:port" */
	size_t n_billing_endpoints;
	char billing_destination[RM_NAME_MAX];
	bool billing_events; /* billing.events: "all" (call.start/answer/end) or "none" */
	char billing_spool_dir[RM_PATH_MAX];
	long long billing_spool_max_bytes;
	char billing_login[RM_SECRET_MAX];    /* "" = no login/passcode in CONNECT */
	char billing_passcode[RM_SECRET_MAX];
	tls_config_t billing_tls; /* client role (common/ev/tls.h) */

	/* cluster on 9801 (rm/cluster/cluster.h; rm_config_cluster.c) */
	bool cluster_present; /* the section was given */
	bool cluster_enabled; /* present and a key is set: peering runs */
	char cluster_node[RM_NAME_MAX]; /* "" = node */
	char cluster_listen[RM_HOST_MAX];
	int cluster_port;
	char (*cluster_peers)[RM_HOST_MAX]; /* "host:port" */
	size_t n_cluster_peers;
	char cluster_key[RM_SECRET_MAX]; /* shared HMAC key; env RM_CLUSTER_KEY wins */
	int cluster_heartbeat_ms;  /* a heartbeat frame to each peer this often */
	int cluster_dead_after_ms; /* no valid frame for this long: the peer is down */
	int cluster_publish_ms;    /* usage changes are sent at most this late */
	bool cluster_strict;       /* limits "strict": per-node shares of 1/cluster_nodes */
	int cluster_nodes;         /* the cluster's size (strict shares); 0 = not given */
	bool cluster_adopt_keep;   /* adopt "keep": a dead peer's answered calls go on
				      here as this node's dialogs (needs a shared
				      sip.advertise); false = "end" them (BYE both sides) */
	tls_config_t cluster_tls;  /* both roles: a node dials and is dialed (client keys;
				      verify with ca_file also makes the listener require
				      and check the dialer's certificate) */

	/* SNMP AgentX subagent (rm_snmp.h) */
	bool snmp_enabled;
	char snmp_master[RM_HOST_MAX];   /* net-snmp transport, e.g. tcp:127.0.0.1:1705 */
	char snmp_base_oid[RM_HOST_MAX]; /* dotted numeric BASE; rm serves BASE.1 */

	/* logging */
	char log_level[16]; /* error|warn|info|debug (parse with log_level_parse) */
	char log_file[RM_PATH_MAX]; /* "-" = stderr */
	bool log_json;

	/* robustness (issue 10): name resolution, watchdog, dialog keepalive, log flood */
	bool dns_off;          /* sip.dns "off": numeric hosts only, names refused at load */
	int dns_timeout_ms;    /* sip.dns.timeout_ms [2000]: bound of one lookup */
	int dns_cache_s;       /* sip.dns.cache_s [30]: how long an answer is used */
	int dns_grace_s;       /* sip.dns.grace_s [300]: last good address kept on failure */
	int watchdog_s;        /* http.watchdog_s [5]: /healthz 503 when the SIP loop stalls */
	int keepalive_s;       /* session.keepalive_s [30]: in-dialog OPTIONS; 0 = off */
	int log_rate_per_s;    /* logging.rate_per_s [20]: lines per message per second */
};

/*
 * Load and validate `path`. On success returns 0 and *cfg is filled (free it with
 * rm_config_free). On failure returns -1, writes one sentence "FILE: KEY: reason" to
 * err (errlen bytes, always NUL-terminated when errlen > 0) and leaves *cfg zeroed
 * (rm_config_free on it is harmless).
 */
int rm_config_load(const char *path, struct rm_config *cfg, char *err, size_t errlen);

/*
 * The same from JSON text already in memory; `name` is what errors call the file.
 * Used by tests and by --check-config on stdin.
 */
int rm_config_parse(const char *json, const char *name, struct rm_config *cfg,
		    char *err, size_t errlen);

/* Free the arrays inside cfg and zero it. cfg may be NULL or already freed. */
void rm_config_free(struct rm_config *cfg);

/* True for a listen address meaning "every interface" (0.0.0.0, ::, [::], *). */
bool rm_config_is_wildcard(const char *host);

/* Lookups (linear; config-time or rare use). Return NULL when absent. */
const struct rm_profile *rm_config_profile(const struct rm_config *cfg, const char *name);
const struct rm_lrg *rm_config_lrg(const struct rm_config *cfg, const char *name);
const struct rm_tenant *rm_config_tenant(const struct rm_config *cfg, const char *name);

/* True when a final response `status` from an MCP should make the proxy try the next
 * MCP (status is one of failover.codes). Timeouts: see failover_on_timeout. */
bool rm_config_is_failover_code(const struct rm_config *cfg, int status);

/* The SIP code and Retry-After (seconds, 0 = none) for refusing with `reason`. */
struct rm_reject rm_config_reject(const struct rm_config *cfg, enum rm_refuse reason);

/* A JSON document with every default filled in (for --dump-defaults / docs).
 * Returns a malloc'd string the caller frees, or NULL on out of memory. */
char *rm_config_defaults_json(void);

/* The listener's side of cluster.tls (t: cfg->cluster_tls): the same files, and
 * require_client_cert when verify is on and ca_file is set. */
void rm_config_cluster_tls_server(const tls_config_t *t, tls_config_t *srv);

#endif
