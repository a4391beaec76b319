/*
 * proxy_loose: "loose" INVITE branches (issue 12). Over UDP, nta would keep an INVITE
 * client transaction, with the INVITE as sent and the final answer, for timer D (32 s)
 * after that answer: the largest part of rm's memory per call. rm lets it go at the
 * first provisional answer instead (nta frees a transaction not yet answered finally
 * at once) and does what it would still have done itself:
 *   - later answers reach proxy_message as strays (proxy_stateless.c) and are matched
 *     to the call by its keyed branch (c->branch): relayed, a 2xx answers the call, a
 *     non-2xx is ACKed (each retransmission too) and fails over or ends the call;
 *   - a CANCEL (the caller's, or rm's own at drain or max duration) is built from the
 *     INVITE as sent (c->sent), with the INVITE's top Via, and sent as its own
 *     transaction to the same next hop (c->hop);
 *   - a branch let go unanswered (CANCELled) or answered non-2xx is kept as an orphan
 *     (WAIT_ORPHAN, its own reference) for LOOSE_ORPHAN_MS to ACK its final answer and
 *     the retransmissions of it, as timer D would.
 * Not kept: timer C (nta's CANCEL of a branch ringing 185 s). TCP branches stay
 * transactions (nta ends them at the final answer).
 */
#include "proxy_int.h"

#include <string.h>
#include <strings.h>

#include <sofia-sip/su_tag.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/url.h>

/* Forget c's loose branch (its INVITE copy and next hop). */
void call_unloose(struct call *c)
{
	if (c->sent)
		msg_destroy(c->sent);
	c->sent = NULL;
	c->hop = NULL;
	c->loose = c->loose_final = c->loose_cancelled = false;
}

/* Let nta's INVITE client transaction go at the first provisional answer: on UDP
 * nta would otherwise keep it (the INVITE as sent and the 2xx) for timer D, 32 s
 * after the final answer (the largest part of rm's memory per call, issue 12). Not
 * final yet, nta frees it at once and hands later responses to proxy_message as
 * strays; rm recognises them by the keyed branch (proxy_stateless.c) and keeps what
 * a CANCEL or the ACK of a non-2xx needs. Last thing in call_response: sip dies with
 * the transaction. */
void call_go_loose(struct call *c, nta_outgoing_t *orq)
{
	const url_t *hop;

	if (!c->keyed || !c->udp_out || c->cancelled || c->loose || orq != c->orq ||
	    nta_outgoing_status(orq) >= 200)
		return;
	c->sent = nta_outgoing_getrequest(orq);
	hop = nta_outgoing_route_uri(orq);
	if (!hop)
		hop = nta_outgoing_request_uri(orq);
	if (!c->sent || !hop || !(c->hop = url_hdup(msg_home(c->sent), hop))) {
		call_unloose(c);
		return;
	}
	c->loose = true;
	c->orq = NULL;
	nta_outgoing_destroy(orq);
}

/* ---- CANCEL, ACK and answers of a loose branch ------------------------------------- */

/* A hop-by-hop request on c's loose branch, as nta builds its CANCEL and ACK: the
 * INVITE's Request-URI, top Via (same branch), From, Call-ID, Route, Max-Forwards
 * and CSeq number; To as given (the answer's, for an ACK) or the INVITE's. */
static msg_t *loose_msg(struct call *c, sip_method_t m, const char *name, const sip_to_t *to)
{
	const sip_t *inv = sip_object(c->sent);
	msg_t *msg = nta_msg_create(c->p->agent, 0);
	sip_t *sip = sip_object(msg);
	su_home_t *home = msg_home(msg);
	sip_via_t via[1];
	sip_request_t *rq;
	sip_cseq_t *cs;

	if (!sip || !inv || !inv->sip_via || !inv->sip_cseq || !inv->sip_request)
		goto fail;
	*via = *inv->sip_via;
	via->v_next = NULL;
	rq = sip_request_create(home, m, name, (url_string_t const *)inv->sip_request->rq_url,
				NULL);
	cs = sip_cseq_create(home, inv->sip_cseq->cs_seq, m, name);
	if (!rq || !cs || msg_header_insert(msg, (msg_pub_t *)sip, (msg_header_t *)rq) < 0 ||
	    msg_header_insert(msg, (msg_pub_t *)sip, (msg_header_t *)cs) < 0 ||
	    sip_add_dup(msg, sip, (sip_header_t const *)via) < 0 ||
	    sip_add_dup(msg, sip, (sip_header_t const *)(to ? to : inv->sip_to)) < 0 ||
	    sip_add_dup(msg, sip, (sip_header_t const *)inv->sip_from) < 0 ||
	    sip_add_dup(msg, sip, (sip_header_t const *)inv->sip_call_id) < 0 ||
	    (inv->sip_route && sip_add_dup(msg, sip, (sip_header_t const *)inv->sip_route) < 0) ||
	    (inv->sip_max_forwards &&
	     sip_add_dup(msg, sip, (sip_header_t const *)inv->sip_max_forwards) < 0))
		goto fail;
	return msg;
fail:
	msg_destroy(msg);
	return NULL;
}

/* ACK a non-2xx on c's loose branch (each retransmission too), statelessly. */
static void loose_ack(struct call *c, const sip_t *resp)
{
	msg_t *ack;
	nta_outgoing_t *orq;

	if (!c->sent || !c->hop || !(ack = loose_msg(c, SIP_METHOD_ACK, resp->sip_to)))
		return;
	orq = nta_outgoing_mcreate(c->p->agent, NULL, NULL, (url_string_t const *)c->hop, ack,
				   NTATAG_BRANCH_KEY(c->branch), NTATAG_USER_VIA(1),
				   NTATAG_STATELESS(1), TAG_END());
	if (!orq)
		msg_destroy(ack);
	else if (orq != (nta_outgoing_t *)-1)
		nta_outgoing_destroy(orq);
}

bool call_branch_pending(const struct call *c)
{
	if (c->orq)
		return nta_outgoing_status(c->orq) < 200;
	return c->loose && !c->loose_final && !c->loose_cancelled && c->sent;
}

nta_outgoing_t *call_cancel_branch(struct call *c, nta_response_f *cb, void *magic)
{
	nta_outgoing_t *orq;
	msg_t *msg;

	if (c->orq)
		return nta_outgoing_status(c->orq) < 200
			       ? nta_outgoing_tcancel(c->orq, cb, magic, TAG_END())
			       : NULL;
	if (!call_branch_pending(c) || !c->hop || !(msg = loose_msg(c, SIP_METHOD_CANCEL, NULL)))
		return NULL;
	orq = nta_outgoing_mcreate(c->p->agent, cb, magic, (url_string_t const *)c->hop, msg,
				   NTATAG_BRANCH_KEY(c->branch), NTATAG_USER_VIA(1), TAG_END());
	if (!orq) {
		msg_destroy(msg);
		return NULL;
	}
	c->loose_cancelled = true;
	return orq;
}

bool call_loose_response(struct proxy *p, msg_t *msg, sip_t *sip)
{
	struct session *s = sip->sip_call_id && sip->sip_from
				    ? session_lookup(p->sessions, sip->sip_call_id->i_id,
						     sip->sip_from->a_tag, NULL)
				    : NULL;
	struct call *c = s ? s->user : NULL;
	int status = sip->sip_status->st_status;

	if (!c || !c->loose || strcasecmp(c->branch, sip->sip_via->v_branch) != 0) {
		for (c = p->loose_orphans.head; c; c = c->next)
			if (strcasecmp(c->branch, sip->sip_via->v_branch) == 0)
				break;
		if (!c)
			return false;
		/* a let-go branch's answer: a non-2xx (or its retransmission) is ACKed
		 * and the orphan stays until its deadline (timer D); a 2xx goes
		 * upstream statelessly (false) and ends it */
		if (status >= 200 && status < 300) {
			call_wait(c, WAIT_NONE, 0);
			call_unref(c);
			return false;
		}
		if (status >= 300)
			loose_ack(c, sip);
		msg_destroy(msg);
		return true;
	}
	c->refs++;
	if (status >= 300) {
		loose_ack(c, sip);
		if (!c->loose_final && !c->done) {
			c->loose_final = true;
			c->last_status = status;
			call_failed(c, msg, status, false);
			msg = NULL;
		}
	} else if (status >= 200) {
		c->loose_final = true;
		if (!c->answered) {
			call_answered(c, sip);
			call_relay_msg(c, msg, status);
			call_drop_irq(c);
			if (c->sent)
				msg_destroy(c->sent); /* no CANCEL nor ACK of ours from now on */
			c->sent = NULL;
			c->hop = NULL;
		} else {
			call_relay_msg(c, msg, status); /* a retransmission: statelessly */
		}
		msg = NULL;
	} else if (!c->loose_final && !c->done) {
		c->got_provisional = true;
		if (c->wait == WAIT_ATTEMPT && !c->cancelled)
			call_wait(c, WAIT_NONE, 0);
		if (status > 100) {
			call_relay_msg(c, msg, status);
			msg = NULL;
		}
	}
	msg_destroy(msg);
	call_unref(c);
	return true;
}
