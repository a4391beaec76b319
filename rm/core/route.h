/*
 * route: rm's pure resource decisions. Which profile a call belongs to, whether it is
 * admitted under the profile and tenant limits, which MCP of the profile's group gets
 * it, and the MCP health bookkeeping that drives "down MCPs are skipped".
 *
 * No sockets, no sofia-sip, no clocks: the caller passes everything in.
 * Not thread-safe, on purpose: the whole state lives in rm's SIP thread (see
 * ARCHITECTURE.md). No function here takes a lock.
 *
 * One call, in order (proxy side):
 *   struct route_request rq = { ruri_user, tenant_param, profile_id, profile_name };
 *   struct route_match m;
 *   if (route_select(st, &rq, &m) != 0)          -> refuse RM_REFUSE_NO_PROFILE
 *   if (m.strip_tenant_param)                     strip ;gvp-tenant-id from the R-URI
 *   struct route_ticket t;                        (lives as long as the call)
 *   r = route_admit(st, m.profile, draining, &t); -> refuse r unless RM_REFUSE_NONE
 *   r = route_pick(st, &t);                       -> on refusal: route_release(&t),
 *                                                    refuse r; else forward to
 *                                                    t.mcp->uri
 *   failover (timeout / configured code), while t.attempts < cfg->max_attempts:
 *       r = route_pick(st, &t);                   releases the failed MCP, skips every
 *                                                 MCP already tried
 *   call ends (BYE, CANCEL, final failure, expiry): route_release(&t)
 *   OPTIONS answered / timed out: route_health(mcp, ok, rtt_us, K, M) -> log changes
 *   SIGHUP: route_state_reload(st, newcfg, err, errlen)
 *
 * Ownership and reload. The state owns groups (LRGs) and lookup tables. MCPs,
 * profiles and tenants are reference-counted objects: the state holds one reference
 * to each current one, and every ticket holds one reference to its profile, tenant
 * and current MCP. A reload matches objects by name (MCPs by URI), keeps the matched
 * objects (their active counts, health and ids survive, their config fields are
 * refreshed) and drops the state's reference to the rest ("retired"). A live call
 * therefore always releases into the very object it was counted on, even if that
 * object left the config: route_release needs no state, and the object is freed when
 * the last ticket lets go. An MCP's `id` is stable for the process lifetime and never
 * reused.
 */
#ifndef RM_ROUTE_H
#define RM_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rm_config.h"

/* Usage level at admission: L1 below the usage limit, L2 below the burst limit, L3
 * above it (up to the hard limit). */
enum route_level {
	ROUTE_LEVEL_NONE = 0,
	ROUTE_LEVEL_L1 = 1,
	ROUTE_LEVEL_L2 = 2,
	ROUTE_LEVEL_L3 = 3,
};
/* "none", "L1", "L2", "L3". */
const char *route_level_name(enum route_level l);

/* How the profile was found (for logs and the CDR). */
enum route_by {
	ROUTE_BY_TENANT_PARAM = 0, /* request-URI parameter gvp-tenant-id */
	ROUTE_BY_PROFILE_ID,       /* header X-Genesys-gsw-ivr-profile-id */
	ROUTE_BY_PROFILE_NAME,     /* header X-Genesys-gsw-ivr-profile-name */
	ROUTE_BY_DNIS,             /* request-URI user part */
	ROUTE_BY_DEFAULT,          /* default_profile */
};
/* "tenant-param", "profile-id", "profile-name", "dnis", "default". */
const char *route_by_name(enum route_by b);

/* One MCP (a distinct member URI across all groups). Fields are read-only for
 * callers except through the functions below. */
struct route_mcp {
	unsigned id;          /* stable, unique, never reused; > 0 */
	char uri[RM_URI_MAX];
	int max_ports;        /* from config; the largest if listed in several groups */
	bool up;              /* may be picked; starts true ("unknown", see probed) */
	bool probed;          /* a health result arrived; until then the MCP is routed
				 to (a fresh rm must not refuse calls) but not counted
				 as up for /readyz and rm_mcps_up */
	int active;           /* calls currently holding this MCP */
	int ok_streak;        /* consecutive OPTIONS successes */
	int fail_streak;      /* consecutive OPTIONS failures */
	int64_t last_rtt_us;  /* of the last successful OPTIONS; -1 = none yet */
	uint64_t picks;       /* attempts sent to it (route_pick) */
	bool retired;         /* no longer in the config; kept alive by live calls */
	unsigned refs;        /* private */
};

struct route_tenant {
	char name[RM_NAME_MAX];
	struct rm_limits limits;
	int active;           /* admitted calls not yet released */
	uint64_t admitted, refused;
	bool at_l3;           /* private: the limit edge was raised (route_limit_hook) */
	bool retired;
	unsigned refs;        /* private */
	struct route_profile *default_profile; /* private; NULL when none */
};

struct route_lrg; /* private: a group of members with a scheme */

struct route_profile {
	char name[RM_NAME_MAX];
	char id[RM_NAME_MAX];           /* "" = none */
	char service_type[RM_NAME_MAX];
	struct rm_limits limits;
	struct route_tenant *tenant;    /* current tenant (borrowed); NULL when retired */
	struct route_lrg *lrg;          /* current group (borrowed); NULL when retired */
	int active;
	uint64_t admitted, refused;
	bool at_l3;                     /* private: the limit edge was raised */
	bool retired;
	unsigned refs;                  /* private */
};

/* What the proxy extracted from an INVITE. Any field may be NULL (absent). */
struct route_request {
	const char *ruri_user;    /* request-URI user part = DNIS */
	const char *tenant_param; /* value of the R-URI parameter gvp-tenant-id */
	const char *profile_id;   /* X-Genesys-gsw-ivr-profile-id */
	const char *profile_name; /* X-Genesys-gsw-ivr-profile-name */
};

struct route_match {
	struct route_profile *profile; /* borrowed from the state; valid until reload */
	enum route_by by;
	/* True whenever the request carried gvp-tenant-id (matched or not): the proxy
	 * must remove that parameter from the request-URI before forwarding. */
	bool strip_tenant_param;
};

/* One call's hold on rm's resources. Zero-initialise or let route_admit fill it;
 * it may be embedded in the proxy's per-call struct. */
struct route_ticket {
	struct route_profile *profile; /* reference held; NULL = not admitted */
	struct route_tenant *tenant;   /* reference held */
	struct route_mcp *mcp;         /* reference held + counted active; NULL = none */
	enum route_level level;        /* worse of the profile's and the tenant's level */
	enum route_level profile_level, tenant_level;
	int attempts;                  /* route_pick calls that chose an MCP */
	unsigned tried[RM_MAX_ATTEMPTS]; /* ids of MCPs already tried (exclusion set) */
	int n_tried;
	char lrg[RM_NAME_MAX];         /* group counted at admission (usage hook) */
};

/*
 * Cluster usage hook (rm/cluster/cluster_board.h implements it). Without one, rm
 * counts only its own calls. With one:
 *  - admission adds remote(TENANT, name) / remote(PROFILE, name) (the live calls the
 *    other nodes hold) to the local count before comparing with the limits, and an
 *    MCP is full when its local active count plus remote(MCP, uri) reaches max_ports;
 *  - every change of a local count (admit, pick, release) is told to local(kind,
 *    name, +1 / -1), so that the hook can publish this node's contribution.
 * Set once at start, before any route_* call (rm/main.c, before the SIP thread
 * starts); the functions are then called on the SIP thread. They must not block.
 */
enum route_usage_kind {
	ROUTE_USAGE_TENANT = 0,
	ROUTE_USAGE_PROFILE,
	ROUTE_USAGE_LRG,
	ROUTE_USAGE_MCP,
	ROUTE_USAGE_KINDS,
};
struct route_usage_hook {
	int (*remote)(void *arg, enum route_usage_kind kind, const char *name);
	void (*local)(void *arg, enum route_usage_kind kind, const char *name, int delta);
	/* Strict limits (may be NULL): this node's share of a hard limit l3 > 0. Admission
	 * then also refuses when this node's own count reaches its share, whatever the
	 * peers say (a partition cannot make the shares add up to more than l3). */
	int (*share)(void *arg, int l3);
	void *arg;
};
/* h is copied; NULL removes the hook. */
void route_set_usage_hook(const struct route_usage_hook *h);

/*
 * Limit edge hook (rm/main.c: the bridge to the SNMP subagent, rmL3LimitReached).
 * reached(arg, tenant, profile, l3) is called from route_admit, on the SIP thread,
 * at the moment a profile's or a tenant's count (this node's plus the cluster's)
 * reaches its hard limit l3: an admission took the last call, or a call was refused
 * at the limit (strict share included). profile is "" for a tenant's limit. Once
 * per reach: again only after route_release brought the count below l3. An edge,
 * not a sample: a limit reached and left within milliseconds is still told. Set
 * once before the SIP thread starts; must not block. h is copied; NULL removes it.
 */
struct route_limit_hook {
	void (*reached)(void *arg, const char *tenant, const char *profile, int l3);
	void *arg;
};
void route_set_limit_hook(const struct route_limit_hook *h);

struct route_state;

/* Build the state for cfg (which must be validated, i.e. from rm_config_load).
 * Copies what it needs; cfg may be freed afterwards. Returns NULL with a sentence in
 * err on out of memory. */
struct route_state *route_state_new(const struct rm_config *cfg, char *err, size_t errlen);

/* Free the state and drop its references. Objects still held by tickets stay alive
 * until route_release. NULL is allowed. */
void route_state_free(struct route_state *st);

/* Replace groups, profiles, tenants, DNIS table and default with those of cfg, in
 * place, keeping active counts and health of everything that still exists (see the
 * ownership note above). Pointers from an earlier route_select and route_mcp_at are
 * invalid afterwards; tickets stay valid. Returns 0, or -1 with err set (out of
 * memory) leaving the old state untouched. */
int route_state_reload(struct route_state *st, const struct rm_config *cfg, char *err,
		       size_t errlen);

/* Profile selection, in this order: gvp-tenant-id (the tenant's "profile", else its
 * first profile in config order), X-Genesys-gsw-ivr-profile-id (matched against a
 * profile's id), X-Genesys-gsw-ivr-profile-name (a profile's name), DNIS (exact match
 * of the request-URI user), default_profile. A step whose value is present but
 * matches nothing falls through to the next. Returns 0 with *m filled, or -1 (no
 * profile: refuse with RM_REFUSE_NO_PROFILE; m->strip_tenant_param is still set). */
int route_select(const struct route_state *st, const struct route_request *rq,
		 struct route_match *m);

/* Admission. Checks, in order: draining, the profile's hard limit, the tenant's hard
 * limit. On RM_REFUSE_NONE the call is counted on both (t holds references; release
 * with route_release) and t->level says at which usage level it came in. On refusal t
 * is zeroed, nothing is counted, and the profile's/tenant's `refused` is bumped. */
enum rm_refuse route_admit(struct route_state *st, struct route_profile *p,
			   bool draining, struct route_ticket *t);

/* Choose an MCP for an admitted call from its profile's group. If t->mcp is set (a
 * failed attempt) it is released first. Skips MCPs that are down, full
 * (active >= max_ports) or already tried by this ticket. On RM_REFUSE_NONE, t->mcp is
 * the choice (counted active, reference held) and t->attempts was incremented.
 * Otherwise t->mcp is NULL and the result is RM_REFUSE_MCP_CAPACITY when some
 * untried MCP is up but every such one is full, else RM_REFUSE_NO_MCP_UP (none up,
 * all tried, the exclusion set is full, or the profile was retired by a reload).
 * Schemes: round-robin (rotating cursor), least-used (fewest active; ties rotate),
 * least-percent (lowest active/max_ports; ties rotate), weighted (smooth weighted
 * round robin as in nginx: 3:1 gives exactly 3 of every 4 picks when all are
 * eligible). */
enum rm_refuse route_pick(struct route_state *st, struct route_ticket *t);

/* Count a call that is already live without deciding anything: a dead cluster peer's
 * call that this node goes on carrying (cluster.adopt "keep"). Like route_admit +
 * route_pick on profile `profile` (by name) and MCP `mcp_uri` (exact URI), but no
 * limit, share, health or capacity check refuses it (the call exists; refusing it
 * would only hide it from the counts). A profile not current counts nothing; an MCP
 * not current counts only the profile and tenant. t is filled (release with
 * route_release); returns true when the profile was found. */
bool route_hold(struct route_state *st, const char *profile, const char *mcp_uri,
		struct route_ticket *t);
/* End of the call's hold: un-count and drop every reference in t, then zero t.
 * Idempotent; safe on a zeroed ticket; needs no state (works across reloads). */
void route_release(struct route_ticket *t);

/* Release only the current MCP (e.g. the attempt failed and no retry will follow,
 * but the call keeps its admission for a moment). t->tried is kept. */
void route_release_mcp(struct route_ticket *t);

/* Health bookkeeping for one OPTIONS result (ok = any response, or only 2xx: the
 * caller's policy). A new MCP is "unknown" (up, not probed): its first result settles
 * it at once, up or down. After that: down after `k_down` consecutive failures, up
 * after `m_up` consecutive successes. Returns +1 if the MCP just became known up,
 * -1 if it just went down, 0 if unchanged. rtt_us is stored on success. Retired MCPs
 * are ignored (0). */
int route_health(struct route_mcp *mcp, bool ok, int64_t rtt_us, int k_down, int m_up);

/* Current MCPs (what the OPTIONS monitor pings and /metrics reports), 0..n-1.
 * Pointers are valid until the next reload or free. */
size_t route_mcp_count(const struct route_state *st);
struct route_mcp *route_mcp_at(const struct route_state *st, size_t i);
/* By URI (exact string match); NULL if not current. */
struct route_mcp *route_mcp_find(const struct route_state *st, const char *uri);
/* Number of current MCPs known to be up: probed and up (for /readyz). */
size_t route_mcp_up_count(const struct route_state *st);

/* Current profiles and tenants (for /metrics), same validity as route_mcp_at. */
size_t route_profile_count(const struct route_state *st);
struct route_profile *route_profile_at(const struct route_state *st, size_t i);
struct route_profile *route_profile_find(const struct route_state *st, const char *name);
size_t route_tenant_count(const struct route_state *st);
struct route_tenant *route_tenant_at(const struct route_state *st, size_t i);

/* A profile's group name and scheme ("" / round-robin when retired). */
const char *route_profile_lrg_name(const struct route_profile *p);

/*
 * The X-Genesys-GVP-Session-ID header value:
 *   <uuid>;gvp.rm.datanodes=1;gvp.rm.tenant-id=<tenant>
 * Writes it NUL-terminated into out. Returns its length, or -1 if it did not fit
 * (out then holds "" when outlen > 0).
 */
int route_gvp_session_id(char *out, size_t outlen, const char *uuid, const char *tenant);

#endif
