/*
 * proxy: rm's stateful SIP proxy (sofia-sip nta) and everything else that runs on the
 * SIP thread: the session table, route state and the OPTIONS monitor.
 *
 * Every function here must be called on the thread that runs `root` (the SIP
 * thread); nothing in this module takes a lock. Metrics are updated through
 * common/metrics atomics and may be read from any thread.
 *
 * Lifecycle:
 *   p = proxy_create(root, cfg, metrics, err, errlen);  takes ownership of cfg
 *   su_root_run(root) ...
 *   proxy_reload(p, newcfg)     SIGHUP: groups, profiles, limits; takes ownership
 *   proxy_drain(p, cb, arg)     SIGTERM: refuse new INVITEs, cb once the session
 *                               table is empty or the drain timeout passed
 *   proxy_destroy(p)
 */
#ifndef RM_PROXY_H
#define RM_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/su_wait.h>

#include "metrics.h"
#include "rm_config.h"

struct proxy;

/* Listen on cfg->sip_listen:sip_port (UDP and/or TCP as configured), start the
 * monitor. On success returns the proxy, which owns cfg (heap-allocated by the
 * caller, freed with rm_config_free + free). On failure returns NULL, writes a
 * sentence to err and leaves cfg to the caller. */
struct proxy *proxy_create(su_root_t *root, struct rm_config *cfg, metrics_t *metrics,
			   char *err, size_t errlen);

/* Apply a new configuration (already validated). Takes ownership of cfg. Listen
 * addresses and HTTP settings are not changed by a reload (a warning is logged). */
void proxy_reload(struct proxy *p, struct rm_config *cfg);

/* Start draining: new INVITEs are refused (reason "draining"), live calls go on.
 * on_drained(arg) is called once, from the SIP thread, when no call is left or
 * the drain timeout has passed. In the latter case the remaining sessions are ended
 * as rm-drain (answered: BYE to both sides; still ringing: CANCEL to the MCP, 503 to
 * the caller) and on_drained waits up to 2 s for the answers to those requests. */
void proxy_drain(struct proxy *p, void (*on_drained)(void *arg), void *arg);

/* Billing: post(arg, item) is called on the SIP thread for every CDR (one per
 * finished or refused call) and, when events is true (billing.events: all), every
 * call event; it takes ownership of the item (a struct billing_item, billing.h). Not
 * called (no records built) until set. */
struct billing_item;
void proxy_set_billing(struct proxy *p, void (*post)(void *arg, struct billing_item *it),
		       void *arg, bool events);

/* Cluster (rm/cluster/cluster_sess.h): post(arg, line) is called on the SIP thread
 * with a malloc'd "+" line when a call is answered and a "-" line when an answered
 * call ends, and "h u|d <uri>" when this node's verdict on an MCP changes
 * (monitor.c); it takes ownership of the line. Not called until set. */
void proxy_set_cluster(struct proxy *p, void (*post)(void *arg, char *line), void *arg);

/* Adopt one answered call of the dead cluster node `owner` (line: its "+" line,
 * cluster_sess.h; modified): BYE to both sides with the replicated dialog state,
 * then the call's record with ended_by "rm-peer-lost" and the record id the owner
 * itself would have given it (cluster_record_id). SIP thread.
 * A line "h u|d <uri>" is instead the peer `owner`'s verdict on an MCP, for the
 * monitor (monitor_hint: an input, not a vote). */
void proxy_adopt(struct proxy *p, const char *owner, char *line);

/* Number of live sessions (dialogs). */
size_t proxy_session_count(const struct proxy *p);
/* Number of MCPs currently up. */
size_t proxy_mcps_up(const struct proxy *p);

/* End every session (as rm-drain), free everything, close the transports. */
void proxy_destroy(struct proxy *p);

#endif
