/*
 * proxy_resolve: the proxy's side of resolve.h. Every destination rm hands nta goes
 * through proxy_next_hop, which turns a host name (or a maddr) into the numeric
 * address from the resolver: nta gets `sip:ADDR:port;transport=..` as the transport
 * destination (the route_url argument of nta_outgoing_mcreate/tcreate) while the
 * message keeps its request-URI and Route as they were. nta's own resolver (sres) is
 * therefore never asked anything, whatever /etc/resolv.conf says.
 *
 * A forwarded request whose next hop is being looked up waits (call_defer): the copy
 * is built again when the lookup ends. Routed INVITEs do not wait: the MCP's name is
 * resolved ahead (prefetch, OPTIONS pings), and a name that is not is a failed
 * attempt, so the next MCP is tried.
 */
#include "proxy_int.h"

#include <stdio.h>
#include <string.h>

#include <sofia-sip/url.h>

#include "log.h"
#include "resolve.h"

enum resolve_rc proxy_next_hop(struct proxy *p, su_home_t *home, const url_t *next,
			       url_t **out, int *status, char *host, size_t hostlen)
{
	char maddr[RM_HOST_MAX], addr[64];
	const char *name;
	url_t *u;
	enum resolve_rc rc;

	*out = NULL;
	if (!next || !next->url_host) {
		*status = 400;
		return RESOLVE_FAIL;
	}
	name = next->url_host;
	if (next->url_params && url_param(next->url_params, "maddr", maddr, sizeof maddr) > 0)
		name = maddr;
	snprintf(host, hostlen, "%s", name);
	if (name == next->url_host && resolve_is_numeric(name)) {
		*out = (url_t *)next;
		return RESOLVE_OK;
	}
	rc = resolver_lookup(p->dns, name, addr, sizeof addr, status);
	if (rc != RESOLVE_OK)
		return rc;
	u = url_hdup(home, next);
	if (!u) {
		*status = 500;
		return RESOLVE_FAIL;
	}
	u->url_host = su_strdup(home, addr);
	if (u->url_params && name == maddr) {
		char *params = su_strdup(home, u->url_params);
		u->url_params = params ? url_strip_param_string(params, "maddr") : NULL;
		if (u->url_params && !u->url_params[0])
			u->url_params = NULL;
	}
	if (!u->url_host) {
		*status = 500;
		return RESOLVE_FAIL;
	}
	*out = u;
	return RESOLVE_OK;
}

enum resolve_rc proxy_resolve_uri(struct proxy *p, const char *uri, char *out, size_t outlen)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	url_t *u = url_make(home, uri), *num;
	char host[RM_HOST_MAX];
	int status;
	enum resolve_rc rc = RESOLVE_FAIL;

	if (u && (rc = proxy_next_hop(p, home, u, &num, &status, host, sizeof host)) ==
			 RESOLVE_OK) {
		char *s = url_as_string(home, num);
		if (s && strlen(s) < outlen)
			snprintf(out, outlen, "%s", s);
		else
			rc = RESOLVE_FAIL;
	}
	su_home_deinit(home);
	return rc;
}

/* The lookup a deferred forward waited for has ended. */
static void call_resolved(void *arg, int status)
{
	struct call *c = arg;

	c->resolving = false;
	if (!c->done && c->tr_held && !c->cancelled) {
		if (c->p->stopped)
			call_finish(c, 503, true);
		else if (status)
			call_finish(c, status, true);
		else if (call_send(c, c->resend_target ? c->target : NULL, c->resend_flags,
				   NULL) < 0)
			call_finish(c, 500, true);
	}
	call_unref(c);
}

int call_defer(struct call *c, const char *host, unsigned flags, bool has_target)
{
	if (c->routed || c->resolve_tries >= 2)
		return -1;
	if (resolver_wait(c->p->dns, host, call_resolved, c) < 0)
		return -1;
	c->resolve_tries++;
	c->resolving = true;
	c->resend_flags = flags;
	c->resend_target = has_target;
	c->refs++; /* held by the resolver's waiter until call_resolved */
	return 0;
}

void call_unresolved(struct call *c, const char *host, int status)
{
	log_info("cannot forward %s: %s does not resolve (%d)",
		 c->method == sip_method_invite ? "INVITE" : "request", host, status);
	if (c->routed)
		return; /* the next MCP is tried */
	if (c->irq && !c->done) {
		proxy_reply(c->irq, status, 0);
		c->done = true;
	}
}

void proxy_dns_configure(struct proxy *p, const struct rm_config *cfg)
{
	struct resolve_cfg rc = { .off = cfg->dns_off, .timeout_ms = cfg->dns_timeout_ms,
				  .cache_s = cfg->dns_cache_s, .grace_s = cfg->dns_grace_s };
	char host[RM_URI_MAX];

	if (!p->dns)
		p->dns = resolver_new(p->root, &rc);
	else
		resolver_configure(p->dns, &rc);
	if (!p->dns)
		return;
	for (size_t i = 0; i < cfg->n_sip_servers; i++)
		if (resolve_uri_host(cfg->sip_servers[i], host, sizeof host) == 0)
			resolver_prefetch(p->dns, host);
	for (size_t g = 0; g < cfg->n_lrgs; g++)
		for (size_t m = 0; m < cfg->lrgs[g].n_members; m++)
			if (resolve_uri_host(cfg->lrgs[g].members[m].uri, host, sizeof host) == 0)
				resolver_prefetch(p->dns, host);
}
