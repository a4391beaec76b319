/* cdr: finished calls -> schema-1 records and call events. Rules in cdr.h. */
#include "cdr.h"

#include <stdio.h>
#include <string.h>


#include "session.h"
#include "util.h"

/* Copy at most cap-1 bytes of src (NULL = "") and terminate. */
static void copy(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strnlen(src, cap - 1) : 0;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static const char *node_or_default(const char *node)
{
	return node && *node ? node : "rm";
}

void cdr_make_id(const char *node, int64_t start_ms, char out[129])
{
	char uuid[37], n[64];
	copy(n, sizeof(n), node_or_default(node));
	util_uuid4(uuid);
	snprintf(out, 129, "%s-%lld-%s", n, (long long)start_ms, uuid);
}

enum record_disposition cdr_disposition(int64_t answer_ms, int final_status,
					enum record_ended_by ended_by, int attempts)
{
	if (answer_ms > 0)
		return REC_ANSWERED;
	if (final_status == 487 || ended_by == REC_BY_CALLER)
		return REC_CANCELLED;
	if (final_status == 408 || ended_by == REC_BY_RM_TIMEOUT)
		return REC_TIMED_OUT;
	if (ended_by == REC_BY_RM && attempts == 0)
		return REC_REJECTED;
	return REC_FAILED;
}

static int default_status(enum record_disposition d)
{
	switch (d) {
	case REC_ANSWERED: return 200;
	case REC_CANCELLED: return 487;
	case REC_TIMED_OUT: return 408;
	case REC_REJECTED: return 503;
	default: return 500;
	}
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The record of in, every field but its id. */
static int fill(const struct cdr_input *in, const char *node, record_t *r)
{
	if (!in->call_id || !*in->call_id)
		return -1;
	memset(r, 0, sizeof(*r));
	r->schema = RECORD_SCHEMA;
	copy(r->call_id, sizeof(r->call_id), in->call_id);
	copy(r->session_id, sizeof(r->session_id), in->session_id);
	copy(r->node, sizeof(r->node), node_or_default(node));
	copy(r->tenant, sizeof(r->tenant), in->tenant);
	copy(r->profile, sizeof(r->profile), in->profile);
	copy(r->service_type, sizeof(r->service_type), in->service_type);
	copy(r->lrg, sizeof(r->lrg), in->lrg);
	copy(r->mcp, sizeof(r->mcp), in->mcp);
	copy(r->caller, sizeof(r->caller), in->caller);
	copy(r->dnis, sizeof(r->dnis), in->dnis);

	int64_t start = in->start_ms > 0 ? in->start_ms : 0;
	int64_t end = in->end_ms > start ? in->end_ms : start;
	int64_t answer = in->answer_ms;
	if (answer > 0) {
		if (answer < start)
			answer = start;
		if (answer > end)
			answer = end;
	} else {
		answer = 0;
	}
	r->start_ms = start;
	r->answer_ms = answer;
	r->end_ms = end;
	r->duration_ms = answer ? end - answer : 0;
	/* A call answered at start_ms == 0 cannot be told from "never": treat the
	 * input's non-zero answer_ms as answered even then. */
	r->disposition = cdr_disposition(in->answer_ms, in->final_status, in->ended_by,
					 in->attempts);
	if (r->disposition == REC_ANSWERED && !answer) {
		r->answer_ms = start ? start : 1;
		r->duration_ms = end - r->answer_ms > 0 ? end - r->answer_ms : 0;
		if (r->end_ms < r->answer_ms)
			r->end_ms = r->answer_ms;
	}
	r->sip_status = in->final_status >= 100 && in->final_status <= 699
				? in->final_status
				: default_status(r->disposition);
	r->ended_by = (int)in->ended_by >= REC_BY_CALLER && in->ended_by <= REC_BY_RM_PEER_LOST
			      ? in->ended_by
			      : REC_BY_RM;
	r->attempts = clampi(in->attempts, 0, 100);
	r->usage_level = clampi(in->usage_level, 0, 3);
	return 0;
}

int cdr_from_input(const struct cdr_input *in, const char *node, record_t *r)
{
	if (fill(in, node, r) < 0)
		return -1;
	cdr_make_id(r->node, r->start_ms, r->id);
	return 0;
}

static enum record_ended_by map_ender(enum session_ender e)
{
	switch (e) {
	case SESSION_END_CALLER: return REC_BY_CALLER;
	case SESSION_END_MCP: return REC_BY_MCP;
	case SESSION_END_RM_TIMEOUT: return REC_BY_RM_TIMEOUT;
	case SESSION_END_RM_DRAIN: return REC_BY_RM_DRAIN;
	case SESSION_END_RM_KEEPALIVE: return REC_BY_RM_KEEPALIVE;
	case SESSION_END_RM_PEER_LOST: return REC_BY_RM_PEER_LOST;
	default: return REC_BY_RM;
	}
}

void cdr_input_from_session(const struct session *s, struct cdr_input *in)
{
	memset(in, 0, sizeof(*in));
	in->call_id = s->call_id;
	in->session_id = s->gvp_session_id;
	in->tenant = s->tenant;
	in->profile = s->profile;
	in->service_type = s->service_type;
	in->lrg = s->lrg;
	in->mcp = s->mcp_uri;
	in->caller = s->caller;
	in->dnis = s->dnis;
	in->start_ms = s->start_ms;
	in->answer_ms = s->answer_ms;
	in->end_ms = s->end_ms;
	in->final_status = s->final_status;
	in->ended_by = map_ender(s->ended_by);
	in->attempts = s->attempts;
	in->usage_level = s->usage_level;
}

int cdr_from_session(const struct session *s, const char *node, record_t *out)
{
	struct cdr_input in;
	cdr_input_from_session(s, &in);
	return cdr_from_input(&in, node, out);
}

const char *cdr_event_name(enum cdr_event_type t)
{
	switch (t) {
	case CDR_EV_START: return "call.start";
	case CDR_EV_ANSWER: return "call.answer";
	default: return "call.end";
	}
}

int cdr_event_json(const struct cdr_input *in, const char *node,
		   enum cdr_event_type type, char *out, size_t cap)
{
	record_t r;
	int64_t ts;
	bool answer = type != CDR_EV_START && in->answer_ms > 0;

	/* fill, not cdr_from_input: an event's id is made once, from its own time */
	if (fill(in, node, &r) < 0 || cap < 2)
		return -1;
	ts = type == CDR_EV_END ? r.end_ms : answer ? r.answer_ms : r.start_ms;
	cdr_make_id(r.node, type == CDR_EV_START ? r.start_ms
				: type == CDR_EV_ANSWER ? r.answer_ms : r.end_ms, r.id);
	return record_encode_event(&r, cdr_event_name(type), (long long)ts, answer,
				   type == CDR_EV_END, out, cap);
}
