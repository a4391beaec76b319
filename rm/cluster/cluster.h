/*
 * cluster: rm's peering on TCP 9801 (README "rm cluster"), on the service thread's
 * libevent loop (never the SIP thread: ARCHITECTURE.md "Threads and loops").
 *
 * Links. Each node dials every configured peer address (an "out" link: stomp_conn
 * client, names re-resolved by evdns at every connect, reconnect delays from
 * common/backoff.h) and sends on it only: CONNECT (hello, to "*"), and once the
 * CONNECTED answer named the node, its state, then deltas, heartbeats and resync
 * requests. What a node hears from a peer arrives on the link the peer dialed (an
 * "in" link). One TCP connection per direction keeps each a plain ordered stream:
 * no tie-breaking of simultaneous dials. A CONNECTED from this very node (the peers
 * list names every pod, this one included) marks the address as self; it is not
 * dialed again.
 *
 * Membership. A peer node is known by the node id of its authenticated frames. It is
 * "syncing" from its first valid frame until its full state is applied, "up" while
 * valid frames keep coming within dead_after_ms (heartbeats every heartbeat_ms), and
 * "down" after that: its usage contribution is dropped at that moment (silence is
 * counted while this node runs: a late tick credits its lateness to every peer). A new
 * incarnation (restart) drops the old contribution at once. A gap in sequence numbers
 * or any frame from a peer whose state we do not hold makes us ask for its state
 * (resync), at most once a heartbeat.
 *
 * Usage. Every publish_ms the board's local counts are compared with what was last
 * sent; changed keys go out as one delta to every synced link. The board's remote
 * counts are the sum of the contributions of the peers that are up or syncing.
 *
 * MCP health. The SIP thread's OPTIONS verdicts ("h" lines) go to every peer in
 * health frames; a peer's verdicts go back to the SIP thread as hints (monitor.h
 * monitor_hint: an input, not a vote).
 *
 * Strict shares (cluster_board.h units): handed to the peers up on the way out
 * (cluster_flush, once the SIP thread has ended), given back when the node that
 * handed them restarts; a starting node takes its own once every peer said "free".
 *
 * Limits: CLUSTER_MAX_PEERS nodes known at once (frames from more: dropped,
 * "peers-full"), CLUSTER_MAX_IN inbound connections, frames up to CLUSTER_FRAME_MAX,
 * CLUSTER_MAX_PENDING bytes queued per link (beyond: the link is closed and redialed
 * with a full state).
 */
#ifndef RM_CLUSTER_H
#define RM_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"
#include "rm_config.h"

struct event_base;
struct evhttp_request;
struct cluster_board;
struct cluster;

#define CLUSTER_MAX_PEERS 16
#define CLUSTER_MAX_IN (2 * CLUSTER_MAX_PEERS + 8)
#define CLUSTER_MAX_PENDING (4 * 1024 * 1024)

/* Start listening on cfg->cluster_listen:port and dialing cfg's peers (cfg must have
 * cluster_enabled; it is copied). board (borrowed, must outlive the cluster) is the
 * table the SIP thread's admission shares. NULL with a sentence in err. */
struct cluster *cluster_new(struct event_base *base, const struct rm_config *cfg,
			    struct cluster_board *board, metrics_t *metrics, char *err,
			    size_t errlen);

/* ---- replicated sessions and adoption (cluster_sess.h) ---- */

/* A dead peer's answered call for the SIP thread to end (proxy_adopt). */
struct cluster_adopt {
	char owner[64]; /* the dead node's id (CLUSTER_NODE_MAX, cluster_frame.h) */
	char line[];    /* its "+" line, NUL-terminated */
};

/* Where adopted calls go: adopt(arg, a) takes ownership of a (malloc'd) and returns
 * 0, or -1 when it could not pass it on (then it frees a; counted and logged here).
 * Not set: this node never adopts. */
void cluster_set_adopt(struct cluster *cl, int (*adopt)(void *arg, struct cluster_adopt *a),
		       void *arg);

/* A line from this node's SIP thread (BRIDGE_CLUSTER_SESS; ownership passes): kept
 * in this node's set (for full states) and sent to every synced peer at the next
 * tick (publish_ms). */
void cluster_local_sess(struct cluster *cl, char *line);

/* On the way out, once the SIP thread has ended (this node admits nothing more):
 * send what is pending (usage deltas, session lines) now rather than at the next
 * tick, so that the peers learn which calls this node ended; in strict mode, hand
 * this node's share units to the peers that are up (README "rm cluster"). */
void cluster_flush(struct cluster *cl);

/* On the way out: cluster_flush, then call done(arg) once the peers' links have
 * taken every queued byte or CLUSTER_SHUTDOWN_MS passed (from the loop; inside this
 * call only when out of memory). */
#define CLUSTER_SHUTDOWN_MS 500
void cluster_shutdown(struct cluster *cl, void (*done)(void *arg), void *arg);

/* Count a local session change the SIP thread could not hand over (bridge full). */
void cluster_sess_lost(struct cluster *cl);

/* rm_snmp.h's peer table (rm_snmp_set_peers; arg = the cluster): every peer node
 * known, in a stable order. */
struct rm_snmp_peer;
size_t cluster_snmp_peers(void *arg, struct rm_snmp_peer *out, size_t cap);

/* Close every link and the listener. NULL is allowed. */
void cluster_free(struct cluster *cl);

/* /readyz's cluster check (rm_http_set_ready_check; arg = the cluster): false, with
 * the reason, while a peer is syncing, and during the first dead_after_ms after start
 * until every configured peer address answered and its state was applied (a peer
 * that stays unreachable does not hold readiness back longer than that). */
bool cluster_ready(void *arg, char *why, size_t len);

/* GET /cluster (common/ev/httpd.h route; arg = the cluster): JSON
 *   {"node", "address", "incarnation", "state": "up",
 *    "peers": [{"node", "address", "state": up|down|syncing,
 *               "last_heartbeat_age_ms" (-1: never), "replication_lag_ms",
 *               "link": connected|connecting|idle|none,
 *               "calls": its answered calls replicated here (cluster_sess.h),
 *               "usage": {"tenant:NAME"|"profile:NAME"|"lrg:NAME"|"mcp:URI": n}}]}
 * usage: the peer's live calls as this node counts them (non-zero keys only). */
void cluster_http(struct evhttp_request *req, const char *path, void *arg);

#endif
