/*
 * proxy_invite: a new INVITE from the SIP Server. Profile selection, admission,
 * MCP choice (route.h), the session entry, the first attempt and failover.
 */
#include "proxy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/su_tag.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/url.h>

#include "cdr.h"
#include "log.h"
#include "util.h"

static const char *unknown_header(const sip_t *sip, const char *name)
{
	for (const sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next)
		if (u->un_name && strcasecmp(u->un_name, name) == 0)
			return u->un_value;
	return NULL;
}

/* Refuse irq with the configured code for reason r (irq is destroyed) and bill it
 * as rejected; prof: the matched profile, NULL if none. */
static int refuse(struct proxy *p, nta_incoming_t *irq, const sip_t *sip,
		  const struct route_profile *prof, enum rm_refuse r)
{
	struct rm_reject rej = rm_config_reject(p->cfg, r);

	proxy_count_reject(p, r);
	log_debug("INVITE refused: %s -> %d", rm_refuse_name(r), rej.code);
	proxy_reply(irq, rej.code, rej.retry_after);
	proxy_bill_refused(p, sip, prof && prof->tenant ? prof->tenant->name : NULL,
			   prof ? prof->name : NULL, prof ? prof->service_type : NULL, rej.code);
	nta_incoming_destroy(irq);
	return 0;
}

/* Send the call's request to its ticket's MCP. */
static int send_to_mcp(struct call *c)
{
	struct proxy *p = c->p;
	char gvp[512];
	char hdr[600];
	const char *extra = NULL;
	unsigned flags = SEND_REWRITE_RURI | SEND_ADD_RR;

	if (c->sess) {
		if (session_gvp_header(c->sess, gvp, sizeof gvp) >= 0) {
			snprintf(hdr, sizeof hdr, "X-Genesys-GVP-Session-ID: %s", gvp);
			extra = hdr;
		}
		snprintf(c->sess->mcp_uri, sizeof c->sess->mcp_uri, "%s", c->ticket.mcp->uri);
		c->sess->attempts = c->ticket.attempts;
	}
	if (c->strip_tenant)
		flags |= SEND_STRIP_TENANT;
	metric_inc(p->m_attempts);
	if (call_send(c, c->ticket.mcp->uri, flags, extra) < 0)
		return -1;
	call_wait(c, WAIT_ATTEMPT, proxy_now_ms() + p->cfg->attempt_timeout_ms);
	return 0;
}

int proxy_try_next(struct call *c)
{
	struct proxy *p = c->p;
	nta_outgoing_t *old = c->orq;
	enum rm_refuse r;

	c->orq = NULL;
	proxy_orphan_adopt(p, old); /* CANCELs it; a 2xx that still comes gets ACK + BYE */
	while (c->ticket.attempts < p->cfg->max_attempts) {
		r = route_pick(p->route, &c->ticket);
		if (r != RM_REFUSE_NONE) {
			log_debug("failover: no other MCP (%s)", rm_refuse_name(r));
			return -1;
		}
		metric_inc(p->m_failovers);
		if (send_to_mcp(c) == 0)
			return 0;
	}
	return -1;
}

/* At the door of a new INVITE: rm's own Route entries removed, Max-Forwards checked
 * (483), then 100 Trying. -1 to go on, else the value proxy_new_invite returns.
 * Overload shedding happened before: sip_guard.c refuses statelessly, before a
 * transaction exists. */
static int invite_door(struct proxy *p, nta_incoming_t *irq, msg_t *msg, sip_t *sip)
{
	proxy_strip_own_routes(p, msg, sip);
	if (!proxy_max_forwards_ok(msg, sip)) {
		metric_inc(p->m_bad);
		return 483;
	}
	nta_incoming_treply(irq, SIP_100_TRYING, TAG_END());
	return -1;
}

/* Profile (route_select), admission (route_admit) and an MCP (route_pick) for the
 * INVITE. -1 when routed (*t then holds usage to release), else refuse()'s value. */
static int invite_route(struct proxy *p, nta_incoming_t *irq, const sip_t *sip,
			struct route_match *m, struct route_ticket *t)
{
	struct route_request rq = { 0 };
	const url_t *ru = sip->sip_request->rq_url;
	char tenant[RM_NAME_MAX];
	enum rm_refuse r;

	rq.ruri_user = ru->url_user;
	if (ru->url_params &&
	    url_param(ru->url_params, "gvp-tenant-id", tenant, sizeof tenant) > 0)
		rq.tenant_param = tenant;
	rq.profile_id = unknown_header(sip, "X-Genesys-gsw-ivr-profile-id");
	rq.profile_name = unknown_header(sip, "X-Genesys-gsw-ivr-profile-name");

	if (route_select(p->route, &rq, m) != 0)
		return refuse(p, irq, sip, NULL, RM_REFUSE_NO_PROFILE);
	r = route_admit(p->route, m->profile, p->draining, t);
	if (r != RM_REFUSE_NONE)
		return refuse(p, irq, sip, m->profile, r);
	r = route_pick(p->route, t);
	if (r != RM_REFUSE_NONE) {
		route_release(t);
		return refuse(p, irq, sip, m->profile, r);
	}
	return -1;
}

/* The session of call c (what its CDR will say), with its dialog state, and the
 * call's start event. -1 when the Call-ID/From tag is already live. */
static int invite_session(struct proxy *p, struct call *c, const sip_t *sip,
			  const struct route_match *m, const struct route_ticket *t)
{
	const url_t *ru = sip->sip_request->rq_url;
	struct session *s = session_insert(p->sessions, sip->sip_call_id->i_id,
					   sip->sip_from->a_tag, util_now_ms());
	if (!s)
		return -1;
	snprintf(s->profile, sizeof s->profile, "%s", m->profile->name);
	snprintf(s->tenant, sizeof s->tenant, "%s", t->tenant ? t->tenant->name : "");
	snprintf(s->service_type, sizeof s->service_type, "%s", m->profile->service_type);
	snprintf(s->lrg, sizeof s->lrg, "%s", route_profile_lrg_name(m->profile));
	if (sip->sip_from->a_url->url_user)
		snprintf(s->caller, sizeof s->caller, "%s", sip->sip_from->a_url->url_user);
	if (ru->url_user)
		snprintf(s->dnis, sizeof s->dnis, "%s", ru->url_user);
	s->usage_level = t->level;
	/* without it rm can still end the call, but not tell the two sides */
	c->dlg = dialog_new(sip);
	if (!c->dlg)
		log_warn("call-id=%s: cannot keep its dialog state", s->call_id);
	s->user = c;
	c->sess = s;
	c->refs++;
	proxy_sessions_changed(p);
	proxy_bill_event(p, s, CDR_EV_START);
	return 0;
}

int proxy_new_invite(struct proxy *p, nta_incoming_t *irq, const sip_t *sip0)
{
	msg_t *msg = nta_incoming_getrequest(irq);
	sip_t *sip = sip_object(msg);
	struct route_match m;
	struct route_ticket t = { 0 };
	struct call *c;
	int rc;

	rc = invite_door(p, irq, msg, sip);
	msg_destroy(msg); /* our reference; irq holds the request, so sip stays valid */
	if (rc >= 0)
		return rc;
	if (p->draining)
		return refuse(p, irq, sip, NULL, RM_REFUSE_DRAINING);
	if ((rc = invite_route(p, irq, sip, &m, &t)) >= 0)
		return rc;

	c = call_new(p, irq, sip);
	if (!c) {
		route_release(&t);
		return 500;
	}
	c->routed = true;
	proxy_setup_begin(c);
	c->ticket = t;
	c->strip_tenant = m.strip_tenant_param;
	if (invite_session(p, c, sip, &m, &t) < 0) {
		log_warn("INVITE with a Call-ID/From tag already live (loop?): %s",
			 sip->sip_call_id->i_id);
		c->last_status = 482;
		call_finish(c, 482, true);
		return 0;
	}
	if (send_to_mcp(c) < 0 && proxy_try_next(c) < 0)
		call_finish(c, 500, true);
	(void)sip0;
	return 0;
}
