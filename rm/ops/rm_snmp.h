/*
 * rm_snmp: rm's AgentX subagent (GVP-RM-MIB, etc/mibs), on the service thread.
 *
 * Every value it serves is read through rm_metrics.h's typed handles on the registry
 * /metrics renders (a labelled series that does not exist yet reads as 0), so SNMP
 * and /metrics agree by construction; the OID layout and the series behind each
 * object are tabulated at the top of rm_snmp.c. Table rows (MCPs, LRGs) and the limits that L3 notifications compare
 * against come from the configuration, which lives on this thread: give every newly
 * loaded config to rm_snmp_configure before handing it to the SIP thread.
 *
 * Notifications are found by watching the same series on a 200 ms timer (the SIP
 * thread publishes them; nothing crosses the bridge):
 *   rmMcpDown / rmMcpUp   rm_mcp_up{mcp=URI} changed (the OPTIONS monitor sets it
 *                         at the moment it decides);
 *   rmLrgAllDown          the last up member of a group went down;
 *   rmL3LimitReached      a profile's or tenant's count reached its l3: not watched
 *                         but an edge raised at admission (route.h limit hook, on
 *                         the SIP thread, through the bridge: rm_snmp_limit_reached),
 *                         once per reach, so a limit reached and left between two
 *                         looks is still told;
 *   rmSpoolHighWater      rm_spool_high_water went 0 -> 1;
 *   rmPeerDown / rmPeerUp a cluster peer went down / came up (the peer table, from
 *                         rm_snmp_set_peers; a peer that joins, also at start,
 *                         is "up" once).
 * The first look after start or reload only records the state (no notification),
 * except for peers (above).
 *
 * Thread: the service thread only (net-snmp state is process-wide; one per process).
 */
#ifndef RM_SNMP_H
#define RM_SNMP_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "rm_config.h"
#include "snmpsub.h"

struct event_base;
struct rm_snmp;

/* Create the (idle) agent state. base may be NULL for tests that only call
 * rm_snmp_collect / rm_snmp_check. NULL on out of memory. */
struct rm_snmp *rm_snmp_new(struct event_base *base, metrics_t *metrics);

/* Apply cfg (copied; cfg may be freed afterwards): rebuild the tables. The first
 * call also starts the AgentX session when snmp.enabled; later calls (SIGHUP) only
 * warn when snmp.enabled/master/base_oid changed, which needs a restart (net-snmp
 * cannot register the same subtree twice in one process). Returns 0, or -1 with a
 * sentence in err (net-snmp could not initialise); a master that is down is not an
 * error (the agent reconnects every second). */
int rm_snmp_configure(struct rm_snmp *s, const struct rm_config *cfg, char *err,
		      size_t errlen);

/* Fill at most cap values of the subtree BASE.1 (suffixes under it) and return how
 * many there are in all (snmpsub_collect_fn). */
size_t rm_snmp_collect(struct rm_snmp *s, snmpsub_value_t *out, size_t cap);

/* One notification pass: compare the watched series with the last pass and call fn
 * for each notification (notif 1..5, varbinds as in etc/mibs/README.md). Used by the
 * timer with snmpsub_notify, and by tests with their own fn. */
typedef void (*rm_snmp_notify_fn)(void *arg, uint32_t notif, const snmpsub_value_t *vars,
				  size_t n);
void rm_snmp_check(struct rm_snmp *s, rm_snmp_notify_fn fn, void *arg);

/* What the SIP thread's limit edge carries to the service thread (BRIDGE_LIMIT,
 * malloc'd; the receiver frees it): route.h's limit hook arguments. */
struct rm_snmp_limit_event {
	char tenant[RM_NAME_MAX];
	char profile[RM_NAME_MAX]; /* "" for a tenant's limit */
	int l3;
};
/* A limit was reached at admission (ev): rmL3LimitReached through fn(arg, ...) now
 * (ev names a limit of the current config; else nothing). Service thread. */
void rm_snmp_limit_reached(struct rm_snmp *s, const struct rm_snmp_limit_event *ev,
			   rm_snmp_notify_fn fn, void *arg);
/* The same, through the AgentX session (no-op when SNMP is off or not connected). */
void rm_snmp_limit_notify(struct rm_snmp *s, const struct rm_snmp_limit_event *ev);

/* The cluster peer table (BASE.1.5.1, rows in the order fn returns them): fn fills
 * at most cap rows and returns how many there are. Service thread (rm/cluster).
 * fn NULL: no table (cluster off). */
#define RM_SNMP_PEERS_MAX 16
struct rm_snmp_peer {
	char node[64];
	char address[320];
	int state;            /* up(1) down(2) syncing(3), as the MIB numbers them */
	int64_t heartbeat_age_ms; /* -1: never heard */
	int64_t sessions;     /* its answered calls this node holds (replicated) */
};
typedef size_t (*rm_snmp_peers_fn)(void *arg, struct rm_snmp_peer *out, size_t cap);
void rm_snmp_set_peers(struct rm_snmp *s, rm_snmp_peers_fn fn, void *arg);

/* 1 while connected to the master. */
int rm_snmp_connected(const struct rm_snmp *s);

/* Stop and free. NULL is allowed. */
void rm_snmp_free(struct rm_snmp *s);

#endif
