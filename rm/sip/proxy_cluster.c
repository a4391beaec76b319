/*
 * proxy_cluster: the SIP thread's part of session replication and adoption (README
 * "rm cluster", rm/cluster/cluster_sess.h).
 *
 * Replication: a routed INVITE still unanswered CLUSTER_RING_HOLD_MS after it came
 * goes out as a "+" line with answer_ms 0 (what its record needs, no dialog fields:
 * proxy_cluster_tick); when it is answered, as a "+" line, whole; when a call that
 * went out ends, a "-" line. The line is handed to the post callback (rm/main.c: the
 * bridge to the service thread, bounded; a full queue drops the line and counts it):
 * the SIP thread never waits on the cluster. With cluster.adopt "keep", an ACK or BYE
 * routed here for a dialog this node does not hold is told to the peers as an "a"/"b"
 * line (rm/cluster/cluster_seen.c), and a peer's such lines come back through
 * proxy_adopt.
 *
 * Adoption: the service thread hands a dead peer's "+" lines here (proxy_adopt).
 * Each becomes a session of this table (owner = the dead node). A call still ringing
 * is ended at once with its record (ended_by "rm-peer-lost", no answer, status
 * RINGING_STATUS): its INVITE transactions died with the node. cluster.adopt "end":
 * it is ended at once with a BYE to both sides built from the replicated dialog
 * state, and its record is written with ended_by "rm-peer-lost". "keep": it stays,
 * as an answered call of this node (a struct call holding the rebuilt dialog and a
 * route ticket on its profile, tenant and MCP: route_hold), so that the in-dialog
 * requests that reach this node through the shared sip.advertise address end it
 * like any other call (BYE: record ended_by caller or mcp, usage released then);
 * max duration, keepalive and drain apply to it too. A kept call is replicated again
 * as this node's own "+" line (its `node` still the dead one), so that a third node
 * can take it over if this one dies as well.
 *
 * Record ids: every CDR of a session gets cluster_record_id(node, start_ms,
 * call_id, from_tag), node being the node that carried the call. The survivor
 * writing an adopted call's record and the dead node replaying its own record of
 * that call from its spool thus write the same id, which rs stores once.
 */
#include "proxy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing.h"
#include "cdr.h"
#include "cluster_sess.h"
#include "log.h"
#include "util.h"

/* rm's BYEs to an adopted call use the last CSeq replicated at the answer plus
 * this: in-dialog requests after the answer are not replicated, and a CSeq above
 * the other side's is all a UA checks (RFC 3261 12.2.2). */
#define ADOPT_CSEQ_STEP 100
/* A call is described to the peers while ringing only once it rang this long: most
 * are answered sooner and cost the link nothing more. Its price: a node that dies
 * within a call's first 100-200 ms of ringing leaves it without a record. */
#define CLUSTER_RING_HOLD_MS 100
#define ADOPT_REASON "SIP;cause=503;text=\"rm peer lost\""
#define BODY_MAX 8192
/* The record of a call a dead node left ringing: the caller got no final answer from
 * rm (its INVITE transaction times out); 503 as in the BYE Reason above, and
 * disposition "failed" (cdr_disposition). */
#define RINGING_STATUS 503

void proxy_set_cluster(struct proxy *p, void (*post)(void *arg, char *line), void *arg)
{
	p->cluster_post = post;
	p->cluster_arg = arg;
}

/* s's "+" line (mcp: where its INVITE went, when s does not say yet) to the service
 * thread. */
static void post_add(struct proxy *p, const struct session *s, const struct dialog *d,
		     const char *mcp)
{
	struct dialog_parts dp;
	struct cluster_sess cs = { 0 };
	char *line;

	if (!p->cluster_post || !s || (s->owner[0] && !s->user))
		return; /* an adopted call ended at once: it is no one's any more */
	dialog_get_parts(d, &dp);
	cs.call_id = s->call_id;
	cs.from_tag = s->from_tag;
	cs.to_tag = s->to_tag;
	cs.session_id = s->gvp_session_id;
	cs.tenant = s->tenant;
	cs.profile = s->profile;
	cs.service_type = s->service_type;
	cs.lrg = s->lrg;
	cs.mcp = s->mcp_uri[0] ? s->mcp_uri : mcp;
	cs.caller = s->caller;
	cs.dnis = s->dnis;
	cs.attempts = s->attempts < 0 ? 0 : s->attempts > 100 ? 100 : s->attempts;
	cs.usage_level = s->usage_level < 0 || s->usage_level > 3 ? 0 : s->usage_level;
	cs.start_ms = s->start_ms;
	cs.answer_ms = s->answer_ms;
	cs.cseq[0] = dp.cseq[0];
	cs.cseq[1] = dp.cseq[1];
	cs.from = dp.from;
	cs.to = dp.to;
	for (int i = 0; i < 2; i++) {
		cs.target[i] = dp.target[i];
		cs.route[i] = dp.route[i];
	}
	cs.node = s->owner[0] ? s->owner : p->cfg->node;
	line = cluster_sess_add_line(&cs);
	if (line)
		p->cluster_post(p->cluster_arg, line);
	else
		log_warn("cluster: cannot describe call-id=%s to the peers", s->call_id);
}

/* Once a proxy tick: every call that started within the last window ending
 * CLUSTER_RING_HOLD_MS ago and is still ringing goes out as a "+" line with answer_ms
 * 0. Each call falls in exactly one window (however late the tick), so it is described
 * once, and a call answered or ended within its first CLUSTER_RING_HOLD_MS costs
 * nothing. The walk starts at the newest session and stops at the first one older
 * than the last window; adopted sessions (inserted late, with their old start) are
 * stepped over. */
void proxy_cluster_tick(struct proxy *p)
{
	int64_t upto = util_now_ms() - CLUSTER_RING_HOLD_MS;

	if (!p->cluster_post || upto <= p->cluster_ring_upto)
		return;
	for (struct session *s = session_last(p->sessions); s; s = session_prev(s)) {
		if (s->owner[0])
			continue;
		if (s->start_ms <= p->cluster_ring_upto)
			break;
		if (s->start_ms <= upto && !s->answer_ms && s->user)
			post_add(p, s, NULL, ""); /* its record's fields: no dialog to end */
	}
	p->cluster_ring_upto = upto;
}

void proxy_cluster_answered(struct proxy *p, const struct session *s, const struct dialog *d)
{
	post_add(p, s, d, "");
}

void proxy_cluster_ended(struct proxy *p, const struct session *s)
{
	char *line;

	if (!p->cluster_post || (s->owner[0] && !s->user))
		return;
	if (!s->answer_ms && s->start_ms > p->cluster_ring_upto)
		return; /* ended before it was described (proxy_cluster_tick) */
	line = cluster_sess_del_line(s->call_id, s->from_tag);
	if (line)
		p->cluster_post(p->cluster_arg, line);
}

struct billing_item *proxy_cdr_item(struct proxy *p, const struct session *s)
{
	const char *node = s->owner[0] ? s->owner : p->cfg->node;
	struct cdr_input in;
	struct billing_item *it;
	record_t r;
	char buf[BODY_MAX];
	int n;

	cdr_input_from_session(s, &in);
	if (cdr_from_input(&in, node, &r) < 0)
		return NULL;
	if (s->ended_by == SESSION_END_RM_PEER_LOST)
		r.ended_by = REC_BY_RM_PEER_LOST; /* cdr.c predates it: it would say "rm" */
	cluster_record_id(r.node, s->start_ms, s->call_id, s->from_tag, r.id);
	n = record_encode(&r, buf, sizeof buf);
	if (n < 0)
		return NULL;
	it = malloc(sizeof *it + (size_t)n + 1);
	if (!it)
		return NULL;
	it->kind = BILLING_CDR;
	it->end_ms = r.end_ms;
	it->len = (size_t)n;
	memcpy(it->body, buf, (size_t)n + 1);
	return it;
}

/* cluster.adopt "keep": s (filled from a dead peer's line, dialog d) goes on as an
 * answered call of this node. The struct call is built here rather than by call_new:
 * it has no transaction, only what an answered call keeps once its INVITE is done
 * (proxy_int.h: the session's reference, the dialog, the route ticket). */
static bool keep_call(struct proxy *p, struct session *s, struct dialog *d)
{
	struct call *c = calloc(1, sizeof *c);

	if (!c)
		return false;
	c->p = p;
	c->refs = 1; /* the session's (released by proxy_session_end_hook) */
	c->method = sip_method_invite;
	c->routed = c->answered = c->acked = c->done = true;
	c->sess = s;
	c->dlg = d;
	snprintf(c->target, sizeof c->target, "%s", s->mcp_uri);
	if (!route_hold(p->route, s->profile, s->mcp_uri, &c->ticket))
		log_warn("cluster: kept call-id=%s: profile %s is not configured here: its "
			 "usage is not counted", s->call_id, s->profile);
	c->all_next = p->all;
	if (p->all)
		p->all->all_prev = c;
	p->all = c;
	p->live_calls++;
	s->user = c;
	if (p->cfg->max_duration_s > 0)
		s->deadline_ms = s->start_ms + (int64_t)p->cfg->max_duration_s * 1000;
	proxy_cluster_answered(p, s, d);
	return true;
}

/* FNV-1a, 64 bits: the BYE ring compares hashes of Call-IDs and tags. */
static uint64_t hash64(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* A BYE (its Call-ID, From and To tags) for a dialog this node does not hold, seen
 * here or told by a peer: kept BYE_RECENT_MS (the last 2048 of them), for the call
 * that may be adopted just after (its BYE came between its node's death and the
 * adoption). Adopting a call scans them all (O(2048), once per kept call). */
#define BYE_RECENT_MS 5000
static void bye_remember(struct proxy *p, const char *cid, const char *ft, const char *tt)
{
	unsigned n = sizeof p->cluster_byes / sizeof p->cluster_byes[0];
	unsigned i = p->cluster_byes_next++ % n;

	p->cluster_byes[i].cid = hash64(cid);
	p->cluster_byes[i].tag[0] = hash64(ft);
	p->cluster_byes[i].tag[1] = hash64(tt);
	p->cluster_byes[i].at_ms = util_now_ms();
}

/* A kept call's BYE already went by: when (0: none); *from_caller: who sent it. */
static int64_t bye_seen(struct proxy *p, const struct session *s, bool *from_caller)
{
	uint64_t cid = hash64(s->call_id), tag = hash64(s->from_tag);
	int64_t now = util_now_ms();

	for (unsigned i = 0; i < sizeof p->cluster_byes / sizeof p->cluster_byes[0]; i++) {
		const typeof(p->cluster_byes[0]) *b = &p->cluster_byes[i];
		if (b->cid == cid && now - b->at_ms < BYE_RECENT_MS &&
		    (b->tag[0] == tag || b->tag[1] == tag)) {
			*from_caller = b->tag[0] == tag;
			return b->at_ms;
		}
	}
	return 0;
}

/* A field of a "seen" line: no TAB, CR or LF, not too long. */
static bool seen_field_ok(const char *s)
{
	return s && strlen(s) < 256 && !strpbrk(s, "\t\r\n");
}

void proxy_cluster_seen(struct proxy *p, const sip_t *sip)
{
	sip_method_t m = sip->sip_request->rq_method;
	const char *cid = sip->sip_call_id->i_id, *ft = sip->sip_from->a_tag;
	const char *tt = sip->sip_to->a_tag;
	char *line;

	if (!p->cluster_post || !p->cfg->cluster_adopt_keep ||
	    (m != sip_method_ack && m != sip_method_bye) || !seen_field_ok(cid) ||
	    !seen_field_ok(ft) || !seen_field_ok(tt))
		return;
	if (m == sip_method_bye)
		bye_remember(p, cid, ft, tt);
	if (asprintf(&line, "%c\t%s\t%s\t%s\n", m == sip_method_ack ? 'a' : 'b', cid, ft,
		     tt) >= 0)
		p->cluster_post(p->cluster_arg, line);
}

/* A peer routed an ACK or BYE ("a"/"b" line of cluster_seen.c) of a call it does not
 * hold: if this node holds it, the ACK is taken as seen here, the BYE ends it. */
static void seen_by_peer(struct proxy *p, const char *peer, char *line)
{
	char *f[4];
	struct session *s;

	if (cluster_seen_split(line, f) < 0)
		return;
	s = session_lookup(p->sessions, f[1], f[2], f[3]);
	if (!s && f[0][0] == 'b')
		bye_remember(p, f[1], f[2], f[3]);
	if (!s || !s->user || !s->answer_ms)
		return;
	bool from_caller = strcmp(s->from_tag, f[2]) == 0;
	if (f[0][0] == 'a') {
		if (from_caller)
			call_acked(s->user); /* as if it came here (proxy.c in_dialog) */
		return;
	}
	log_info("cluster: call-id=%s ended by a BYE that %s routed", s->call_id, peer);
	session_end(p->sessions, s, 200, from_caller ? SESSION_END_CALLER : SESSION_END_MCP,
		    util_now_ms());
	proxy_sessions_changed(p);
}

void proxy_adopt(struct proxy *p, const char *owner, char *line)
{
	struct cluster_sess cs;
	struct dialog_parts dp;
	struct dialog *d;
	struct session *s;
	bool add;
	int64_t now = util_now_ms();

	if (line[0] == 'h') { /* a peer's MCP verdict (cluster_peer.c apply_health) */
		monitor_hint(p, owner, line);
		return;
	}
	if (line[0] == 'a' || line[0] == 'b') { /* cluster_seen.c */
		seen_by_peer(p, owner, line);
		return;
	}
	if (cluster_sess_parse(line, &add, &cs) < 0 || !add) {
		log_warn("cluster: an adopted call of %s cannot be read: dropped", owner);
		return;
	}
	s = session_insert(p->sessions, cs.call_id, cs.from_tag, now);
	if (!s) {
		log_warn("cluster: call-id=%s of %s is live here already: not adopted",
			 cs.call_id, owner);
		return;
	}
	snprintf(s->owner, sizeof s->owner, "%s", cs.node && *cs.node ? cs.node : owner);
	snprintf(s->to_tag, sizeof s->to_tag, "%s", cs.to_tag);
	snprintf(s->gvp_session_id, sizeof s->gvp_session_id, "%s", cs.session_id);
	snprintf(s->tenant, sizeof s->tenant, "%s", cs.tenant);
	snprintf(s->profile, sizeof s->profile, "%s", cs.profile);
	snprintf(s->service_type, sizeof s->service_type, "%s", cs.service_type);
	snprintf(s->lrg, sizeof s->lrg, "%s", cs.lrg);
	snprintf(s->mcp_uri, sizeof s->mcp_uri, "%s", cs.mcp);
	snprintf(s->caller, sizeof s->caller, "%s", cs.caller);
	snprintf(s->dnis, sizeof s->dnis, "%s", cs.dnis);
	s->attempts = cs.attempts;
	s->usage_level = cs.usage_level;
	s->start_ms = cs.start_ms;
	s->answer_ms = cs.answer_ms;
	s->deadline_ms = 0;
	if (!cs.answer_ms) { /* still ringing: nothing to end, its record to write */
		log_info("cluster: call-id=%s of dead node %s was ringing: its record written",
			 s->call_id, owner);
		session_end(p->sessions, s, RINGING_STATUS, SESSION_END_RM_PEER_LOST, now);
		proxy_sessions_changed(p);
		return;
	}
	memset(&dp, 0, sizeof dp);
	dp.cseq[0] = cs.cseq[0] + ADOPT_CSEQ_STEP;
	dp.cseq[1] = cs.cseq[1] + ADOPT_CSEQ_STEP;
	dp.from = cs.from;
	dp.to = cs.to;
	for (int i = 0; i < 2; i++) {
		dp.target[i] = cs.target[i];
		dp.route[i] = cs.route[i];
	}
	d = dialog_from_parts(&dp);
	if (p->cfg->cluster_adopt_keep && d && keep_call(p, s, d)) {
		bool from_caller = false;
		int64_t bye_ms = bye_seen(p, s, &from_caller);
		log_info("cluster: call-id=%s of dead node %s adopted and kept%s", s->call_id,
			 owner, bye_ms ? ": its BYE went by already, ended" : "");
		if (bye_ms)
			session_end(p->sessions, s, 200,
				    from_caller ? SESSION_END_CALLER : SESSION_END_MCP, bye_ms);
		proxy_sessions_changed(p);
		return;
	}
	if (d)
		dialog_bye(p, s, d, ADOPT_REASON);
	else
		log_warn("cluster: call-id=%s of %s has no dialog state: ended without BYE",
			 cs.call_id, owner);
	dialog_free(d);
	log_info("cluster: call-id=%s of dead node %s adopted and ended", cs.call_id, owner);
	session_end(p->sessions, s, 200, SESSION_END_RM_PEER_LOST, now);
	proxy_sessions_changed(p);
}
