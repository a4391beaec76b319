/*
 * proxy_stateless: what rm forwards without a transaction of its own (issue 12).
 *
 * Branches rm can recognise without state. A routed INVITE's branch toward an MCP,
 * and the branch of a BYE rm forwards statelessly, are a keyed hash (a secret drawn
 * at start) of what the request and every response to it share: Call-ID, From tag,
 * CSeq, the sender's own Via branch (the Via just below rm's), the To tag for a BYE,
 * and a kind (the INVITE's attempt number, or BYE). A retransmitted BYE gets the same
 * branch (RFC 3261 16.11), so the next hop's server transaction absorbs it.
 *
 * Stray responses. A response nta matches to no transaction reaches proxy_message:
 *   - a 2xx to a routed INVITE whose client transaction rm already let go (after the
 *     ACK passed), a retransmission crossing that ACK;
 *   - any response to a BYE forwarded statelessly.
 * It is relayed statelessly (nta_msg_tsend drops rm's Via and sends it where the next
 * Via says) only when it comes from a trusted source (an MCP or a SIP Server,
 * guard_source_trusted) and its top Via carries a branch rm made for that kind of
 * request. Anything else is dropped; from an untrusted source it is counted
 * (rm_bad_requests_total{reason="untrusted"}).
 */
#include "proxy_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/random.h>

#include <sofia-sip/su_md5.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/su_tag.h>

#include "log.h"
#include "sip_guard.h"
#include "util.h"

#define BRANCH_PREFIX "z9hG4bKrm"
#define BRANCH_PREFIX_LEN (sizeof BRANCH_PREFIX - 1)
#define BRANCH_HEX 10 /* bytes of the digest shown: 80 bits */

void proxy_branch_key_init(struct proxy *p)
{
	if (getrandom(p->branch_key, sizeof p->branch_key, 0) == (ssize_t)sizeof p->branch_key)
		return;
	/* no entropy (never on Linux >= 3.17): still unique per process */
	int64_t seed[2] = { util_mono_us() ^ util_now_ms(), (int64_t)getpid() };
	memcpy(p->branch_key, seed, sizeof p->branch_key < sizeof seed ? sizeof p->branch_key
									  : sizeof seed);
}

/* The branch of kind for the fields sip shares with its responses; upstream: the
 * sender's Via branch. false without Call-ID/CSeq/From or room. */
static bool branch_make(const struct proxy *p, const sip_t *sip, const char *upstream,
			char kind, char *out, size_t len)
{
	su_md5_t md5[1];
	uint8_t d[SU_MD5_DIGEST_SIZE];
	uint32_t n;
	size_t o;

	if (!sip->sip_call_id || !sip->sip_cseq || !sip->sip_from ||
	    len < BRANCH_PREFIX_LEN + 1 + 2 * BRANCH_HEX + 1)
		return false;
	su_md5_init(md5);
	su_md5_update(md5, p->branch_key, sizeof p->branch_key);
	su_md5_update(md5, &kind, 1);
	su_md5_str0update(md5, sip->sip_call_id->i_id);
	su_md5_stri0update(md5, sip->sip_from->a_tag ? sip->sip_from->a_tag : "");
	if (kind == 'b')
		su_md5_stri0update(md5, sip->sip_to && sip->sip_to->a_tag ? sip->sip_to->a_tag
									   : "");
	n = sip->sip_cseq->cs_seq;
	su_md5_update(md5, &n, sizeof n);
	su_md5_str0update(md5, sip->sip_cseq->cs_method_name ? sip->sip_cseq->cs_method_name
							     : "");
	su_md5_stri0update(md5, upstream ? upstream : "");
	su_md5_update(md5, p->branch_key, sizeof p->branch_key);
	su_md5_digest(md5, d);
	o = (size_t)snprintf(out, len, "%s%c", BRANCH_PREFIX, kind);
	for (int i = 0; i < BRANCH_HEX; i++)
		o += (size_t)snprintf(out + o, len - o, "%02x", d[i]);
	return true;
}

/* The kind letter of a routed INVITE's attempt n (1, 2, ...). */
static char invite_kind(unsigned n)
{
	return (char)('A' + n % 26);
}

bool proxy_invite_branch(const struct call *c, char *out, size_t len)
{
	const sip_t *sip = c->req ? sip_object(c->req) : NULL;

	if (!sip || !sip->sip_via)
		return false;
	return branch_make(c->p, sip, sip->sip_via->v_branch,
			   invite_kind((unsigned)c->ticket.attempts), out, len);
}

bool proxy_bye_branch(const struct proxy *p, const sip_t *bye, char *out, size_t len)
{
	if (!bye->sip_via)
		return false;
	return branch_make(p, bye, bye->sip_via->v_branch, 'b', out, len);
}

/* Is this response, with rm's branch on top, one rm may relay without state? */
static bool stray_relayable(const struct proxy *p, const sip_t *sip)
{
	int status = sip->sip_status->st_status;
	char kind = sip->sip_via->v_branch[BRANCH_PREFIX_LEN];

	if (kind == 'b') {
		if (sip->sip_cseq->cs_method != sip_method_bye || status <= 100)
			return false;
	} else if (kind >= 'A' && kind <= 'Z') {
		/* a non-2xx was ACKed and relayed by the transaction, which absorbs its
		 * retransmissions until timer D: one arriving later has nowhere to go */
		if (sip->sip_cseq->cs_method != sip_method_invite || status < 200 || status >= 300)
			return false;
	} else {
		return false;
	}
	return true;
}

/* Does the top Via carry a branch rm made for this response's request? *kind set. */
static bool branch_ours(const struct proxy *p, const sip_t *sip, char *kind)
{
	const sip_via_t *v = sip->sip_via;
	char want[64];

	if (!v || !v->v_next || !v->v_branch || !sip->sip_cseq ||
	    strlen(v->v_branch) <= BRANCH_PREFIX_LEN ||
	    strncasecmp(v->v_branch, BRANCH_PREFIX, BRANCH_PREFIX_LEN) != 0)
		return false;
	*kind = v->v_branch[BRANCH_PREFIX_LEN];
	return branch_make(p, sip, v->v_next->v_branch, *kind, want, sizeof want) &&
	       strcasecmp(want, v->v_branch) == 0;
}

void proxy_stray_response(struct proxy *p, nta_agent_t *agent, msg_t *msg, sip_t *sip)
{
	int status = sip->sip_status->st_status;

	if (!guard_source_trusted(p, msg)) {
		guard_count(p, SIP_BAD_UNTRUSTED);
		log_debug("stray %d response from an untrusted source dropped", status);
		nta_msg_discard(agent, msg);
		return;
	}
	/* a loose INVITE branch's response: the call handles it (proxy_call.c); the
	 * branch must equal the call's own (the key makes it unguessable), whatever
	 * Vias an MCP echoed below it */
	const sip_via_t *v = sip->sip_via;
	if (v && v->v_branch && strlen(v->v_branch) > BRANCH_PREFIX_LEN &&
	    strncasecmp(v->v_branch, BRANCH_PREFIX, BRANCH_PREFIX_LEN) == 0 &&
	    v->v_branch[BRANCH_PREFIX_LEN] >= 'A' && v->v_branch[BRANCH_PREFIX_LEN] <= 'Z' &&
	    call_loose_response(p, msg, sip))
		return;
	char kind = 0;
	if (!branch_ours(p, sip, &kind) || !stray_relayable(p, sip)) {
		log_debug("stray %d response (%s) matches nothing rm forwarded: dropped", status,
			  sip->sip_cseq ? sip->sip_cseq->cs_method_name : "?");
		nta_msg_discard(agent, msg);
		return;
	}
	/* drops the top Via (rm's) and sends where the next one says (rport/received) */
	if (nta_msg_tsend(agent, msg, NULL, TAG_END()) < 0)
		log_debug("cannot relay a stray %d response", status);
}
