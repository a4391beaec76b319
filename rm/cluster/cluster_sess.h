/*
 * cluster_sess: the live sessions rm nodes replicate to each other (README "rm
 * cluster", "Replicated sessions and adoption"), as text lines, and the set of one
 * peer's sessions. Pure: no sockets, no clocks, no threads.
 *
 * One line per change, fields separated by a TAB, each field percent-escaped ('%',
 * TAB, CR, LF as %25 %09 %0D %0A), ending in LF:
 *   "+" call_id from_tag to_tag session_id tenant profile service_type lrg mcp
 *       caller dnis attempts usage_level start_ms answer_ms cseq_caller cseq_mcp
 *       from to target_caller target_mcp route_caller route_mcp node
 *   "-" call_id from_tag
 * "+" with answer_ms 0: a call the sender admitted still rings CLUSTER_RING_HOLD_MS
 * (rm/sip/proxy_cluster.c) after its INVITE came (dialog fields empty: an adopter
 * writes its record, it cannot end it).
 * "+": a call the sender carries was answered (all that a peer needs to end it: the
 * dialog's From/To with tags, both remote targets (Contact URIs, transport included
 * as a URI parameter), both Route sets and the highest CSeq seen from each side);
 * "-": it ended. The owner of a line is the node that sent it; `node` is the name
 * its records carry (rm's `node`, which cluster.node may differ from).
 *
 * Frames (cluster_frame.h): type "sess" carries "+"/"-" lines in the order they
 * happened; "sstate" carries the sender's whole set ("+" lines only) and replaces
 * what the receiver held of it. A node sends its sstate right after its usage state
 * on every (re)connect and resync, so a gap is healed the same way.
 */
#ifndef RM_CLUSTER_SESS_H
#define RM_CLUSTER_SESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLUSTER_SESS_FIELDS 24 /* of a "+" line, after the "+" */

/* One answered call, as the SIP thread describes it. Strings may be NULL (""). */
struct cluster_sess {
	const char *call_id, *from_tag, *to_tag, *session_id;
	const char *tenant, *profile, *service_type, *lrg, *mcp, *caller, *dnis;
	int attempts, usage_level;
	int64_t start_ms, answer_ms;
	uint32_t cseq[2];                /* [0] caller, [1] MCP */
	const char *from, *to;           /* header values with tags */
	const char *target[2], *route[2]; /* [0] toward the caller, [1] toward the MCP */
	const char *node;                /* the owner's record node name */
};

/* A malloc'd "+" line (LF-terminated, NUL after it) for s; NULL on out of memory or
 * no call_id. */
char *cluster_sess_add_line(const struct cluster_sess *s);
/* A malloc'd "-" line; NULL on out of memory or no call_id. */
char *cluster_sess_del_line(const char *call_id, const char *from_tag);

/* Parse one line (without its LF, NUL-terminated, modified in place: fields are
 * unescaped into it). *add: "+" or "-". Fills *out (strings point into line).
 * 0, or -1 when malformed. */
int cluster_sess_parse(char *line, bool *add, struct cluster_sess *out);

/* The sessions one node carries, keyed by (call_id, from_tag); each kept as its
 * "+" line. */
struct cluster_sess_set;
struct cluster_sess_set *cluster_sess_set_new(void);
void cluster_sess_set_free(struct cluster_sess_set *set);
size_t cluster_sess_set_count(const struct cluster_sess_set *set);
/* Apply one line (NUL-terminated, with or without its LF): "+" inserts or
 * replaces, "-" removes. 0, or -1 when malformed / out of memory. */
int cluster_sess_set_apply(struct cluster_sess_set *set, const char *line, size_t len);
/* The same for a line this node made itself (cluster_sess_add_line/del_line): only
 * its key is read, the fields are not checked again. */
int cluster_sess_set_apply_own(struct cluster_sess_set *set, const char *line, size_t len);
/* Apply every line of body (len bytes). Returns the number of lines, or -1 at the
 * first malformed one (those before it are applied). */
int cluster_sess_set_apply_body(struct cluster_sess_set *set, const char *body, size_t len);
/* Empty the set. */
void cluster_sess_set_clear(struct cluster_sess_set *set);
/* Every "+" line, concatenated, as a malloc'd body (length in *len; "" when empty).
 * NULL on out of memory. */
char *cluster_sess_set_body(const struct cluster_sess_set *set, size_t *len);
/* Take every line out of the set (it is left empty): calls fn with each malloc'd
 * "+" line, whose ownership passes to fn. */
void cluster_sess_set_drain(struct cluster_sess_set *set, void (*fn)(void *arg, char *line),
			    void *arg);

/* The record id of a call, the same on every node that writes it (the node that
 * carried it, or the survivor that adopted it): "<node>-<start_ms>-<32 hex of
 * SHA-256(call_id LF from_tag)>" into out (129 bytes). node as in cdr.h ("" -> "rm"). */
void cluster_record_id(const char *node, int64_t start_ms, const char *call_id,
		       const char *from_tag, char out[129]);

/* The node that adopts a dead peer's sessions: the lowest node id (strcmp) among
 * live ones. me: this node; live[0..n-1]: the other nodes up or syncing (the dead
 * one excluded). True when that is me. */
bool cluster_adopter_is_me(const char *me, const char *const *live, size_t n);

/* A "seen" line of a peer (cluster_seen.c), n bytes at s without its LF: "a" or "b",
 * TAB, at most CLUSTER_SEEN_LINE_MAX - 1 bytes, no NUL. */
#define CLUSTER_SEEN_LINE_MAX 1024
bool cluster_seen_line_ok(const char *s, size_t n);
/* Its fields (rm/sip/proxy_cluster.c), NUL-terminated line split in place at TABs
 * (exactly four, none empty): f[0] "a"/"b", f[1] call_id, f[2] from_tag, f[3]
 * to_tag. 0, or -1 when a field is empty or there are not four. */
int cluster_seen_split(char *line, char *f[4]);
/* One line of a "units" frame (cluster_peer.c apply_units), n bytes at s without its
 * LF: 'f' for "free <node>", 'g' or 'h' for "give|held <node> <units>" (units 0..max),
 * into node (CLUSTER_NODE_MAX) and *units; 0 for an empty line or one of 96 bytes or
 * more (skipped); -1 when malformed (a node name over 63 characters, a units count
 * that is not a whole number in 0..max, a word too many). */
int cluster_units_line(const char *s, size_t n, int max, char node[64], int *units);

#endif
