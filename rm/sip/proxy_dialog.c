/*
 * proxy_dialog: what rm remembers of a routed INVITE's dialog so that it can end an
 * answered call itself (max call duration, drain timeout) with a BYE to each side,
 * built the way the UA at the other end would build it (RFC 3261 12.2.1.1, 15.1.1).
 *
 * Per routed INVITE (struct call.dlg, freed with the call):
 *   at the INVITE   the caller's From (with its tag) and To (no tag yet), the
 *                   caller's Contact (remote target toward the caller), the CSeq;
 *   at the 2xx      the To with the MCP's tag, the MCP's Contact, and the two route
 *                   sets, cut from the 2xx's Record-Route at rm's own entry;
 *   in the dialog   the highest CSeq seen from each side, and the Contact of target
 *                   refresh requests (re-INVITE, UPDATE) from either side.
 * A handful of short heap strings, the MCP's half allocated only once answered:
 * a few hundred bytes per answered call.
 *
 * Not followed: the Contact in the 2xx of a re-INVITE (that answer is relayed by
 * a plain in-dialog forward, which does not look at the session), and strict
 * routers (a Route entry without ;lr is used as a loose one).
 *
 * Each BYE (and the CANCEL of a call still ringing when rm ends it) is an nta client
 * transaction (retransmissions, timer F) owned by a struct own_req on p->own_reqs;
 * its answer or timeout only frees it: the session has been ended, and its record
 * written, when the request is sent.
 */
#include "proxy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/su_tag.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/url.h>

#include "log.h"

/* Longest Record-Route list rm splits into route sets; longer ones are not used. */
#define DIALOG_MAX_RR 16

struct dialog {
	uint32_t cseq[2];  /* highest CSeq seen from the caller / from the MCP (0: none) */
	char *from;        /* the caller's From header value, with its tag */
	char *to;          /* the To value: without tag until the 2xx, then the MCP's */
	char *target[2];   /* remote target (Contact URI) of the caller / of the MCP */
	char *route[2];    /* Route value toward the caller / the MCP; NULL: none */
	bool rm_in_path;   /* the 2xx's Record-Route named rm: ACK and BYE pass here */
};

/* One BYE or CANCEL rm sent itself, until its final answer or timeout. */
struct own_req {
	struct proxy *p;
	nta_outgoing_t *orq;
	const char *what;  /* "BYE to the caller", ... (static) */
	char call_id[96];  /* for the log only (truncated) */
	struct own_req *prev, *next;
};

static const char *side_name(enum dialog_side side)
{
	return side == DIALOG_CALLER ? "caller" : "MCP";
}

static const char *bye_name(enum dialog_side side)
{
	return side == DIALOG_CALLER ? "BYE to the caller" : "BYE to the MCP";
}

/* The value of header h (one element of a list) as a malloc'd string; NULL if h is
 * NULL or out of memory. (su_alloc with a NULL home is malloc.) */
static char *header_str(const void *h)
{
	return h ? sip_header_as_string(NULL, (const sip_header_t *)h) : NULL;
}

static char *contact_uri(const sip_contact_t *m)
{
	return m ? url_as_string(NULL, m->m_url) : NULL;
}

static void replace(char **slot, char *s)
{
	if (!s)
		return; /* keep the old value rather than lose it */
	free(*slot);
	*slot = s;
}

void dialog_free(struct dialog *d)
{
	if (!d)
		return;
	free(d->from);
	free(d->to);
	for (int i = 0; i < 2; i++) {
		free(d->target[i]);
		free(d->route[i]);
	}
	free(d);
}

struct dialog *dialog_new(const sip_t *invite)
{
	struct dialog *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->cseq[DIALOG_CALLER] = invite->sip_cseq ? invite->sip_cseq->cs_seq : 0;
	d->from = header_str(invite->sip_from);
	d->to = header_str(invite->sip_to);
	d->target[DIALOG_CALLER] = contact_uri(invite->sip_contact);
	if (!d->from || !d->to) {
		dialog_free(d);
		return NULL;
	}
	return d;
}

void dialog_get_parts(const struct dialog *d, struct dialog_parts *out)
{
	memset(out, 0, sizeof *out);
	if (!d)
		return;
	out->cseq[0] = d->cseq[0];
	out->cseq[1] = d->cseq[1];
	out->from = d->from;
	out->to = d->to;
	for (int i = 0; i < 2; i++) {
		out->target[i] = d->target[i];
		out->route[i] = d->route[i];
	}
}

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

struct dialog *dialog_from_parts(const struct dialog_parts *in)
{
	struct dialog *d = calloc(1, sizeof *d);

	if (!d)
		return NULL;
	d->cseq[0] = in->cseq[0];
	d->cseq[1] = in->cseq[1];
	d->from = dup_or_null(in->from);
	d->to = dup_or_null(in->to);
	for (int i = 0; i < 2; i++) {
		d->target[i] = dup_or_null(in->target[i]);
		d->route[i] = dup_or_null(in->route[i]);
	}
	d->rm_in_path = true;
	if (!d->from || !d->to) {
		dialog_free(d);
		return NULL;
	}
	return d;
}

/* rr[0..n-1] as one Route value ("<uri;lr>, <uri;lr>"), in that order or reversed.
 * Returns a malloc'd string, or NULL for an empty list or out of memory. */
static char *route_value(const sip_record_route_t *const *rr, size_t n, bool reverse)
{
	char *out = NULL;
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		char *e = header_str(rr[reverse ? n - 1 - i : i]);
		if (!e)
			goto fail;
		size_t el = strlen(e);
		char *grown = realloc(out, len + el + 3);
		if (!grown) {
			free(e);
			goto fail;
		}
		out = grown;
		if (len) {
			memcpy(out + len, ", ", 2);
			len += 2;
		}
		memcpy(out + len, e, el + 1);
		len += el;
		free(e);
	}
	return out;
fail:
	free(out);
	return NULL;
}

/* The 2xx's Record-Route reads, top to bottom: the proxies between rm and the MCP,
 * rm itself, then those between the caller and rm. A request toward the caller
 * follows the MCP's route set (the list in that order), one toward the MCP the
 * caller's (the list reversed; RFC 3261 12.1.1, 12.1.2). rm sends from its own
 * place in the path, so it uses the part beyond its own entry. */
void dialog_answered(struct proxy *p, struct dialog *d, const sip_t *resp)
{
	const sip_record_route_t *rr[DIALOG_MAX_RR];
	size_t n = 0, self = SIZE_MAX;

	if (!d || !resp)
		return;
	if (resp->sip_to && resp->sip_to->a_tag)
		replace(&d->to, header_str(resp->sip_to));
	replace(&d->target[DIALOG_MCP], contact_uri(resp->sip_contact));

	for (const sip_record_route_t *r = resp->sip_record_route; r; r = r->r_next) {
		if (n == DIALOG_MAX_RR) {
			log_warn("call-id=%s: more than %d Record-Route entries, rm's own BYEs "
				 "will go to the Contacts directly", resp->sip_call_id ?
				 resp->sip_call_id->i_id : "?", DIALOG_MAX_RR);
			return;
		}
		if (self == SIZE_MAX && proxy_url_is_self(p, r->r_url))
			self = n;
		rr[n++] = r;
	}
	if (self == SIZE_MAX)
		return; /* the MCP did not echo Record-Route: both sides talk directly */
	d->rm_in_path = true;
	d->route[DIALOG_MCP] = route_value(rr, self, true);
	d->route[DIALOG_CALLER] = route_value(rr + self + 1, n - self - 1, false);
}

bool dialog_rm_in_path(const struct dialog *d)
{
	return d && d->rm_in_path;
}

void dialog_saw_request(struct dialog *d, const sip_t *sip, enum dialog_side from)
{
	if (!d || !sip->sip_cseq)
		return;
	if (sip->sip_cseq->cs_seq > d->cseq[from])
		d->cseq[from] = sip->sip_cseq->cs_seq;
	if (sip->sip_contact && (sip->sip_request->rq_method == sip_method_invite ||
				 sip->sip_request->rq_method == sip_method_update))
		replace(&d->target[from], contact_uri(sip->sip_contact));
}

/* ---- rm's own BYEs ------------------------------------------------------------------ */

static struct own_req *own_req_new(struct proxy *p, const char *what, const char *call_id)
{
	struct own_req *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->p = p;
	r->what = what;
	snprintf(r->call_id, sizeof r->call_id, "%s", call_id);
	return r;
}

static void own_req_link(struct own_req *r)
{
	struct proxy *p = r->p;

	r->next = p->own_reqs;
	if (p->own_reqs)
		p->own_reqs->prev = r;
	p->own_reqs = r;
	p->n_own_reqs++;
}

static void own_req_free(struct own_req *r)
{
	struct proxy *p = r->p;

	if (r->prev)
		r->prev->next = r->next;
	else
		p->own_reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	p->n_own_reqs--;
	nta_outgoing_destroy(r->orq);
	free(r);
}

static int own_req_answer(void *magic, nta_outgoing_t *orq, const sip_t *sip)
{
	struct own_req *r = magic;
	int status = sip && sip->sip_status ? sip->sip_status->st_status
					    : nta_outgoing_status(orq);

	if (status < 200)
		return 0;
	if (status < 300)
		log_debug("%s of call-id=%s: %d", r->what, r->call_id, status);
	else
		log_info("%s of call-id=%s answered %d%s", r->what, r->call_id, status,
			 !sip || nta_sip_is_internal(sip) ? " (no answer)" : "");
	own_req_free(r);
	return 0;
}

/* Send a request of `method` toward `side` of s's dialog, speaking as the other
 * side: From and To are that side's local and remote parties; CSeq as given; a
 * Reason header when reason is not NULL. Answers go to cb(magic). Returns the
 * client transaction, or NULL (nothing sent; msg freed). */
static nta_outgoing_t *dialog_send(struct proxy *p, const struct session *s,
				   struct dialog *d, enum dialog_side side, sip_method_t method,
				   const char *name, uint32_t cseq_n, const char *reason,
				   nta_response_f *cb, void *magic)
{
	msg_t *msg = NULL;
	sip_t *sip;
	sip_request_t *rq;
	url_t *ruri, *num;
	const url_t *next;
	const char *from = side == DIALOG_MCP ? d->from : d->to;
	const char *to = side == DIALOG_MCP ? d->to : d->from;
	char cseq[48], host[RM_HOST_MAX];
	nta_outgoing_t *orq;
	int st;

	if (!d->target[side])
		return NULL;
	snprintf(cseq, sizeof cseq, "%u %s", cseq_n, name);
	msg = nta_msg_create(p->agent, 0);
	if (!msg)
		return NULL;
	sip = sip_object(msg);
	/* parsed first: given some strings (a Contact of <sip:./,:.t:> gives "sip:.,:.t:"),
	 * sofia-sip's sip_request_create fails an assertion (b == end) and aborts */
	ruri = url_make(msg_home(msg), d->target[side]);
	rq = ruri && ruri->url_host ? sip_request_create(msg_home(msg), method, name,
							 (url_string_t const *)ruri, NULL)
				    : NULL;
	if (!rq || sip_add_tl(msg, sip, SIPTAG_REQUEST(rq), SIPTAG_FROM_STR(from),
			      SIPTAG_TO_STR(to), SIPTAG_CALL_ID_STR(s->call_id),
			      SIPTAG_CSEQ_STR(cseq),
			      TAG_IF(d->route[side], SIPTAG_ROUTE_STR(d->route[side])),
			      SIPTAG_MAX_FORWARDS_STR("70"),
			      TAG_IF(reason, SIPTAG_REASON_STR(reason)), TAG_END()) < 0 ||
	    !sip->sip_request)
		goto fail;
	next = sip->sip_route ? sip->sip_route->r_url : sip->sip_request->rq_url;
	/* a name not resolved yet fails: rm never lets nta resolve (proxy_resolve.c) */
	if (proxy_next_hop(p, msg_home(msg), next, &num, &st, host, sizeof host) != RESOLVE_OK)
		goto fail;
	orq = nta_outgoing_mcreate(p->agent, cb, magic, (url_string_t const *)num, msg,
				   TAG_END());
	if (!orq)
		goto fail;
	return orq;
fail:
	msg_destroy(msg);
	return NULL;
}

nta_outgoing_t *dialog_request(struct proxy *p, const struct session *s, struct dialog *d,
			       enum dialog_side side, sip_method_t method, const char *name,
			       nta_response_f *cb, void *magic)
{
	enum dialog_side other = side == DIALOG_CALLER ? DIALOG_MCP : DIALOG_CALLER;

	if (!d || !d->to)
		return NULL;
	/* the other side's own last CSeq, not above it: a later request of that side
	 * (its last + 1) must still be in order at the receiver (RFC 3261 12.2.2) */
	return dialog_send(p, s, d, side, method, name,
			   d->cseq[other] ? d->cseq[other] : 1, NULL, cb, magic);
}

/* Send one BYE toward `side` of s's dialog. Failures are logged, not returned: the
 * session ends either way. */
static void send_bye(struct proxy *p, const struct session *s, struct dialog *d,
		     enum dialog_side side, const char *reason)
{
	struct own_req *r = NULL;
	enum dialog_side other = side == DIALOG_CALLER ? DIALOG_MCP : DIALOG_CALLER;

	if (!d->target[side]) {
		log_warn("cannot send BYE to the %s of call-id=%s: no Contact", side_name(side),
			 s->call_id);
		return;
	}
	r = own_req_new(p, bye_name(side), s->call_id);
	if (!r)
		goto fail;
	/* above anything the other side sent in this dialog (rm sees every request:
	 * it is on the route set); 0 + 1 when it sent none, which is fine as well */
	r->orq = dialog_send(p, s, d, side, SIP_METHOD_BYE, d->cseq[other] + 1, reason,
			     own_req_answer, r);
	if (!r->orq)
		goto fail;
	own_req_link(r);
	metric_inc(p->m_byes[side]);
	return;
fail:
	log_warn("cannot send BYE to the %s of call-id=%s", side_name(side), s->call_id);
	free(r);
}

void dialog_bye(struct proxy *p, const struct session *s, struct dialog *d,
		const char *reason)
{
	if (!d || !d->to)
		return;
	log_info("ending call-id=%s with BYE to both sides (%s)", s->call_id, reason);
	/* toward the MCP rm speaks as the caller, toward the caller as the MCP */
	send_bye(p, s, d, DIALOG_MCP, reason);
	send_bye(p, s, d, DIALOG_CALLER, reason);
}

void dialog_cancel(struct proxy *p, const struct session *s, struct call *c)
{
	struct own_req *r;

	if (!call_branch_pending(c))
		return;
	r = own_req_new(p, "CANCEL to the MCP", s->call_id);
	if (r)
		r->orq = call_cancel_branch(c, own_req_answer, r);
	if (!r || !r->orq) {
		log_warn("cannot CANCEL the MCP's branch of call-id=%s", s->call_id);
		free(r);
		return;
	}
	own_req_link(r);
}

void dialog_release_own(struct proxy *p)
{
	while (p->own_reqs)
		own_req_free(p->own_reqs);
}
