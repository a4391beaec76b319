/*
 * cdr: turn a finished call into a billing record (common/record.h, schema 1) and
 * calls in progress into event bodies for /queue/gvp.events. Pure: no I/O, no
 * clock reads except util_uuid4 for ids.
 *
 * Use (proxy, in the session end hook, then on the service thread):
 *   record_t r;
 *   cdr_from_session(s, node, &r);            or cdr_from_input() for a call rm
 *                                             refused before a session existed
 *   n = record_encode(&r, buf, sizeof(buf));
 *   spool_append(spool, REC_DEST_CDR, buf, n, &seq); publisher_submit(pub, seq);
 *   n = cdr_event_json(&ev, node, CDR_EV_END, buf, sizeof(buf));  likewise to
 *                                             REC_DEST_EVENTS (record.h)
 *
 * Record id: a session's CDR gets its id in rm/sip/proxy_cluster.c from
 * cluster_record_id: "<node>-<start_ms>-<32 hex of SHA-256(call_id LF from_tag)>", the
 * same on every node, so the record a dead node replays from its spool and the one
 * the peer that adopted its call writes are one row in rs. cdr_make_id (a random
 * uuid4 in place of the hash) serves records that have no session. The id is the
 * idempotency key rs stores on: a record is built ONCE and the same bytes re-sent.
 *
 * Disposition (first rule that matches):
 *   answered   answer_ms != 0 (a 2xx was relayed), whoever ended it;
 *   cancelled  final status 487, or ended by the caller before an answer;
 *   timed-out  final status 408, or ended by rm's timeout;
 *   rejected   rm refused it itself: ended by rm with no MCP attempt;
 *   failed     everything else (MCPs failed, drain before an answer, ...).
 * sip_status: the final status, or when none was set: 200 if answered, 487
 * cancelled, 408 timed-out, 503 rejected, 500 failed. Times are clamped so that
 * start <= answer <= end (the wall clock may step); duration = end - answer.
 */
#ifndef RM_CDR_H
#define RM_CDR_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct session;

/* A call described without a struct session: a call rm refused at admission, or a
 * caller that keeps its own state. Strings may be NULL (empty); they are truncated
 * to the record's limits. */
struct cdr_input {
	const char *call_id; /* required */
	const char *session_id;
	const char *tenant, *profile, *service_type, *lrg, *mcp;
	const char *caller, *dnis;
	int64_t start_ms, answer_ms, end_ms; /* UTC ms; answer_ms 0 = never */
	int final_status;                   /* 0 = derive from the disposition */
	enum record_ended_by ended_by;
	int attempts;    /* MCPs tried */
	int usage_level; /* 0 none, 1..3 */
};

/* Build the record for input in / session s, produced by rm node `node` (1..63
 * chars; NULL or "" becomes "rm"). Fills every field of *out and a fresh id.
 * Returns 0, or -1 when the call has no Call-ID (nothing can identify it). The
 * result passes record_validate. */
int cdr_from_input(const struct cdr_input *in, const char *node, record_t *out);
int cdr_from_session(const struct session *s, const char *node, record_t *out);

/* The session's fields as a cdr_input (strings point into s). */
void cdr_input_from_session(const struct session *s, struct cdr_input *out);

/* The disposition rule above. */
enum record_disposition cdr_disposition(int64_t answer_ms, int final_status,
					enum record_ended_by ended_by, int attempts);

/* "<node>-<start_ms>-<uuid4>" into out (129 bytes). */
void cdr_make_id(const char *node, int64_t start_ms, char out[129]);

enum cdr_event_type { CDR_EV_START = 0, CDR_EV_ANSWER, CDR_EV_END };
/* "call.start", "call.answer", "call.end". */
const char *cdr_event_name(enum cdr_event_type t);

/* An event body: a compact JSON object
 *   {"id":..., "schema":1, "type":"call.start", "node":..., "call_id":...,
 *    "session_id":..., "tenant":..., "profile":..., "mcp":..., "start_ms":...,
 *    "answer_ms":... (once answered), "end_ms":... (end only), "ts_ms":...,
 *    and for call.end: "disposition", "sip_status", "ended_by", "duration_ms"}
 * ts_ms is the event's own time: start_ms, answer_ms or end_ms. Every event has
 * its own id. Returns the length written (excluding the NUL), or -1 if cap is too
 * small, the call has no Call-ID, or out of memory. */
int cdr_event_json(const struct cdr_input *in, const char *node,
		   enum cdr_event_type type, char *out, size_t cap);

#endif
