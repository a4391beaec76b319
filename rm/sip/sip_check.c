/*
 * sip_check: request validation before proxying (see sip_check.h).
 */
#include "sip_check.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/msg_mclass.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/url.h>

/* The request line as sofia-sip parses it, except that a version other than
 * SIP/2.0 becomes this string (same text, known address). nta answers a bad
 * version itself, before it reads Via's received/rport, so its 505 went to the
 * Via sent-by, not to the transport source (RFC 3261 18.2.2 aside, a spoofed Via
 * made rm reflect 505s at a third host). With the version rewritten nta takes the
 * request as any other, and sip_check_request answers 505 through the server
 * transaction, which replies to the source. */
static const char bad_version[] = "SIP/2.0";
static struct msg_hclass_s request_class[1];
static msg_mclass_t *mclass;

static issize_t request_d(su_home_t *home, msg_header_t *h, char *s, isize_t slen)
{
	issize_t r = sip_request_d(home, h, s, slen);
	sip_request_t *rq = (sip_request_t *)h;

	if (r >= 0 && !su_casematch(rq->rq_version, sip_version_2_0))
		rq->rq_version = bad_version;
	return r;
}

const msg_mclass_t *sip_check_mclass(void)
{
	if (!mclass) {
		msg_mclass_t *mc = msg_mclass_clone(sip_default_mclass(), 0, 0);

		if (!mc)
			return sip_default_mclass();
		request_class[0] = sip_request_class[0];
		request_class->hc_parse = request_d;
		mc->mc_request->hr_class = request_class;
		mclass = mc;
	}
	return mclass;
}

static const char *const bad_names[SIP_BAD_COUNT] = {
	[SIP_BAD_NONE] = "none",
	[SIP_BAD_FRAMING] = "framing",
	[SIP_BAD_MISSING] = "missing-header",
	[SIP_BAD_HEADER] = "bad-header",
	[SIP_BAD_VERSION] = "version",
	[SIP_BAD_CSEQ] = "cseq",
	[SIP_BAD_SCHEME] = "scheme",
	[SIP_BAD_URI_HEADERS] = "uri-headers",
	[SIP_BAD_PROXY_REQUIRE] = "proxy-require",
	[SIP_BAD_MAX_FORWARDS] = "max-forwards",
	[SIP_BAD_UNTRUSTED] = "untrusted",
	[SIP_BAD_RELAY] = "relay",
	[SIP_BAD_PARSER] = "parser",
};

const char *sip_bad_name(enum sip_bad r)
{
	if ((int)r < 0 || r >= SIP_BAD_COUNT || !bad_names[r])
		return "other";
	return bad_names[r];
}

static bool refuse(struct sip_verdict *v, int status, enum sip_bad r)
{
	v->status = status;
	v->reason = r;
	return false;
}

bool sip_check_forwardable(const sip_t *sip, unsigned msg_flags)
{
	if (!sip || !sip->sip_separator || !(msg_flags & MSG_FLG_BODY))
		return false;
	if (msg_flags & (MSG_FLG_ERROR | MSG_FLG_TRUNC | MSG_FLG_TOOLARGE))
		return false;
	if (sip->sip_error)
		return false;
	if (sip->sip_content_length &&
	    (!sip->sip_payload ? 0 : sip->sip_payload->pl_len) < sip->sip_content_length->l_length)
		return false;
	return true;
}

/* Proxy-Require options, comma-joined into v->unsupported (rm supports none). */
static bool proxy_require_ok(const sip_t *sip, struct sip_verdict *v)
{
	const sip_proxy_require_t *pr = sip->sip_proxy_require;
	size_t used = 0;

	v->unsupported[0] = '\0';
	for (; pr; pr = pr->k_next) {
		for (const char *const *o = pr->k_items; o && *o; o++) {
			int n = snprintf(v->unsupported + used, sizeof v->unsupported - used,
					 "%s%s", used ? ", " : "", *o);
			if (n < 0 || (size_t)n >= sizeof v->unsupported - used)
				break;
			used += (size_t)n;
		}
	}
	return used == 0;
}

bool sip_check_request(const sip_t *sip, unsigned msg_flags, struct sip_verdict *v)
{
	memset(v, 0, sizeof *v);
	if (!sip || !sip->sip_request)
		return refuse(v, 400, SIP_BAD_FRAMING);
	if (!sip->sip_separator || !(msg_flags & MSG_FLG_BODY) ||
	    (msg_flags & (MSG_FLG_ERROR | MSG_FLG_TRUNC | MSG_FLG_TOOLARGE)))
		return refuse(v, 400, SIP_BAD_FRAMING);
	if (sip->sip_content_length &&
	    (!sip->sip_payload ? 0 : sip->sip_payload->pl_len) < sip->sip_content_length->l_length)
		return refuse(v, 400, SIP_BAD_FRAMING);
	if (!sip->sip_via || !sip->sip_from || !sip->sip_to || !sip->sip_call_id ||
	    !sip->sip_cseq)
		return refuse(v, 400, SIP_BAD_MISSING);
	if (sip->sip_error)
		return refuse(v, 400, SIP_BAD_HEADER);
	if (!sip->sip_request->rq_version || sip->sip_request->rq_version == bad_version ||
	    strcasecmp(sip->sip_request->rq_version, "SIP/2.0") != 0)
		return refuse(v, 505, SIP_BAD_VERSION);
	if (sip->sip_cseq->cs_method != sip->sip_request->rq_method ||
	    (sip->sip_cseq->cs_method == sip_method_unknown &&
	     strcmp(sip->sip_cseq->cs_method_name, sip->sip_request->rq_method_name) != 0))
		return refuse(v, 400, SIP_BAD_CSEQ);
	const url_t *u = sip->sip_request->rq_url;
	if (!u || (u->url_type != url_sip && u->url_type != url_sips))
		return refuse(v, 416, SIP_BAD_SCHEME);
	if (u->url_headers)
		return refuse(v, 400, SIP_BAD_URI_HEADERS);
	if (!proxy_require_ok(sip, v))
		return refuse(v, 420, SIP_BAD_PROXY_REQUIRE);
	return true;
}
