/*
 * proxy_call: one stateful forward (struct call, see proxy_int.h for ownership):
 * sending a copy of the request, relaying responses, CANCEL, failover triggers and
 * the deadline lists (attempt timeout, 2xx linger).
 */
#include "proxy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/su_tag.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/url.h>

#include "billing.h"
#include "cdr.h"
#include "log.h"
#include "sip_guard.h"
#include "util.h"

/* How long an answered INVITE keeps its transactions to relay 2xx retransmissions
 * (session.ack_timeout_ms, default 64*T1, RFC 3261 13.3.1.4). A dialog whose ACK has
 * not come through rm by then is ended (call_ack_timeout). */
#define LINGER_MS(p) ((int64_t)(p)->cfg->ack_timeout_ms)

static int call_response(void *magic, nta_outgoing_t *orq, const sip_t *sip);
static int call_ack_cancel(struct call *c, nta_incoming_t *irq, const sip_t *sip);

/* ---- deadline lists --------------------------------------------------------------- */

void call_list_remove(struct call_list *l, struct call *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
	l->n--;
}

static struct call_list *list_of(struct proxy *p, enum call_wait w)
{
	return w == WAIT_ATTEMPT ? &p->attempts : w == WAIT_LINGER ? &p->lingering
	       : w == WAIT_ORPHAN ? &p->loose_orphans : NULL;
}

void call_wait(struct call *c, enum call_wait w, int64_t deadline_ms)
{
	struct call_list *l = list_of(c->p, c->wait);
	if (l)
		call_list_remove(l, c);
	c->wait = w;
	c->deadline_ms = deadline_ms;
	l = list_of(c->p, w);
	if (!l)
		return;
	c->prev = l->tail;
	c->next = NULL;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	l->n++;
}

/* ---- lifecycle -------------------------------------------------------------------- */

struct call *call_new(struct proxy *p, nta_incoming_t *irq, const sip_t *sip)
{
	struct call *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->p = p;
	c->refs = 1;
	c->irq = irq;
	c->req = nta_incoming_getrequest(irq);
	c->method = sip->sip_request->rq_method;
	if (!c->req) {
		free(c);
		return NULL;
	}
	if (c->method == sip_method_invite)
		nta_incoming_bind(irq, call_ack_cancel, c);
	c->tr_held = true;
	c->all_next = p->all;
	if (p->all)
		p->all->all_prev = c;
	p->all = c;
	p->live_calls++;
	return c;
}

void call_unref(struct call *c)
{
	if (--c->refs > 0)
		return;
	call_unloose(c);
	proxy_setup_end(c);
	route_release(&c->ticket);
	if (c->all_prev)
		c->all_prev->all_next = c->all_next;
	else
		c->p->all = c->all_next;
	if (c->all_next)
		c->all_next->all_prev = c->all_prev;
	c->p->live_calls--;
	dialog_free(c->dlg);
	free(c);
}

/* Let go of the transactions (the transaction side's reference). */
static void call_release_tr(struct call *c)
{
	if (!c->tr_held)
		return;
	c->tr_held = false;
	call_wait(c, WAIT_NONE, 0);
	if (c->orq) {
		proxy_orphan_adopt(c->p, c->orq); /* an unanswered INVITE branch lingers */
		c->orq = NULL;
	} else if (c->loose && c->sent && (!c->loose_final || c->last_status >= 300)) {
		/* a loose branch still unanswered is CANCELled (unless it was); one
		 * still unanswered or answered non-2xx is kept LOOSE_ORPHAN_MS so that
		 * its final answer and the retransmissions of it are ACKed, as nta's
		 * timer D would (RFC 3261 17.1.1.2) */
		call_cancel_branch(c, NULL, NULL);
		c->refs++;
		call_wait(c, WAIT_ORPHAN, proxy_now_ms() + LOOSE_ORPHAN_MS);
	}
	if (c->irq) {
		nta_incoming_bind(c->irq, NULL, NULL);
		nta_incoming_destroy(c->irq);
		c->irq = NULL;
	}
	if (c->req) {
		msg_destroy(c->req);
		c->req = NULL;
	}
	call_unref(c);
}

/* The call is over without an answer: reply upstream (if asked and possible), end
 * the session, drop the transactions. */
void call_finish(struct call *c, int status, bool send_reply)
{
	struct proxy *p = c->p;

	if (send_reply && c->irq && !c->done && status >= 300)
		proxy_reply(c->irq, status, 0);
	c->done = true;
	proxy_setup_end(c);
	c->last_status = status;
	if (c->sess) {
		session_end(p->sessions, c->sess, status,
			    status == 487 ? SESSION_END_CALLER : SESSION_END_MCP, util_now_ms());
		metric_set(p->m_active, (double)session_count(p->sessions));
	}
	call_release_tr(c);
}

/* ---- sending -------------------------------------------------------------------- */

/* The request-URI of msg pointed at dest's host and port (SEND_REWRITE_RURI), without
 * its gvp-tenant-id parameter with SEND_STRIP_TENANT. 0, or -1 out of memory. */
static int send_rewrite_ruri(msg_t *msg, sip_t *sip, const url_t *dest, unsigned flags)
{
	su_home_t *home = msg_home(msg);
	url_t *ru = url_hdup(home, sip->sip_request->rq_url);
	sip_request_t *rq;

	if (!ru)
		return -1;
	ru->url_host = dest->url_host;
	ru->url_port = dest->url_port;
	if ((flags & SEND_STRIP_TENANT) && ru->url_params) {
		char *params = su_strdup(home, ru->url_params);
		ru->url_params = url_strip_param_string(params, "gvp-tenant-id");
		if (ru->url_params && !ru->url_params[0])
			ru->url_params = NULL;
	}
	rq = sip_request_create(home, sip->sip_request->rq_method,
				sip->sip_request->rq_method_name, (url_string_t *)ru, NULL);
	if (!rq || msg_header_replace(msg, (msg_pub_t *)sip, (msg_header_t *)sip->sip_request,
				      (msg_header_t *)rq) < 0)
		return -1;
	return 0;
}

/* Where msg goes next: dest when given, else its first Route, else its
 * request-URI. */
static const url_t *send_next_url(const sip_t *sip, const url_t *dest)
{
	if (dest)
		return dest;
	if (sip->sip_route)
		return sip->sip_route->r_url;
	return sip->sip_request->rq_url;
}

/* Resolve next to a numeric destination (nta gets nothing else; proxy_resolve.c)
 * and send msg there as c's client transaction. 0 sent (msg is nta's), 1 deferred
 * until the name resolves, -1 failed (msg is still the caller's). */
static int send_resolved(struct call *c, msg_t *msg, const url_t *next, unsigned flags,
			 bool has_target)
{
	struct proxy *p = c->p;
	url_t *num;
	int st;
	char host[RM_HOST_MAX];
	enum resolve_rc rr = proxy_next_hop(p, msg_home(msg), next, &num, &st, host,
					    sizeof host);

	if (rr == RESOLVE_PENDING && call_defer(c, host, flags, has_target) == 0)
		return 1;
	if (rr != RESOLVE_OK) {
		call_unresolved(c, host, rr == RESOLVE_PENDING ? 503 : st);
		return -1;
	}
	c->got_provisional = false;
	call_unloose(c);
	/* a routed INVITE's branch is keyed (proxy_stateless.c): its responses are
	 * recognised once rm let the transaction go (loose, or after the ACK) */
	c->keyed = c->routed && c->method == sip_method_invite &&
		   proxy_invite_branch(c, c->branch, sizeof c->branch);
	c->udp_out = !guard_next_is_tcp(p, next);
	c->orq = nta_outgoing_mcreate(p->agent, call_response, c, (url_string_t const *)num,
				      msg, TAG_IF(c->keyed, NTATAG_BRANCH_KEY(c->branch)),
				      TAG_END());
	return c->orq ? 0 : -1;
}

int call_send(struct call *c, const char *target, unsigned flags, const char *extra)
{
	struct proxy *p = c->p;
	msg_t *msg = msg_copy(c->req);
	sip_t *sip;
	url_t *dest = NULL;
	int rc;

	/* never re-send a message whose framing is broken: its raw, unterminated last
	 * line would swallow the next header rm adds (sip_check.h "framing") */
	if (!sip_check_forwardable(sip_object(c->req), msg_get_flags(c->req, ~0u))) {
		msg_destroy(msg);
		return -1;
	}
	if (!msg)
		return -1;
	sip = sip_object(msg);

	if (target) {
		dest = url_make(msg_home(msg), target);
		if (!dest || !dest->url_host)
			goto fail;
		if (target != c->target)
			snprintf(c->target, sizeof c->target, "%s", target);
	}
	if ((flags & SEND_REWRITE_RURI) && dest && send_rewrite_ruri(msg, sip, dest, flags) < 0)
		goto fail;
	if ((flags & SEND_ADD_RR) &&
	    guard_record_route(p, c->req, send_next_url(sip, dest), msg, sip) < 0)
		goto fail;
	if (extra && sip_add_make(msg, sip, sip_unknown_class, extra) < 0)
		goto fail;
	rc = send_resolved(c, msg, send_next_url(sip, dest), flags, target != NULL);
	if (rc < 0)
		goto fail;
	if (rc > 0)
		msg_destroy(msg); /* deferred: call_defer sends a fresh copy later */
	return 0;
fail:
	msg_destroy(msg);
	return -1;
}

/* Relay response msg (taken) upstream, without our Via. */
void call_relay_msg(struct call *c, msg_t *msg, int status)
{
	if (!c->irq) {
		/* the server transaction went when the first 2xx was relayed: a proxy
		 * forwards 2xx retransmissions statelessly (RFC 3261 16.7 step 10);
		 * nta_msg_tsend drops rm's Via and sends where the next one says */
		if (msg && status >= 200 && status < 300 && c->method == sip_method_invite &&
		    !nta_msg_is_internal(msg))
			nta_msg_tsend(c->p->agent, msg, NULL, TAG_END());
		else
			msg_destroy(msg);
		return;
	}
	if (!msg || nta_msg_is_internal(msg)) {
		/* nta's own answer (timeout, transport error): build ours */
		msg_destroy(msg);
		proxy_reply(c->irq, status, 0);
		return;
	}
	sip_via_remove(msg, sip_object(msg));
	if (!sip_object(msg)->sip_via) {
		/* the MCP dropped the upstream Vias: answer with the status ourselves */
		msg_destroy(msg);
		proxy_reply(c->irq, status, 0);
		return;
	}
	if (nta_incoming_mreply(c->irq, msg) < 0)
		log_debug("cannot relay %d upstream", status);
}

/* Relay the latest response of orq upstream, without our Via. */
static void relay(struct call *c, nta_outgoing_t *orq, int status)
{
	call_relay_msg(c, nta_outgoing_getresponse(orq), status);
}

static bool failover_wanted(const struct call *c, int status, bool internal)
{
	const struct rm_config *cfg = c->p->cfg;

	if (!c->routed || c->cancelled || c->answered || c->p->stopped)
		return false;
	if (c->ticket.attempts >= cfg->max_attempts)
		return false;
	if (internal && (status == 408 || status == 503))
		return cfg->failover_on_timeout || rm_config_is_failover_code(cfg, status);
	return rm_config_is_failover_code(cfg, status);
}

/* The first 2xx of c's INVITE (sip) has come: answered, session and dialog state. */
void call_answered(struct call *c, const sip_t *sip)
{
	struct proxy *p = c->p;

	c->answered = c->done = true;
	proxy_setup_end(c);
	if (c->sess) {
		c->sess->answer_ms = util_now_ms();
		if (sip && sip->sip_to && sip->sip_to->a_tag)
			snprintf(c->sess->to_tag, sizeof c->sess->to_tag, "%s", sip->sip_to->a_tag);
		dialog_answered(p, c->dlg, sip);
		proxy_bill_event(p, c->sess, CDR_EV_ANSWER);
		proxy_cluster_answered(p, c->sess, c->dlg);
	}
	call_wait(c, WAIT_LINGER, proxy_now_ms() + LINGER_MS(p));
}

/* After the 2xx went upstream the server transaction is done: nta absorbs INVITE
 * retransmissions for T4 more (timer I, then frees it); later 2xx retransmissions
 * are relayed statelessly (relay_msg). */
void call_drop_irq(struct call *c)
{
	if (c->irq) {
		nta_incoming_bind(c->irq, NULL, NULL);
		nta_incoming_destroy(c->irq);
		c->irq = NULL;
	}
}

/* A final non-2xx (msg, taken) on c's current branch: fail over, or relay it and
 * finish the call. */
void call_failed(struct call *c, msg_t *msg, int status, bool internal)
{
	if (failover_wanted(c, status, internal)) {
		log_debug("MCP %s answered %d%s, failing over", c->target, status,
			  internal ? " (no answer)" : "");
		if (proxy_try_next(c) == 0) {
			msg_destroy(msg);
			return;
		}
	}
	call_relay_msg(c, msg, status);
	c->done = true;
	call_finish(c, status, false);
}

static int call_response(void *magic, nta_outgoing_t *orq, const sip_t *sip)
{
	struct call *c = magic;
	struct proxy *p = c->p;
	int status = sip && sip->sip_status ? sip->sip_status->st_status
					    : nta_outgoing_status(orq);

	if (orq != c->orq)
		return 0; /* a branch we gave up on */

	if (status < 200) {
		c->got_provisional = true;
		if (c->wait == WAIT_ATTEMPT && !c->cancelled)
			call_wait(c, WAIT_NONE, 0);
		if (status > 100)
			relay(c, orq, status);
		call_go_loose(c, orq);
		return 0;
	}
	if (status < 300) {
		relay(c, orq, status);
		if (c->method != sip_method_invite) {
			c->done = true;
			call_release_tr(c);
			return 0;
		}
		if (!c->answered) {
			call_answered(c, sip);
			call_drop_irq(c);
		}
		return 0;
	}
	if (c->done)
		return 0;

	bool internal = !sip || nta_sip_is_internal(sip);
	c->last_status = status;
	/* nta's own answer: a timeout (408) may be rm's own lateness and never counts
	 * against the MCP; a transport error (503: refused, unreachable) does, unless
	 * rm was congested. Health is otherwise OPTIONS' business (monitor.c). */
	if (internal && status != 408 && c->routed && c->ticket.mcp &&
	    !proxy_overload_busy_since(p, proxy_now_ms() - p->cfg->attempt_timeout_ms))
		monitor_report(p, c->ticket.mcp, false);
	call_failed(c, nta_outgoing_getresponse(orq), status, internal);
	return 0;
}

/* ACK (for a non-2xx, absorbed) and CANCEL for a pending INVITE; sip == NULL when
 * the server transaction went away. nta has already answered the CANCEL with 200;
 * a non-zero return would be sent as the INVITE's final answer. */
static int call_ack_cancel(struct call *c, nta_incoming_t *irq, const sip_t *sip)
{
	struct proxy *p = c->p;

	if (!sip) {
		if (c->irq == irq) {
			c->irq = NULL;
			nta_incoming_destroy(irq);
		}
		if (!c->done) {
			call_cancel_branch(c, NULL, NULL);
			call_finish(c, 500, false);
		}
		return 0;
	}
	if (sip->sip_request->rq_method != sip_method_cancel)
		return 0;
	/* the return value would answer the INVITE itself: let the MCP's 487 do it */
	if (c->done || c->cancelled)
		return 0;
	c->cancelled = true;
	call_cancel_branch(c, NULL, NULL);
	/* if the MCP never confirms with 487, answer it ourselves */
	if (!c->done)
		call_wait(c, WAIT_ATTEMPT, proxy_now_ms() + 4000 +
						   (int64_t)p->cfg->attempt_timeout_ms);
	return 0;
}

/* ---- deadlines ---------------------------------------------------------------------- */

/* An answered call whose caller never ACKed (the caller gave up, the 2xx or the ACK
 * was lost, e.g. dropped by a full socket under overload): without this its session
 * would hold an MCP port until session.max_duration_s. BYE both sides and end it.
 * The call keeps its transaction reference (the caller releases it next). */
static void call_ack_timeout(struct call *c)
{
	struct proxy *p = c->p;
	struct session *s = c->sess;

	log_warn("call-id=%s: no ACK within %lld ms of the 2xx, ending the call", s->call_id,
		 (long long)LINGER_MS(p));
	dialog_bye(p, s, c->dlg, "SIP;cause=408;text=\"no ACK\"");
	session_end(p->sessions, s, 408, SESSION_END_RM, util_now_ms());
	proxy_sessions_changed(p);
}

static void attempt_expired(struct call *c)
{
	call_wait(c, WAIT_NONE, 0);
	if (c->done)
		return;
	if (c->cancelled || c->p->stopped) {
		int st = c->cancelled ? 487 : 503;
		call_finish(c, st, true);
		return;
	}
	if (c->got_provisional)
		return;
	log_info("MCP %s did not answer within %dms", c->target, c->p->cfg->attempt_timeout_ms);
	c->last_status = 408;
	/* not reported to the MCP's health: under overload rm's own full socket makes
	 * attempts time out, and a healthy MCP must not flap down for it (issue 10) */
	if (failover_wanted(c, 408, true) && proxy_try_next(c) == 0)
		return;
	call_finish(c, 408, true);
}

void proxy_tick_calls(struct proxy *p, int64_t now)
{
	struct call *c;

	while ((c = p->attempts.head) && c->deadline_ms <= now) {
		c->refs++;
		attempt_expired(c);
		if (c->wait == WAIT_ATTEMPT && c == p->attempts.head && c->deadline_ms <= now)
			call_wait(c, WAIT_NONE, 0); /* never loop on the same one */
		call_unref(c);
	}
	while ((c = p->loose_orphans.head) && c->deadline_ms <= now) {
		call_wait(c, WAIT_NONE, 0);
		call_unref(c);
	}
	while ((c = p->lingering.head) && c->deadline_ms <= now) {
		if (c->answered && !c->acked && c->sess && dialog_rm_in_path(c->dlg))
			call_ack_timeout(c);
		call_release_tr(c);
	}
}

void call_acked(struct call *c)
{
	c->acked = true;
	if (c->answered && c->tr_held)
		call_release_tr(c);
}

void proxy_release_all_calls(struct proxy *p)
{
	struct call *c, *next;

	for (c = p->all; c; c = next) {
		c->refs++; /* keep c while we look at its successor */
		call_release_tr(c);
		next = c->all_next;
		call_unref(c);
	}
	while ((c = p->loose_orphans.head)) {
		call_wait(c, WAIT_NONE, 0);
		call_unref(c);
	}
}

/* ---- billing ------------------------------------------------------------------------- */

void proxy_set_billing(struct proxy *p, void (*post)(void *arg, struct billing_item *it),
		       void *arg, bool events)
{
	p->billing_post = post;
	p->billing_arg = arg;
	p->billing_events = events;
}

void proxy_bill_event(struct proxy *p, const struct session *s, int type)
{
	struct billing_item *it;

	if (!p->billing_post || !p->billing_events)
		return;
	it = billing_item_event(s, p->cfg->node, type);
	if (it)
		p->billing_post(p->billing_arg, it);
	else
		log_warn("billing: cannot build the %s event of call-id=%s",
			 cdr_event_name((enum cdr_event_type)type), s->call_id);
}

void proxy_bill_cdr(struct proxy *p, const struct session *s)
{
	struct billing_item *it;

	if (!p->billing_post)
		return;
	proxy_bill_event(p, s, CDR_EV_END);
	it = proxy_cdr_item(p, s); /* its id is the same on every node (proxy_cluster.c) */
	if (it)
		p->billing_post(p->billing_arg, it);
	else
		log_error("billing: cannot build the record of call-id=%s", s->call_id);
}

void proxy_bill_refused(struct proxy *p, const sip_t *sip, const char *tenant,
			const char *profile, const char *service_type, int status)
{
	struct cdr_input in = { 0 };
	struct billing_item *it;
	int64_t now = util_now_ms();

	if (!p->billing_post || !sip->sip_call_id)
		return;
	in.call_id = sip->sip_call_id->i_id;
	in.tenant = tenant;
	in.profile = profile;
	in.service_type = service_type;
	in.caller = sip->sip_from ? sip->sip_from->a_url->url_user : NULL;
	in.dnis = sip->sip_request ? sip->sip_request->rq_url->url_user : NULL;
	in.start_ms = in.end_ms = now;
	in.final_status = status;
	in.ended_by = REC_BY_RM;
	it = billing_item_cdr_input(&in, p->cfg->node);
	if (it)
		p->billing_post(p->billing_arg, it);
	else
		log_error("billing: cannot build the record of refused call-id=%s", in.call_id);
}
