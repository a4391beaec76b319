/*
 * cluster_frame: the messages rm nodes exchange on TCP 9801 (README "rm cluster"), as
 * STOMP 1.2 frames (common/stomp.h), each authenticated with HMAC-SHA256. Pure: no
 * sockets, no clocks, no event loop; the caller passes the key, the times and the
 * per-sender state in.
 *
 * One frame:
 *   CONNECT | CONNECTED | SEND
 *   type:hello|hb|state|delta|resync|sess|sstate|health|units  (hello on CONNECT/CONNECTED,
 *                   others on SEND; sess/sstate: replicated sessions, cluster_sess.h;
 *                   health: MCP up/down as the sender's OPTIONS see them; units:
 *                   strict shares handed over)
 *   from:<node>     sender's node id      to:<node>   the receiver's node id ("*"
 *                   in the dialer's CONNECT: it learns who answered from CONNECTED)
 *   inc:<u64>       sender's incarnation (its start time, ms since the epoch)
 *   seq:<u64>       per (sender, receiver) sequence number, +1 a frame, kept across
 *                   reconnects within an incarnation
 *   ts:<u64>        sender's wall clock, ms (replication lag)
 *   mac:<64 hex>    HMAC-SHA256(key, "rmc1\n" cmd "\n" type "\n" from "\n" to "\n"
 *                   inc "\n" seq "\n" ts "\n" body)
 *   content-length (when there is a body)
 *
 *   <body>: state/delta: usage lines "<k> <value> <name>\n", k one of t (tenant),
 *   p (profile), l (LRG), m (MCP URI); value >= 0; in a delta, the new absolute value
 *   of each key that changed (0 = none left). Empty for the other types.
 *
 * Node ids: 1..63 bytes of [A-Za-z0-9._-] (what "node" and pod names allow), so no
 * header escaping is ever needed and the MAC input is unambiguous.
 *
 * Receiving, in order: cluster_frame_decode (shape, to == me, MAC in constant time),
 * then cluster_seq_check against what was last accepted from that sender. A frame
 * failing either is dropped, and the reason (enum cluster_drop) is counted.
 */
#ifndef RM_CLUSTER_FRAME_H
#define RM_CLUSTER_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "route.h"
#include "stomp.h"

#define CLUSTER_NODE_MAX 64   /* node id incl. NUL */
#define CLUSTER_TO_ANY "*"    /* "to" of a dialer's CONNECT */
#define CLUSTER_KEY_MIN 16    /* bytes of shared key, at least */
#define CLUSTER_KEY_MAX 256
/* A frame's bound (STOMP parser limit): a full state of CLUSTER_BOARD_CAP keys of
 * up to RM_URI_MAX bytes fits. */
#define CLUSTER_FRAME_MAX (1024 * 1024)

enum cluster_type {
	CLUSTER_T_NONE = 0,
	CLUSTER_T_HELLO,  /* CONNECT (dialer) / CONNECTED (answer): who is on the link */
	CLUSTER_T_HB,     /* heartbeat */
	CLUSTER_T_STATE,  /* the sender's whole usage contribution */
	CLUSTER_T_DELTA,  /* changed keys of it */
	CLUSTER_T_RESYNC, /* "send me your state again" (a gap) */
	CLUSTER_T_SESS,   /* session changes (cluster_sess.h lines) */
	CLUSTER_T_SSTATE, /* the sender's whole session set */
	CLUSTER_T_HEALTH, /* the sender's OPTIONS verdicts: lines "u <mcp uri>" (up) or
			     "d <mcp uri>" (down), changed ones, or all after a state */
	CLUSTER_T_UNITS,  /* strict shares handed over: lines "give <node> <units>" (the
			     sender stopped admitting: it is on its way out) */
	CLUSTER_T_SEEN,   /* cluster.adopt "keep": in-dialog requests of calls the sender
			     does not hold, for the node that does: lines
			     "a|b TAB call_id TAB from_tag TAB to_tag" (ACK, BYE) */
	CLUSTER_T_COUNT,
};
const char *cluster_type_name(enum cluster_type t);

/* Why a received frame was dropped (the label of rm_cluster_frames_dropped_total). */
enum cluster_drop {
	CLUSTER_DROP_NONE = 0,
	CLUSTER_DROP_MALFORMED,       /* a header missing or ill-formed, unknown type */
	CLUSTER_DROP_UNAUTHENTICATED, /* no mac header */
	CLUSTER_DROP_BAD_MAC,         /* mac does not match (forged, or another key) */
	CLUSTER_DROP_WRONG_NODE,      /* to is not this node, or from is this node */
	CLUSTER_DROP_REPLAY,          /* seq not above the last accepted one */
	CLUSTER_DROP_OLD_INCARNATION, /* inc below the sender's current incarnation */
	CLUSTER_DROP_PEERS_FULL,      /* a new sender beyond CLUSTER_MAX_PEERS */
	CLUSTER_DROP_COUNT,
};
/* "malformed", "unauthenticated", "bad-mac", "wrong-node", "replay",
 * "old-incarnation", "peers-full"; "none" for 0. */
const char *cluster_drop_name(enum cluster_drop d);

struct cluster_msg {
	enum stomp_command cmd; /* CONNECT, CONNECTED or SEND */
	enum cluster_type type;
	char from[CLUSTER_NODE_MAX];
	char to[CLUSTER_NODE_MAX];
	uint64_t inc, seq, ts;
	const char *body; /* decode: points into the frame (valid as long as it is) */
	size_t body_len;
};

/* Is s a valid node id (above)? */
bool cluster_node_valid(const char *s);

/* Encode m as a STOMP frame with its MAC into out (cap bytes). Returns the encoded
 * length including the terminating NUL, snprintf-style (>= cap: did not fit), or 0
 * when m is invalid (bad node ids, a type that does not go with m->cmd). */
size_t cluster_frame_encode(char *out, size_t cap, const struct cluster_msg *m,
			    const unsigned char *key, size_t keylen);

/* Check a received frame: the headers above, the MAC, then (me not NULL) from != me
 * and to == me (or "*" on CONNECT). Hello frames (CONNECT/CONNECTED) carry no state:
 * callers do not run them through cluster_seq_check (a hello to "*" could otherwise
 * be replayed to another node to push its sequence state ahead). Fills *out (body points into f) and returns CLUSTER_DROP_NONE,
 * or the reason to drop it. */
enum cluster_drop cluster_frame_decode(const stomp_frame_t *f, const unsigned char *key,
				       size_t keylen, const char *me, struct cluster_msg *out);

/* Per-sender replay state: the incarnation and sequence number last accepted. */
struct cluster_seq {
	bool known;
	uint64_t inc, seq;
};
enum cluster_seq_verdict {
	CLUSTER_SEQ_NEXT = 0, /* inc as known, seq == last + 1 (or first of this state) */
	CLUSTER_SEQ_GAP,      /* inc as known, seq > last + 1: frames were lost */
	CLUSTER_SEQ_NEW_INC,  /* a newer incarnation (a restart): state starts afresh */
	CLUSTER_SEQ_REPLAY,   /* inc as known, seq <= last: drop */
	CLUSTER_SEQ_OLD_INC,  /* an older incarnation: drop */
};
/* Decide on (inc, seq) and, when accepted (NEXT, GAP, NEW_INC), record it in s. */
enum cluster_seq_verdict cluster_seq_check(struct cluster_seq *s, uint64_t inc, uint64_t seq);

/* Usage lines (state/delta bodies). "t", "p", "l", "m" <-> enum route_usage_kind. */
/* Append one line to out at *len (cap bytes). 0, or -1 when it does not fit or name
 * holds a newline (nothing appended). */
int cluster_usage_put(char *out, size_t cap, size_t *len, enum route_usage_kind k,
		      int value, const char *name);
/* Call fn for every line of body, in order. Returns the number of lines, or -1 at
 * the first malformed line (lines before it were passed to fn). fn's name is
 * NUL-terminated and valid during the call. */
typedef void (*cluster_usage_fn)(void *arg, enum route_usage_kind k, int value,
				 const char *name);
int cluster_usage_parse(const char *body, size_t len, cluster_usage_fn fn, void *arg);

#endif
