/*
 * proxy: request dispatch, in-dialog routing, lifecycle (create, reload, drain,
 * destroy). New INVITEs are in proxy_invite.c, the per-request transaction glue
 * (forward, relay, CANCEL, deadlines) in proxy_call.c, the metrics in proxy_metrics.c.
 */
#include "proxy_int.h"
#include "proxy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sofia-sip/su_tag.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/url.h>

#include "cdr.h"
#include "log.h"
#include "sip_guard.h"
#include "util.h"

#define TICK_MS 100

/* How long a drain whose timeout ended live calls waits for the answers to
 * rm's BYEs and CANCELs before it stops: over UDP the request and its first three
 * retransmissions (T1 = 500 ms); a silent peer is not waited for (timer F: 32 s). */
#define BYE_GRACE_MS 2000

int64_t proxy_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *url_port_or_default(const url_t *u)
{
	if (u->url_port && u->url_port[0])
		return u->url_port;
	return u->url_type == url_sips ? "5061" : "5060";
}

bool proxy_url_is_self(const struct proxy *p, const url_t *u)
{
	if (!u || !u->url_host)
		return false;
	if (u->url_type != url_sip && u->url_type != url_sips)
		return false;
	if (strcasecmp(u->url_host, p->self_host) != 0)
		return false;
	/* as numbers: sofia-sip sends "05060" to port 5060, that is, back to us */
	return strtoul(url_port_or_default(u), NULL, 10) == strtoul(p->self_port, NULL, 10);
}

/* Answer irq with status; a Retry-After when retry_after > 0. */
int proxy_reply(nta_incoming_t *irq, int status, int retry_after)
{
	if (retry_after > 0) {
		char ra[16];
		snprintf(ra, sizeof ra, "%d", retry_after);
		return nta_incoming_treply(irq, status, sip_status_phrase(status),
					   SIPTAG_RETRY_AFTER_STR(ra), TAG_END());
	}
	return nta_incoming_treply(irq, status, sip_status_phrase(status), TAG_END());
}

/* ---- session end hook ------------------------------------------------------------ */

void proxy_session_end_hook(const struct session *s, void *arg)
{
	struct proxy *p = arg;
	struct call *c = s->user;
	struct cdr_input in;

	cdr_input_from_session(s, &in);
	enum record_disposition d = cdr_disposition(in.answer_ms, in.final_status, in.ended_by,
						    in.attempts);
	if ((int)d >= 0 && d < 5)
		metric_inc(p->m_disp[d]);
	if (s->ended_by >= SESSION_END_CALLER && s->ended_by < SESSION_END_COUNT)
		metric_inc(p->m_ended[s->ended_by]);
	if (s->attempts > 0) {
		int64_t setup = (s->answer_ms ? s->answer_ms : s->end_ms) - s->start_ms;
		metric_observe(p->m_setup, setup > 0 ? (double)setup / 1000 : 0);
	}
	log_debug("call end: call-id=%s profile=%s tenant=%s mcp=%s attempts=%d status=%d "
		  "ended-by=%s duration=%lldms", s->call_id, s->profile, s->tenant, s->mcp_uri,
		  s->attempts, s->final_status, session_ender_name(s->ended_by),
		  (long long)(s->answer_ms ? s->end_ms - s->answer_ms : 0));
	proxy_cluster_ended(p, s);
	proxy_bill_cdr(p, s);
	if (c) {
		route_release(&c->ticket);
		c->sess = NULL;
		call_unref(c);
	}
}

/* ---- in-dialog and other requests ------------------------------------------------ */

/* Drop our own loose Route entries from the top of the Route set. */
void proxy_strip_own_routes(struct proxy *p, msg_t *msg, sip_t *sip)
{
	while (sip->sip_route && proxy_url_is_self(p, sip->sip_route->r_url))
		sip_route_remove(msg, sip);
}

/* Decrement Max-Forwards in place (adding 70 if absent). Returns false at zero.
 * A value above 255, out of RFC 3261's range (20.22), counts as 255: it is the only
 * bound on a request routed back to rm, so 4294967295 must not mean "for ever". */
bool proxy_max_forwards_ok(msg_t *msg, sip_t *sip)
{
	sip_max_forwards_t *mf = sip->sip_max_forwards;
	if (!mf) {
		sip_add_tl(msg, sip, SIPTAG_MAX_FORWARDS_STR("70"), TAG_END());
		return true;
	}
	if (mf->mf_count == 0)
		return false;
	if (mf->mf_count > 255)
		mf->mf_count = 255;
	mf->mf_count--;
	msg_fragment_clear(mf->mf_common);
	return true;
}

/* Forward an ACK for a 2xx statelessly (it is its own transaction). */
static int forward_ack(struct proxy *p, nta_incoming_t *irq, msg_t *msg, sip_t *sip,
		       const url_t *next)
{
	nta_outgoing_t *orq = NULL;
	url_t *num;
	int st;
	char host[RM_HOST_MAX];

	/* a name not resolved yet: the lookup starts, this ACK is dropped */
	if (proxy_next_hop(p, msg_home(msg), next, &num, &st, host, sizeof host) == RESOLVE_OK)
		orq = nta_outgoing_mcreate(p->agent, NULL, NULL, (url_string_t const *)num, msg,
					   NTATAG_STATELESS(1), TAG_END());
	if (!orq)
		msg_destroy(msg);
	else if (orq != (nta_outgoing_t *)-1)
		nta_outgoing_destroy(orq);
	nta_incoming_destroy(irq);
	return 0;
}

/* Give up on an in-dialog request: an ACK is dropped silently (it has no answer),
 * anything else is answered status. */
static int in_dialog_drop(nta_incoming_t *irq, msg_t *msg, sip_method_t method, int status)
{
	msg_destroy(msg);
	if (method != sip_method_ack)
		return status;
	nta_incoming_destroy(irq);
	return 0;
}

/* Where an in-dialog request goes: its Route set; else its request-URI when that is a
 * known dialog's target or one of ours; else, sent to rm itself by the caller, the
 * dialog's MCP (copied into mcp_target, *next NULL). false: nowhere (481). */
static bool in_dialog_next(struct proxy *p, const sip_t *sip, const struct session *s,
			   bool from_caller, const url_t **next, char *mcp_target, size_t len)
{
	*next = NULL;
	if (sip->sip_route)
		*next = sip->sip_route->r_url;
	else if (!proxy_url_is_self(p, sip->sip_request->rq_url) &&
		 (s || guard_is_target(p, sip->sip_request->rq_url)))
		*next = sip->sip_request->rq_url; /* a known dialog's target, or ours */
	else if (from_caller && s->mcp_uri[0])
		snprintf(mcp_target, len, "%s", s->mcp_uri);
	else
		return false;
	return true;
}

/* A request inside a dialog (To tag present), in either direction: follow the Route
 * set. sipp's built-in UAC sends ACK/BYE to our own address without Route: route
 * those by the session table to the MCP. */
static int in_dialog(struct proxy *p, nta_incoming_t *irq, const sip_t *sip0)
{
	msg_t *msg = nta_incoming_getrequest(irq);
	sip_t *sip = sip_object(msg);
	sip_method_t method = sip->sip_request->rq_method;
	const url_t *next;
	struct session *s;
	char mcp_target[RM_URI_MAX] = "";

	if (guard_relay_refused(p, sip, true)) /* a Route set not starting with rm */
		return in_dialog_drop(irq, msg, method, 403);
	proxy_strip_own_routes(p, msg, sip);

	s = session_lookup(p->sessions, sip->sip_call_id->i_id,
			   sip->sip_from->a_tag, sip->sip_to->a_tag);
	bool from_caller = s && sip->sip_from->a_tag &&
			   strcmp(s->from_tag, sip->sip_from->a_tag) == 0;
	if (s && s->user)
		dialog_saw_request(((struct call *)s->user)->dlg, sip,
				   from_caller ? DIALOG_CALLER : DIALOG_MCP);
	if (s && s->user && method == sip_method_ack && from_caller)
		call_acked(s->user);
	if (!s)
		proxy_cluster_seen(p, sip); /* keep: the node holding it is told */

	if (!proxy_max_forwards_ok(msg, sip)) {
		if (method != sip_method_ack)
			metric_inc(p->m_bad);
		return in_dialog_drop(irq, msg, method, 483);
	}
	if (!in_dialog_next(p, sip, s, from_caller, &next, mcp_target, sizeof mcp_target))
		return in_dialog_drop(irq, msg, method, 481);

	if (method == sip_method_bye && s) {
		session_end(p->sessions, s, 200,
			    from_caller ? SESSION_END_CALLER : SESSION_END_MCP, util_now_ms());
		proxy_sessions_changed(p);
	}

	if (method == sip_method_ack) {
		if (!next && !(next = url_make(msg_home(msg), mcp_target)))
			return in_dialog_drop(irq, msg, method, 0);
		return forward_ack(p, irq, msg, sip, next);
	}

	/* stateful forward of a copy; the original stays with the irq */
	struct call *c = call_new(p, irq, sip0);
	msg_destroy(msg);
	if (!c)
		return 500;
	if (call_send(c, next ? NULL : mcp_target, next ? 0 : SEND_REWRITE_RURI, NULL) < 0) {
		call_finish(c, 500, true);
		return 0;
	}
	return 0;
}

/* Before forwarding a request out of dialog: drop our own Route entries and count
 * the hop (Max-Forwards is > 0 here) in the request the irq holds, which call_send
 * copies. Without it a Route naming rm sends the request back to rm, unchanged, and
 * round again for ever, each lap a new transaction (found by fuzz_sip). */
static void out_of_dialog_hop(struct proxy *p, nta_incoming_t *irq)
{
	msg_t *msg = nta_incoming_getrequest(irq);

	if (!msg)
		return;
	proxy_strip_own_routes(p, msg, sip_object(msg));
	proxy_max_forwards_ok(msg, sip_object(msg));
	msg_destroy(msg);
}

/* A request without To tag that is not a new INVITE from the SIP Server. */
static int out_of_dialog(struct proxy *p, nta_incoming_t *irq, const sip_t *sip,
			 bool from_mcp)
{
	sip_method_t method = sip->sip_request->rq_method;
	bool to_self = proxy_url_is_self(p, sip->sip_request->rq_url) &&
		       (!sip->sip_route || proxy_url_is_self(p, sip->sip_route->r_url));
	const sip_route_t *rt = guard_next_route(p, sip);

	if (method == sip_method_ack) {
		/* an ACK matching no transaction and no dialog: nothing to do */
		nta_incoming_destroy(irq);
		return 0;
	}
	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0) {
		metric_inc(p->m_bad);
		if (method == sip_method_options)
			return 200;
		return 483;
	}
	if (guard_relay_refused(p, sip, false)) /* not a relay (sip_guard.h) */
		return method == sip_method_cancel ? 481 : 403;
	if (from_mcp && p->sip_server) {
		/* MCP-originated out-of-dialog requests go to the SIP Server */
		out_of_dialog_hop(p, irq);
		struct call *c = call_new(p, irq, sip);
		char target[RM_URI_MAX];
		if (!c)
			return 500;
		snprintf(target, sizeof target, "%s", p->cfg->sip_servers[0]);
		if (call_send(c, target, method == sip_method_invite ||
			      method == sip_method_subscribe || method == sip_method_refer ?
			      SEND_ADD_RR : 0, NULL) < 0)
			call_finish(c, 500, true);
		return 0;
	}
	if (to_self) {
		if (method == sip_method_options)
			return 200;
		if (method == sip_method_cancel)
			return 481;
		return 404;
	}
	if (method == sip_method_cancel)
		return 481;
	/* proxying by request-URI, only to a configured MCP or SIP Server */
	if (!rt && !guard_is_target(p, sip->sip_request->rq_url)) {
		guard_count(p, SIP_BAD_RELAY);
		return 403;
	}
	out_of_dialog_hop(p, irq);
	struct call *c = call_new(p, irq, sip);
	if (!c)
		return 500;
	if (call_send(c, NULL, 0, NULL) < 0)
		call_finish(c, 500, true);
	return 0;
}

/* The next hop of an in-dialog request without looking at the session: the first
 * Route past rm's own, else the request-URI when it is a configured target and not
 * rm. NULL when that takes the session (proxy_request's path decides then). */
static const url_t *bye_next(struct proxy *p, const sip_t *sip)
{
	const sip_route_t *r = sip->sip_route;

	while (r && proxy_url_is_self(p, r->r_url))
		r = r->r_next;
	if (r)
		return r->r_url;
	if (!proxy_url_is_self(p, sip->sip_request->rq_url) &&
	    guard_is_target(p, sip->sip_request->rq_url))
		return sip->sip_request->rq_url;
	return NULL;
}

/* A BYE in a record-routed dialog, over UDP both ways, is forwarded statelessly:
 * no server transaction for timer J (32 s) nor client transaction for timer K. Its
 * branch is a keyed hash of the request (proxy_stateless.c), the same for each
 * retransmission (RFC 3261 16.11), so the next hop's transaction absorbs them and
 * its answer, relayed back statelessly, answers the sender's. The session ends here
 * as in in_dialog. Anything else (TCP, no Route naming rm, a request refused by
 * validation or needing the session to route, in a cluster one for a call this node
 * does not hold) goes the stateful way: false, msg is still the caller's. */
static bool bye_stateless(struct proxy *p, msg_t *msg, sip_t *sip)
{
	struct sip_verdict v;
	const url_t *next;
	url_t *num;
	char host[RM_HOST_MAX], branch[64];
	nta_outgoing_t *orq;
	int st;

	if (sip->sip_request->rq_method != sip_method_bye || !sip->sip_to->a_tag ||
	    p->stopped || !sip->sip_route || !proxy_url_is_self(p, sip->sip_route->r_url) ||
	    guard_msg_stream(msg))
		return false;
	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0)
		return false;
	if (!sip_check_request(sip, msg_get_flags(msg, ~0u), &v))
		return false;
	if (!(next = bye_next(p, sip)) || guard_next_is_tcp(p, next) ||
	    !proxy_bye_branch(p, sip, branch, sizeof branch))
		return false;
	if (proxy_next_hop(p, msg_home(msg), next, &num, &st, host, sizeof host) != RESOLVE_OK)
		return false;

	struct session *s = session_lookup(p->sessions, sip->sip_call_id->i_id,
					   sip->sip_from->a_tag, sip->sip_to->a_tag);
	/* in a cluster, a BYE for a call this node does not hold takes in_dialog's way
	 * (the peers may have to hear of it: cluster.adopt) */
	if (!s && p->cluster_post)
		return false;
	metric_inc(p->m_requests);
	bool from_caller = s && sip->sip_from->a_tag &&
			   strcmp(s->from_tag, sip->sip_from->a_tag) == 0;
	if (s && s->user)
		dialog_saw_request(((struct call *)s->user)->dlg, sip,
				   from_caller ? DIALOG_CALLER : DIALOG_MCP);
	if (s) {
		session_end(p->sessions, s, 200,
			    from_caller ? SESSION_END_CALLER : SESSION_END_MCP, util_now_ms());
		proxy_sessions_changed(p);
	}
	proxy_strip_own_routes(p, msg, sip);
	proxy_max_forwards_ok(msg, sip);
	orq = nta_outgoing_mcreate(p->agent, NULL, NULL, (url_string_t const *)num, msg,
				   NTATAG_STATELESS(1), NTATAG_BRANCH_KEY(branch), TAG_END());
	if (!orq)
		msg_destroy(msg);
	else if (orq != (nta_outgoing_t *)-1)
		nta_outgoing_destroy(orq);
	return true;
}

/* Every request that nta does not absorb itself, from a trusted source (origin,
 * proxy_message). Validation comes first (sip_guard.h); Via is never trusted. */
static int proxy_request(struct proxy *p, enum sip_origin origin, nta_incoming_t *irq,
			 const sip_t *sip)
{
	int status;

	metric_inc(p->m_requests);
	if (!guard_admit(p, irq, sip, &status))
		return status;
	if (p->stopped)
		return 503;
	if (sip->sip_to->a_tag)
		return in_dialog(p, irq, sip);
	if (sip->sip_request->rq_method == sip_method_invite && origin != SIP_ORIGIN_MCP)
		return proxy_new_invite(p, irq, sip);
	return out_of_dialog(p, irq, sip, origin == SIP_ORIGIN_MCP);
}

/* nta's callback for every message matching no transaction: trust is decided on the
 * packet's source before a transaction exists (a server transaction always answers,
 * a drop must be silent), then the request gets one, as on a default leg. */
static int proxy_message(struct proxy *p, nta_agent_t *agent, msg_t *msg, sip_t *sip)
{
	enum sip_origin origin;
	nta_incoming_t *irq;
	int status;

	if (sip && sip->sip_status) {
		proxy_stray_response(p, agent, msg, sip);
		return 0;
	}
	if (!guard_accept(p, agent, msg, sip, &origin))
		return 0; /* msg answered or discarded */
	if (bye_stateless(p, msg, sip))
		return 0;
	irq = nta_incoming_create(agent, NULL, msg, sip, TAG_END());
	if (!irq) {
		nta_msg_treply(agent, msg, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		return 0;
	}
	status = proxy_request(p, origin, irq, sip);
	if (status >= 100 && status <= 699) {
		nta_incoming_treply(irq, status, sip_status_phrase(status), TAG_END());
		if (status >= 200)
			nta_incoming_destroy(irq);
	}
	return 0;
}

/* ---- tick: deadlines, max duration, drain ----------------------------------------- */

/* rm ends s itself (max duration: 408, rm-timeout; drain timeout: 503, rm-drain);
 * either way the session ends here, with its record.
 *  - answered: a BYE to each side (proxy_dialog.c); their answers are not waited for
 *    (a drain gives them BYE_GRACE_MS, proxy_check_drain);
 *  - still being set up: the MCP's branch is CANCELled (tracked like a BYE; nta ACKs
 *    the MCP's 487) and the caller answered `status` (487 if it had CANCELled
 *    itself). Left alone, such a call would reach proxy_destroy, which answers one
 *    still waiting for a first response 503 (attempt_expired) and drops one already
 *    ringing with its transactions (call_release_tr), CANCELling the MCP in neither
 *    case; at max duration it would even go on without a session. */
static void end_session(struct proxy *p, struct session *s, int status,
			enum session_ender who)
{
	struct call *c = s->user;
	const char *reason = who == SESSION_END_RM_DRAIN
				     ? "SIP;cause=503;text=\"rm is shutting down\""
				     : "SIP;cause=408;text=\"maximum call duration\"";

	if (!c || c->answered || c->done || !c->tr_held) {
		if (c && c->answered)
			dialog_bye(p, s, c->dlg, reason);
		session_end(p->sessions, s, status, who, util_now_ms());
		return;
	}
	if (!c->cancelled)
		dialog_cancel(p, s, c);
	c->refs++; /* the end hook drops the session's reference */
	session_end(p->sessions, s, status, who, util_now_ms());
	call_finish(c, c->cancelled ? 487 : status, true);
	call_unref(c);
}

static void proxy_check_drain(struct proxy *p, int64_t now)
{
	if (!p->draining || !p->on_drained)
		return;
	bool empty = session_count(p->sessions) == 0 && p->attempts.n == 0;
	if (!empty && now < p->drain_deadline_ms) {
		log_debug("draining: %zu sessions, %zu pending INVITEs", session_count(p->sessions),
			  p->attempts.n);
		return;
	}
	if (!empty && !p->drain_forced) {
		struct session *s, *n;
		log_warn("drain timeout: ending %zu live sessions", session_count(p->sessions));
		for (s = session_first(p->sessions); s; s = n) {
			n = session_next(s);
			end_session(p, s, 503, SESSION_END_RM_DRAIN);
		}
		proxy_sessions_changed(p);
		p->drain_forced = true;
		p->bye_grace_ms = now + BYE_GRACE_MS;
	}
	if (p->n_own_reqs > 0 && now < p->bye_grace_ms)
		return; /* the BYEs/CANCELs just sent: a short chance to be answered */
	void (*cb)(void *) = p->on_drained;
	p->on_drained = NULL;
	cb(p->on_drained_arg);
}

static void proxy_tick(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct proxy *p = arg;
	int64_t now = proxy_now_ms();

	proxy_tick_calls(p, now);
	guard_tick(p);
	guard_refresh(p, now, false);
	proxy_overload_tick(p, now, TICK_MS);
	proxy_cluster_tick(p);

	if (now - p->last_expiry_ms >= 1000) {
		struct session *v[256];
		int64_t wall = util_now_ms();
		size_t n;
		p->last_expiry_ms = now;
		while ((n = session_expire(p->sessions, wall, v, 256)) > 0) {
			for (size_t i = 0; i < n; i++) {
				log_info("max call duration reached: call-id=%s", v[i]->call_id);
				end_session(p, v[i], 408, SESSION_END_RM_TIMEOUT);
			}
			if (n < 256)
				break;
		}
		proxy_sessions_changed(p);
		proxy_mcp_metrics(p);
		keepalive_tick(p->ka, now);
	}
	proxy_check_drain(p, now);
}

/* ---- configuration ------------------------------------------------------------------ */

static int apply_config(struct proxy *p, struct rm_config *cfg)
{
	struct mcp_addr *addrs = NULL;
	size_t n = 0, cap = 0;

	for (size_t g = 0; g < cfg->n_lrgs; g++) {
		for (size_t m = 0; m < cfg->lrgs[g].n_members; m++) {
			url_t *u = url_make(p->home, cfg->lrgs[g].members[m].uri);
			if (!u || !u->url_host)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 8;
				struct mcp_addr *na = realloc(addrs, cap * sizeof *na);
				if (!na) {
					free(addrs);
					return -1;
				}
				addrs = na;
			}
			snprintf(addrs[n].host, sizeof addrs[n].host, "%s", u->url_host);
			snprintf(addrs[n].port, sizeof addrs[n].port, "%s", url_port_or_default(u));
			n++;
			su_free(p->home, u);
		}
	}
	free(p->mcp_addrs);
	p->mcp_addrs = addrs;
	p->n_mcp_addrs = n;

	if (guard_configure(p->guard, cfg) < 0)
		return -1;
	url_t *ss = cfg->n_sip_servers ? url_make(p->home, cfg->sip_servers[0]) : NULL;
	if (p->sip_server)
		su_free(p->home, p->sip_server);
	p->sip_server = ss;
	return 0;
}

static int setup_listen(struct proxy *p, const struct rm_config *cfg, char *err, size_t errlen)
{
	char name[RM_HOST_MAX + 64];
	const char *tp = "";

	if (cfg->sip_udp && !cfg->sip_tcp)
		tp = ";transport=udp";
	else if (cfg->sip_tcp && !cfg->sip_udp)
		tp = ";transport=tcp";
	snprintf(name, sizeof name, "sip:%s:%d%s", cfg->sip_listen, cfg->sip_port, tp);

	p->agent = nta_agent_create(p->root, (url_string_t const *)name, proxy_message, p,
				    NTATAG_UA(0), NTATAG_CANCEL_487(0),
				    NTATAG_SERVER_RPORT(2), NTATAG_CLIENT_RPORT(1),
				    NTATAG_UDP_MTU(65535), NTATAG_MERGE_482(0),
				    NTATAG_EXTRA_100(0), NTATAG_PASS_100(1),
				    NTATAG_TIMEOUT_408(1), NTATAG_USE_NAPTR(0),
				    NTATAG_USE_SRV(0),
				    /* T4 stays sofia-sip's 5 s: rm destroys an INVITE's server
				     * transaction when it relays the 2xx, so timer I frees it
				     * (one not destroyed by then would be parked on a list nta
				     * walks whole on every tick: 13% of rm's CPU, issue 12) */
				    TPTAG_UDP_RMEM(cfg->sip_udp_rmem),
				    TPTAG_UDP_WMEM(cfg->sip_udp_wmem),
				    /* no STUN on the SIP port: rm has no use for it, and
				     * sofia-sip leaks each error response it builds for a
				     * malformed STUN request (stun_mini.c send_stun_error) */
				    TPTAG_STUN_SERVER(0), TAG_END());
	if (!p->agent) {
		snprintf(err, errlen, "cannot listen on %s (address in use or not local?)", name);
		return -1;
	}
	p->defleg = guard_own_leg_create(p);
	if (!p->defleg) {
		snprintf(err, errlen, "cannot create the default nta leg");
		return -1;
	}
	nta_agent_set_params(p->agent, NTATAG_MCLASS(sip_check_mclass()), TAG_END());
	/* the advertised host, not a wildcard listen address (rm_config.h sip.advertise) */
	snprintf(p->self_host, sizeof p->self_host, "%s", cfg->sip_advertise);
	snprintf(p->self_port, sizeof p->self_port, "%d", cfg->sip_port);
	return 0;
}

struct proxy *proxy_create(su_root_t *root, struct rm_config *cfg, metrics_t *metrics,
			   char *err, size_t errlen)
{
	struct proxy *p = calloc(1, sizeof *p);
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	su_home_init(p->home);
	p->root = root;
	p->metrics = metrics;
	proxy_branch_key_init(p);
	p->guard = proxy_metrics_init(p) < 0 ? NULL : guard_new(p);
	if (!p->guard) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}

	p->route = route_state_new(cfg, err, errlen);
	if (!p->route)
		goto fail;
	p->sessions = session_table_new((int64_t)cfg->max_duration_s * 1000,
					proxy_session_end_hook, p);
	if (!p->sessions) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (setup_listen(p, cfg, err, errlen) < 0)
		goto fail;
	p->cfg = cfg;
	if (apply_config(p, cfg) < 0) {
		snprintf(err, errlen, "out of memory");
		p->cfg = NULL;
		goto fail;
	}
	p->tick = su_timer_create(su_root_task(root), TICK_MS);
	if (!p->tick || su_timer_set_for_ever(p->tick, proxy_tick, p) < 0) {
		snprintf(err, errlen, "cannot start the proxy timer");
		p->cfg = NULL;
		goto fail;
	}
	proxy_dns_configure(p, cfg);
	guard_refresh(p, proxy_now_ms(), true);
	if (proxy_overload_init(p) < 0)
		log_error("overload control off: out of memory");
	p->mon = monitor_new(p);
	p->ka = keepalive_new(p);
	proxy_mcp_metrics(p);
	log_info("SIP proxy listening on %s:%d (%s%s%s), %zu MCPs", cfg->sip_listen,
		 cfg->sip_port, cfg->sip_udp ? "udp" : "", cfg->sip_udp && cfg->sip_tcp ? "+" : "",
		 cfg->sip_tcp ? "tcp" : "", route_mcp_count(p->route));
	return p;
fail:
	if (p->tick)
		su_timer_destroy(p->tick);
	if (p->defleg)
		nta_leg_destroy(p->defleg);
	if (p->agent)
		nta_agent_destroy(p->agent);
	session_table_free(p->sessions);
	route_state_free(p->route);
	free(p->mcp_addrs);
	guard_free(p->guard);
	su_home_deinit(p->home);
	free(p);
	return NULL;
}

void proxy_reload(struct proxy *p, struct rm_config *cfg)
{
	char err[512];

	if (strcmp(cfg->sip_listen, p->cfg->sip_listen) != 0 || cfg->sip_port != p->cfg->sip_port ||
	    cfg->sip_udp != p->cfg->sip_udp || cfg->sip_tcp != p->cfg->sip_tcp)
		log_warn("reload: sip.listen/port/transports changes need a restart; ignored");
	if (route_state_reload(p->route, cfg, err, sizeof err) < 0) {
		log_error("reload failed, keeping the old configuration: %s", err);
		rm_config_free(cfg);
		free(cfg);
		return;
	}
	session_table_set_max_duration(p->sessions, (int64_t)cfg->max_duration_s * 1000);
	if (apply_config(p, cfg) < 0)
		log_error("reload: out of memory rebuilding MCP addresses");
	rm_config_free(p->cfg);
	free(p->cfg);
	p->cfg = cfg;
	proxy_dns_configure(p, cfg);
	guard_refresh(p, proxy_now_ms(), true);
	monitor_reload(p->mon);
	proxy_overload_reload(p);
	proxy_mcp_metrics(p);
	log_info("configuration reloaded from %s: %zu MCPs, %zu profiles", cfg->file,
		 route_mcp_count(p->route), route_profile_count(p->route));
}

void proxy_drain(struct proxy *p, void (*on_drained)(void *arg), void *arg)
{
	if (!p->draining) {
		p->draining = true;
		p->drain_deadline_ms = proxy_now_ms() + (int64_t)p->cfg->drain_timeout_s * 1000;
		metric_set(p->m_draining, 1);
		log_info("draining: %zu live sessions, timeout %ds", session_count(p->sessions),
			 p->cfg->drain_timeout_s);
	}
	p->on_drained = on_drained;
	p->on_drained_arg = arg;
	proxy_check_drain(p, proxy_now_ms());
}

size_t proxy_session_count(const struct proxy *p)
{
	return session_count(p->sessions);
}

size_t proxy_mcps_up(const struct proxy *p)
{
	return route_mcp_up_count(p->route);
}

void proxy_destroy(struct proxy *p)
{
	if (!p)
		return;
	p->stopped = true;
	monitor_free(p->mon);
	p->mon = NULL;
	keepalive_free(p->ka);
	p->ka = NULL;
	su_timer_destroy(p->tick);
	p->tick = NULL;
	resolver_cancel_waiters(p->dns);
	session_end_all(p->sessions, 503, SESSION_END_RM_DRAIN, util_now_ms());
	proxy_tick_calls(p, INT64_MAX);
	proxy_release_all_calls(p);
	dialog_release_own(p);
	proxy_orphan_release_all(p);
	if (p->live_calls)
		log_warn("shutdown: %zu calls still referenced", p->live_calls);
	nta_leg_destroy(p->defleg);
	nta_agent_destroy(p->agent);
	proxy_overload_free(p);
	session_table_free(p->sessions);
	route_state_free(p->route);
	rm_config_free(p->cfg);
	free(p->cfg);
	free(p->mcp_addrs);
	guard_free(p->guard);
	resolver_free(p->dns);
	su_home_deinit(p->home);
	free(p);
}
