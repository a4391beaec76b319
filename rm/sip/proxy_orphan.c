/*
 * proxy_orphan: INVITE branches rm gave up on while the MCP may still answer them
 * (the attempt timed out, the call failed over to another MCP, the call ended while
 * still being set up). Destroying such a branch in nta makes a late 2xx a stray
 * response that nta drops, and the MCP then holds a port for a call nobody has
 * (under overload: hundreds of them, until its own timers give up, if ever).
 *
 * So the branch is CANCELled (nta sends the CANCEL once it has a provisional answer,
 * RFC 3261 9.1) and kept, bound to a struct orphan, until its final answer:
 *   - a 2xx gets an ACK (its own transaction, stateless) and a BYE toward the MCP,
 *     speaking as the caller, along the part of the route set between rm and the
 *     MCP (the 2xx's Record-Route entries above rm's own);
 *   - any other final answer (487, nta's 408 at timer B) just frees it.
 * The BYE is tracked by the same struct until its answer. Everything here lives on
 * the SIP thread; p->orphans owns the structs.
 */
#include "proxy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/su_tag.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/url.h>

#include "log.h"

#define ORPHAN_MAX_RR 16

struct orphan {
	struct proxy *p;
	nta_outgoing_t *orq;  /* the INVITE branch, then rm's BYE */
	bool bye;             /* orq is the BYE */
	struct orphan *prev, *next;
};

static void orphan_free(struct orphan *o)
{
	struct proxy *p = o->p;

	if (o->prev)
		o->prev->next = o->next;
	else
		p->orphans = o->next;
	if (o->next)
		o->next->prev = o->prev;
	if (o->orq)
		nta_outgoing_destroy(o->orq);
	free(o);
}

/* An ACK or BYE in the dialog a 2xx to our INVITE set up, as its caller would send
 * it. Returns the message (next hop in *next) or NULL. */
static msg_t *orphan_request(struct proxy *p, const sip_t *resp, sip_method_t m,
			     const char *name, uint32_t seq, const url_t **next)
{
	msg_t *msg = nta_msg_create(p->agent, 0);
	const sip_record_route_t *rr[ORPHAN_MAX_RR], *r;
	sip_route_t *route = NULL;
	size_t n = 0;
	char cseq[40];

	if (!msg)
		return NULL;
	su_home_t *home = msg_home(msg);
	sip_t *sip = sip_object(msg);
	for (r = resp->sip_record_route; r && !proxy_url_is_self(p, r->r_url); r = r->r_next)
		if (n < ORPHAN_MAX_RR)
			rr[n++] = r;
	if (!r)
		n = 0; /* rm is not on the route set: the MCP's Contact directly */
	for (size_t i = 0; i < n; i++) { /* prepending reverses: nearest to rm first */
		sip_route_t *e = sip_route_create(home, rr[i]->r_url, NULL);
		if (!e)
			goto fail;
		e->r_next = route;
		route = e;
	}
	url_t *ruri = url_hdup(home, resp->sip_contact->m_url);
	sip_request_t *rq = ruri && ruri->url_host ?
		sip_request_create(home, m, name, (url_string_t const *)ruri, NULL) : NULL;
	snprintf(cseq, sizeof cseq, "%u %s", seq, name);
	if (!rq || sip_add_tl(msg, sip, SIPTAG_REQUEST(rq), SIPTAG_FROM(resp->sip_from),
			      SIPTAG_TO(resp->sip_to), SIPTAG_CALL_ID(resp->sip_call_id),
			      SIPTAG_CSEQ_STR(cseq), TAG_IF(route, SIPTAG_ROUTE(route)),
			      SIPTAG_MAX_FORWARDS_STR("70"),
			      TAG_IF(m == sip_method_bye,
				     SIPTAG_REASON_STR("SIP;cause=487;text=\"branch abandoned\"")),
			      TAG_END()) < 0 || !sip->sip_request)
		goto fail;
	*next = sip->sip_route ? sip->sip_route->r_url : sip->sip_request->rq_url;
	return msg;
fail:
	msg_destroy(msg);
	return NULL;
}

static int orphan_answer(void *magic, nta_outgoing_t *orq, const sip_t *sip);

/* ACK the 2xx and BYE the MCP; o then tracks the BYE. */
static void ack_and_bye(struct orphan *o, const sip_t *resp)
{
	struct proxy *p = o->p;
	const url_t *next;
	uint32_t seq = resp->sip_cseq ? resp->sip_cseq->cs_seq : 1;
	const char *cid = resp->sip_call_id ? resp->sip_call_id->i_id : "?";
	msg_t *ack = NULL, *bye = NULL;

	nta_outgoing_destroy(o->orq);
	o->orq = NULL;
	if (!resp->sip_contact || !resp->sip_to || !resp->sip_from || !resp->sip_call_id)
		goto fail;
	log_info("call-id=%s: the MCP answered a branch rm had given up on: ACK + BYE", cid);
	ack = orphan_request(p, resp, sip_method_ack, "ACK", seq, &next);
	if (!ack)
		goto fail;
	nta_outgoing_t *a = nta_outgoing_mcreate(p->agent, NULL, NULL,
						 (url_string_t const *)next, ack,
						 NTATAG_STATELESS(1), TAG_END());
	if (!a)
		msg_destroy(ack);
	else if (a != (nta_outgoing_t *)-1)
		nta_outgoing_destroy(a);
	bye = orphan_request(p, resp, sip_method_bye, "BYE", seq + 1, &next);
	if (!bye)
		goto fail;
	o->bye = true;
	o->orq = nta_outgoing_mcreate(p->agent, orphan_answer, o, (url_string_t const *)next,
				      bye, TAG_END());
	if (!o->orq) {
		msg_destroy(bye);
		goto fail;
	}
	metric_inc(p->m_byes[DIALOG_MCP]);
	return;
fail:
	log_warn("call-id=%s: cannot end the MCP's answered abandoned branch", cid);
	orphan_free(o);
}

static int orphan_answer(void *magic, nta_outgoing_t *orq, const sip_t *sip)
{
	struct orphan *o = magic;
	int status = sip && sip->sip_status ? sip->sip_status->st_status
					    : nta_outgoing_status(orq);

	if (orq != o->orq || status < 200)
		return 0;
	if (!o->bye && status < 300 && sip && !nta_sip_is_internal(sip)) {
		ack_and_bye(o, sip);
		return 0;
	}
	orphan_free(o);
	return 0;
}

void proxy_orphan_adopt(struct proxy *p, nta_outgoing_t *orq)
{
	struct orphan *o;

	if (!orq)
		return;
	if (nta_outgoing_method(orq) != sip_method_invite || nta_outgoing_status(orq) >= 200 ||
	    !(o = calloc(1, sizeof *o))) {
		nta_outgoing_destroy(orq);
		return;
	}
	o->p = p;
	o->orq = orq;
	nta_outgoing_bind(orq, orphan_answer, o);
	nta_outgoing_tcancel(orq, NULL, NULL, TAG_END());
	o->next = p->orphans;
	if (p->orphans)
		p->orphans->prev = o;
	p->orphans = o;
}

void proxy_orphan_release_all(struct proxy *p)
{
	while (p->orphans)
		orphan_free(p->orphans);
}
