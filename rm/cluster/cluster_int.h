/*
 * cluster_int: what cluster.c (links, sending, the tick) and cluster_peer.c (peer
 * nodes, applying their usage, GET /cluster) share. Not a contract for anyone else.
 */
#ifndef RM_CLUSTER_INT_H
#define RM_CLUSTER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster.h"
#include "cluster_board.h"
#include "cluster_frame.h"
#include "cluster_sess.h"
#include "rm_metrics.h"
#include "stomp_conn.h"

struct cluster;

/* A configured peer address we dial and send on. */
struct out_link {
	struct cluster *cl;
	char addr[RM_HOST_MAX]; /* as configured */
	char host[RM_HOST_MAX];
	int port;
	stomp_conn_t *sc;       /* NULL: idle (waiting for retry) */
	bool open;              /* CONNECTED received: node is known */
	bool self;              /* the address reaches this node: never dialed again */
	bool need_full;         /* send the whole state before any delta */
	unsigned fails;         /* consecutive failed dials (backoff) */
	struct event *retry;
	uint64_t seq;           /* last seq sent to this node (this incarnation) */
	int64_t last_sent_ms;   /* monotonic */
	char node[CLUSTER_NODE_MAX]; /* who answered; "" = not yet */
	char last_err[160];     /* why the last attempt ended (logged when it changes) */
};

/* A connection a peer dialed; what arrives on it is from that peer. */
struct in_link {
	struct cluster *cl;
	stomp_conn_t *sc;
	bool used;
	char addr[64]; /* peer IP */
};

enum peer_state { PEER_DOWN = 0, PEER_SYNCING, PEER_UP };

/* Strict: share units of one node held by another (a "give" or "held" line). */
struct units_part {
	char node[CLUSTER_NODE_MAX];
	int units;
};

/* A peer node, known by the node id of its authenticated frames. */
struct peer {
	bool used;
	char node[CLUSTER_NODE_MAX];
	char addr[64];            /* where its frames come from */
	struct cluster_seq seq;   /* replay state; kept while down */
	enum peer_state state;
	bool synced;              /* contrib holds its whole state */
	int64_t last_ms;          /* monotonic time of its last valid frame; 0 never */
	int64_t lag_ms;           /* receive wall time - its ts, of its last usage frame */
	int64_t resync_asked_ms;
	int *contrib;             /* [CLUSTER_BOARD_CAP]: its count per board slot */
	struct cluster_sess_set *sess; /* its answered calls (cluster_sess.h) */
	bool sess_synced;         /* sess holds its whole set (an sstate came) */
	int units_from;           /* strict share units it handed to this node (its
				     leave); given back when it restarts */
	uint64_t units_from_inc;  /* the incarnation that handed them */
	bool freed_me;            /* strict: it said it holds none of this node's units
				     (a joining node takes its own once all did) */
	struct units_part split[CLUSTER_MAX_PEERS]; /* strict: how its last leave split
				     its units ("give" lines), told back to it as "held"
				     lines when it returns */
	size_t n_split;
};

struct cluster {
	struct event_base *base;
	struct evdns_base *dns;
	struct cluster_board *board;
	rm_metrics_t mm;
	char me[CLUSTER_NODE_MAX];
	unsigned char key[RM_SECRET_MAX];
	size_t keylen;
	uint64_t inc;
	int64_t started_ms; /* monotonic */
	int hb_ms, dead_ms, publish_ms;
	int64_t last_tick_ms; /* monotonic; 0 before the first tick */
	bool joining;         /* strict: own units not taken yet */
	struct units_part held[CLUSTER_MAX_PEERS]; /* strict: this node's units that a peer
				 said another node holds (its "held" lines) */
	size_t n_held;
	int units_away;       /* of them, not taken at the join (their holder was silent):
				 taken when it says "free" */
	char listen_at[RM_HOST_MAX + 16];
	struct evconnlistener *lis;
	struct ssl_ctx_st *tls_srv, *tls_cli; /* cluster.tls; NULL = plain TCP */
	struct event *tick;
	bool stopping;
	struct out_link out[CLUSTER_MAX_PEERS];
	size_t n_out;
	struct in_link in[CLUSTER_MAX_IN];
	int n_in;
	struct peer peer[CLUSTER_MAX_PEERS];
	/* publisher: what every synced link was last told, per board slot */
	int published[CLUSTER_BOARD_CAP];
	unsigned published_gen;
	/* replicated sessions: this node's set, and the lines not sent yet */
	struct cluster_sess_set *local_sess;
	char *sess_pend;
	size_t sess_pend_len, sess_pend_cap;
	/* MCP health as this node's OPTIONS see it (from the SIP thread's "h" lines):
	 * sent to the peers when it changes, whole after every state */
	struct cluster_health *health;
	size_t n_health, cap_health;
	bool health_dirty;
	/* "seen" lines from the SIP thread, sent at the next tick (cluster_seen.c) */
	char *seen_pend;
	size_t seen_len, seen_cap;
	/* cluster_shutdown: done is called when the out links are written or at the
	 * deadline */
	struct event *shut_timer;
	int64_t shut_deadline_ms;
	void (*shut_done)(void *arg);
	void *shut_arg;
	int (*adopt)(void *arg, struct cluster_adopt *a);
	void *adopt_arg;
	bool adopt_keep; /* cluster.adopt "keep" (for the log: the SIP thread decides) */
};

struct cluster_health {
	char uri[RM_URI_MAX];
	bool up;
	bool dirty; /* changed since last sent */
};

/* Session frames are cut at this many bytes (a full set spans several). */
#define CLUSTER_SESS_CHUNK (256 * 1024)

int64_t cluster_mono_ms(void);
/* One frame on an out link (its next seq). 0, or -1: the link was closed. */
int cluster_out_send(struct out_link *l, enum stomp_command cmd, enum cluster_type type,
		     const char *body, size_t body_len);
/* cluster_health.c: "h u|d <uri>" from the SIP thread; the changed verdicts to every
 * synced link (at the tick); all of them (after a full state) or the changed ones
 * on one link. */
void cluster_health_local(struct cluster *cl, const char *line);
/* cluster_seen.c: an "a"/"b" line from the SIP thread (ownership passes): queued for
 * every peer; flush: the queue, to every synced link (at the tick); apply: a peer's
 * seen frame, each line to the SIP thread (cl->adopt, owner = the peer). */
void cluster_seen_local(struct cluster *cl, char *line);
void cluster_seen_flush(struct cluster *cl);
void cluster_seen_apply(struct cluster *cl, struct peer *p, const struct cluster_msg *m);
void cluster_health_flush(struct cluster *cl);
void cluster_health_send(struct out_link *l, bool all);
void cluster_out_reset(struct out_link *l);
/* A frame came from node: if our link to it waits for its next dial, dial now. */
void cluster_peer_heard(struct cluster *cl, const char *node);
void cluster_ask_resync(struct cluster *cl, struct peer *p);
void cluster_resync_asked(struct cluster *cl, const char *node);
int cluster_send_to(struct cluster *cl, const char *node, enum cluster_type type,
		    const char *body, size_t len);

/* cluster_peer.c: an authenticated SEND frame from a peer (from the in link at addr). */
void cluster_peer_frame(struct cluster *cl, const struct cluster_msg *m, const char *addr);
/* cluster_peer.c: p's sessions are orphaned (it died or restarted): the adopter
 * (the lowest live node id) passes them to the SIP thread; other nodes drop them. */
void cluster_peer_orphaned(struct cluster *cl, struct peer *p, const char *why);
/* cluster_peer.c: strict mode, on the way out (the SIP thread has ended: this node
 * admits nothing more): hand this node's share units to the peers that are up. */
void cluster_units_hand_over(struct cluster *cl);
/* cluster_peer.c, strict: our out link reached node (incarnation inc): if it is a new
 * incarnation of a node whose units we hold, they go back first (this node's share
 * shrinks); then, after our state, "free <node>" tells it we hold none of its units. */
void cluster_units_connected(struct cluster *cl, const char *node, uint64_t inc);
/* cluster_peer.c, strict, while joining: take this node's own units once every
 * configured peer said it holds none of them, or did not answer within dead_after_ms
 * of the start (README: the one case a partition can still overshoot). */
void cluster_units_join_check(struct cluster *cl, int64_t now);
/* After a full state on l: "held <node> <units>" for each part of l's node's last
 * leave that went to a third node, then "free <l's node>". */
void cluster_units_send_free(struct out_link *l);
/* Mark peers silent for dead_after_ms down (dropping their usage); update gauges. */
void cluster_peers_check(struct cluster *cl, int64_t now);
/* This node did not run for stall_ms: add it to every live peer's last frame time
 * (capped at now), so that its silence counts only while this node listened. */
void cluster_peers_credit(struct cluster *cl, int64_t stall_ms, int64_t now);

#endif
