/*
 * sip_guard: trust, validation and Record-Route glue on the SIP thread (see
 * sip_guard.h). The decisions live in sip_trust.c and sip_check.c.
 */
#include "sip_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/url.h>
#include <sofia-sip/url_tag.h>

#include "log.h"
#include "ratelog.h"
#include "resolve.h"

#define GUARD_NAMES_MS 250       /* trusted names are looked at this often */
#define GUARD_NAME_LOG_MS 60000  /* "not trusted until it resolves": once a minute */

/* A configured next hop: an MCP or a SIP Server, as written in the config. */
struct guard_target {
	char host[RM_HOST_MAX];
	unsigned port;
};

/* A trusted peer configured by name: its addresses are trusted once the resolver
 * (resolve.h) has them, and follow the name as it is re-resolved (sip.dns.cache_s). */
struct guard_name {
	char host[RM_HOST_MAX];
	enum sip_trust_kind kind;
	uint16_t port;
	const char *what;            /* the config key, a static string */
	char addrs[RESOLVE_ADDRS_MAX][RESOLVE_ADDR_MAX]; /* trusted now */
	size_t n_addrs;
	ratelog_t rl;
};

struct sip_guard {
	struct sip_trust trust;        /* base + every name's current addresses */
	struct sip_trust base;         /* numeric peers and sip.trusted */
	struct guard_name *names;      /* malloc'd */
	size_t n_names, cap_names;
	struct guard_name *old_names;  /* during guard_configure: the previous list */
	size_t n_old_names;
	int64_t names_next_ms;         /* next look at the names */
	bool drop_untrusted;
	bool udp, tcp;                 /* rm's own transports */
	struct guard_target *targets;  /* malloc'd */
	size_t n_targets;
	usize_t nta_bad_seen;          /* nta's bad message + bad request counts */
	metric_t *m[SIP_BAD_COUNT];
};

struct sip_guard *guard_new(struct proxy *p)
{
	struct sip_guard *g = calloc(1, sizeof *g);

	if (!g)
		return NULL;
	sip_trust_init(&g->trust);
	for (int r = 1; r < SIP_BAD_COUNT; r++)
		g->m[r] = rm_metrics_bad_request(&p->rmm, sip_bad_name((enum sip_bad)r));
	return g;
}

void guard_free(struct sip_guard *g)
{
	if (!g)
		return;
	free(g->targets);
	free(g->names);
	free(g->old_names); /* set only if a configure ran out of memory */
	free(g);
}

static unsigned url_port_num(const url_t *u)
{
	if (u->url_port && u->url_port[0])
		return (unsigned)strtoul(u->url_port, NULL, 10);
	return u->url_type == url_sips ? 5061 : 5060;
}

/* Add host of `kind` to the trust table: a numeric one now, a name to the list that
 * guard_refresh resolves (never here: this runs on the SIP thread, at start and on
 * SIGHUP, and a nameserver may never answer). */
static int trust_host(struct sip_guard *g, enum sip_trust_kind kind, const char *host,
		      unsigned port, const char *what)
{
	if (resolve_is_numeric(host)) {
		if (sip_trust_add_host(&g->base, kind, host, (uint16_t)port) < 0)
			log_warn("%s %s: trust table full, not trusted", what, host);
		return 0;
	}
	for (size_t i = 0; i < g->n_names; i++)
		if (g->names[i].kind == kind && g->names[i].port == port &&
		    strcasecmp(g->names[i].host, host) == 0)
			return 0;
	if (g->n_names == g->cap_names) {
		size_t nc = g->cap_names ? g->cap_names * 2 : 8;
		struct guard_name *nn = realloc(g->names, nc * sizeof *nn);
		if (!nn)
			return -1;
		g->names = nn;
		g->cap_names = nc;
	}
	struct guard_name *n = &g->names[g->n_names++];
	memset(n, 0, sizeof *n);
	/* a name kept across a reload keeps its addresses until it is looked at again */
	for (size_t i = 0; i < g->n_old_names; i++)
		if (g->old_names[i].kind == kind && g->old_names[i].port == port &&
		    strcasecmp(g->old_names[i].host, host) == 0)
			*n = g->old_names[i];
	snprintf(n->host, sizeof n->host, "%s", host);
	n->kind = kind;
	n->port = (uint16_t)port;
	n->what = what;
	return 0;
}

/* trust = base + the addresses every name has now. */
static void trust_rebuild(struct sip_guard *g)
{
	g->trust = g->base;
	for (size_t i = 0; i < g->n_names; i++)
		for (size_t a = 0; a < g->names[i].n_addrs; a++)
			if (sip_trust_add_host(&g->trust, g->names[i].kind, g->names[i].addrs[a],
					       g->names[i].port) < 0)
				log_warn("%s %s: trust table full, %s not trusted", g->names[i].what,
					 g->names[i].host, g->names[i].addrs[a]);
}

static int addr_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static bool addrs_equal(char (*a)[RESOLVE_ADDR_MAX], size_t na,
			char (*b)[RESOLVE_ADDR_MAX], size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

void guard_refresh(struct proxy *p, int64_t now_ms, bool force)
{
	struct sip_guard *g = p->guard;
	char addrs[RESOLVE_ADDRS_MAX][RESOLVE_ADDR_MAX];
	bool changed = false;

	if (!g || !p->dns || !g->n_names || (!force && now_ms < g->names_next_ms))
		return;
	g->names_next_ms = now_ms + GUARD_NAMES_MS;
	for (size_t i = 0; i < g->n_names; i++) {
		struct guard_name *n = &g->names[i];
		size_t na = 0;
		unsigned held;
		/* cached: no lookup; past sip.dns.cache_s: refreshed in the background */
		enum resolve_rc rc = resolver_lookup_all(p->dns, n->host, addrs,
							 RESOLVE_ADDRS_MAX, &na);
		if (rc == RESOLVE_PENDING)
			continue; /* keep what it had until the lookup ends */
		/* a set: DNS round robin reorders the same addresses */
		qsort(addrs, na, sizeof addrs[0], addr_cmp);
		if (rc == RESOLVE_FAIL && ratelog_allow(&n->rl, now_ms, GUARD_NAME_LOG_MS, &held))
			log_warn("%s %s does not resolve: requests from it are not trusted "
				 "until it does (or list its address in sip.trusted)%s", n->what,
				 n->host, held ? " (repeated)" : "");
		if (addrs_equal(addrs, na, n->addrs, n->n_addrs))
			continue;
		if (na)
			log_info("%s %s: trusting %s%s", n->what, n->host, addrs[0],
				 na > 1 ? " and more" : "");
		memcpy(n->addrs, addrs, sizeof addrs);
		n->n_addrs = na;
		changed = true;
	}
	if (changed)
		trust_rebuild(g);
}

/* Record one configured URI as a trusted peer and a valid next hop. */
static int add_peer(struct sip_guard *g, size_t *cap, const char *uri,
		    enum sip_trust_kind kind, const char *what)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	url_t *u = url_make(home, uri);

	if (!u || !u->url_host) {
		su_home_deinit(home);
		return 0;
	}
	unsigned port = url_port_num(u);
	if (trust_host(g, kind, u->url_host, kind == SIP_TRUST_MCP ? port : 0, what) < 0) {
		su_home_deinit(home);
		return -1;
	}
	if (g->n_targets == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct guard_target *nt = realloc(g->targets, nc * sizeof *nt);
		if (!nt) {
			su_home_deinit(home);
			return -1;
		}
		g->targets = nt;
		*cap = nc;
	}
	snprintf(g->targets[g->n_targets].host, RM_HOST_MAX, "%s", u->url_host);
	g->targets[g->n_targets].port = port;
	g->n_targets++;
	su_home_deinit(home);
	return 0;
}

int guard_configure(struct sip_guard *g, const struct rm_config *cfg)
{
	size_t cap = 0;
	char err[160];

	sip_trust_init(&g->base);
	free(g->targets);
	g->targets = NULL;
	g->n_targets = 0;
	g->old_names = g->names;
	g->n_old_names = g->n_names;
	g->names = NULL;
	g->n_names = g->cap_names = 0;
	g->drop_untrusted = cfg->sip_untrusted_drop;
	g->udp = cfg->sip_udp;
	g->tcp = cfg->sip_tcp;
	for (size_t i = 0; i < cfg->n_sip_servers; i++)
		if (add_peer(g, &cap, cfg->sip_servers[i], SIP_TRUST_SIP_SERVER,
			     "sip.sip_servers") < 0)
			return -1;
	for (size_t l = 0; l < cfg->n_lrgs; l++)
		for (size_t m = 0; m < cfg->lrgs[l].n_members; m++)
			if (add_peer(g, &cap, cfg->lrgs[l].members[m].uri, SIP_TRUST_MCP,
				     "LRG member") < 0)
				return -1;
	for (size_t i = 0; i < cfg->n_sip_trusted; i++) {
		struct sip_trust_entry e;
		/* validated at load (rm_config.c); a failure here is a table overflow */
		if (sip_trust_parse_cidr(cfg->sip_trusted[i], &e, err, sizeof err) < 0 ||
		    sip_trust_add(&g->base, &e) < 0)
			log_warn("sip.trusted[%zu] ignored: %s", i, cfg->sip_trusted[i]);
	}
	/* names: trusted as guard_refresh finds their addresses (it runs right after) */
	trust_rebuild(g);
	free(g->old_names);
	g->old_names = NULL;
	g->n_old_names = 0;
	return 0;
}

void guard_count(struct proxy *p, enum sip_bad r)
{
	if (p->guard && (int)r > 0 && r < SIP_BAD_COUNT)
		metric_inc(p->guard->m[r]);
}

void guard_tick(struct proxy *p)
{
	usize_t total = 0;

	if (!p->guard || !p->agent)
		return;
	/* every message nta refuses counts as a bad message (a bad request also counts
	 * in bad_request: adding both would count it twice) */
	nta_agent_get_stats(p->agent, NTATAG_S_BAD_MESSAGE_REF(total), TAG_END());
	if (total > p->guard->nta_bad_seen)
		metric_add(p->guard->m[SIP_BAD_PARSER], total - p->guard->nta_bad_seen);
	p->guard->nta_bad_seen = total;
}

bool guard_is_target(const struct proxy *p, const url_t *u)
{
	if (!p->guard || !u || !u->url_host)
		return false;
	if (u->url_type != url_sip && u->url_type != url_sips)
		return false;
	unsigned port = url_port_num(u);
	for (size_t i = 0; i < p->guard->n_targets; i++)
		if (p->guard->targets[i].port == port &&
		    strcasecmp(p->guard->targets[i].host, u->url_host) == 0)
			return true;
	return false;
}

const sip_route_t *guard_next_route(const struct proxy *p, const sip_t *sip)
{
	const sip_route_t *rt = sip->sip_route;

	while (rt && proxy_url_is_self(p, rt->r_url))
		rt = rt->r_next;
	return rt;
}

bool guard_relay_refused(struct proxy *p, const sip_t *sip, bool in_dialog)
{
	const sip_route_t *rt;
	bool refused;

	if (in_dialog) {
		refused = sip->sip_route && !proxy_url_is_self(p, sip->sip_route->r_url);
	} else {
		rt = guard_next_route(p, sip);
		refused = rt && !guard_is_target(p, rt->r_url);
	}
	if (refused)
		guard_count(p, SIP_BAD_RELAY);
	return refused;
}

static int own_leg_request(struct proxy *p, nta_leg_t *leg, nta_incoming_t *irq,
			   const sip_t *sip)
{
	return 403;
}

nta_leg_t *guard_own_leg_create(struct proxy *p)
{
	return nta_leg_tcreate(p->agent, own_leg_request, p, NTATAG_NO_DIALOG(1),
			       URLTAG_URL("sip:rm-own-requests.invalid"),
			       NTATAG_METHOD("X-RM-NEVER"), TAG_END());
}

/* The source of msg as family + bytes + port; false if nta gave none. */
static bool source_of(msg_t *msg, int *family, uint8_t addr[16], uint16_t *port,
		      bool *stream)
{
	su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;

	if (!ai || !ai->ai_addr)
		return false;
	memset(addr, 0, 16);
	*stream = ai->ai_protocol == IPPROTO_TCP || ai->ai_socktype == SOCK_STREAM;
	if (ai->ai_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ai->ai_addr;
		memcpy(addr, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
	} else if (ai->ai_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ai->ai_addr;
		memcpy(addr, &sin6->sin6_addr, 16);
		*port = ntohs(sin6->sin6_port);
	} else {
		return false;
	}
	*family = ai->ai_family;
	return true;
}

/* One host shared by an MCP and a SIP Server, reached over TCP from an ephemeral
 * port: a Via naming that same address and an MCP's port says it is the MCP. Via
 * cannot make an untrusted source trusted, nor another host an MCP. */
static bool via_breaks_tie(const struct sip_guard *g, const sip_via_t *v, int family,
			   const uint8_t *addr)
{
	uint8_t vaddr[16] = { 0 };
	int vf = 0;
	char host[64];

	if (!v || !v->v_host || strlen(v->v_host) >= sizeof host)
		return false;
	snprintf(host, sizeof host, "%s", v->v_host);
	if (inet_pton(AF_INET, host, vaddr) == 1)
		vf = AF_INET;
	else if (inet_pton(AF_INET6, host, vaddr) == 1)
		vf = AF_INET6;
	if (vf != family || memcmp(vaddr, addr, family == AF_INET ? 4 : 16) != 0)
		return false;
	unsigned long port = v->v_port ? strtoul(v->v_port, NULL, 10) : 5060;
	return port <= 65535 && sip_trust_mcp_port(&g->trust, family, addr, (uint16_t)port);
}

/* Answer irq `status` (Unsupported for 420) unless it is an ACK; irq destroyed. */
static void answer(nta_incoming_t *irq, const sip_t *sip, const struct sip_verdict *v)
{
	bool ack = sip && sip->sip_request && sip->sip_request->rq_method == sip_method_ack;

	if (!ack) {
		if (v->status == 420)
			nta_incoming_treply(irq, 420, "Bad Extension",
					    SIPTAG_UNSUPPORTED_STR(v->unsupported), TAG_END());
		else
			nta_incoming_treply(irq, v->status, sip_status_phrase(v->status),
					    TAG_END());
	}
	nta_incoming_destroy(irq);
}

bool guard_accept(struct proxy *p, nta_agent_t *agent, msg_t *msg, sip_t *sip,
		  enum sip_origin *origin)
{
	struct sip_guard *g = p->guard;
	int family = 0;
	uint8_t addr[16];
	uint16_t port = 0;
	bool stream = false;

	if (!sip || !sip->sip_request) {
		/* a response to no transaction of ours, or nothing parseable */
		nta_msg_discard(agent, msg);
		return false;
	}
	*origin = source_of(msg, &family, addr, &port, &stream)
			  ? sip_trust_classify(&g->trust, family, addr, port)
			  : SIP_ORIGIN_NONE;
	if (*origin == SIP_ORIGIN_NONE) {
		guard_count(p, SIP_BAD_UNTRUSTED);
		if (g->drop_untrusted || sip->sip_request->rq_method == sip_method_ack)
			nta_msg_discard(agent, msg);
		else
			nta_msg_treply(agent, msg, SIP_403_FORBIDDEN, TAG_END());
		return false;
	}
	if (*origin == SIP_ORIGIN_CALLER && stream &&
	    via_breaks_tie(g, sip->sip_via, family, addr))
		*origin = SIP_ORIGIN_MCP;
	/* overload: new INVITEs shed statelessly, before any transaction exists */
	if (*origin != SIP_ORIGIN_MCP && proxy_overload_gate(p, agent, msg, sip))
		return false;
	return true;
}

bool guard_admit(struct proxy *p, nta_incoming_t *irq, const sip_t *sip, int *status)
{
	msg_t *msg = nta_incoming_getrequest(irq);
	unsigned flags = msg ? msg_get_flags(msg, ~0u) : 0;
	struct sip_verdict v;

	msg_destroy(msg);
	*status = 0;
	if (!sip_check_request(sip, flags, &v)) {
		guard_count(p, v.reason);
		log_debug("request refused %d (%s)", v.status, sip_bad_name(v.reason));
		answer(irq, sip, &v);
		return false;
	}
	return true;
}

/* "<sip:host:port[;transport=tcp];lr>" as a Record-Route in home. */
static sip_record_route_t *rr_make(struct proxy *p, su_home_t *home, bool tcp)
{
	char name[RM_HOST_MAX + 48];

	snprintf(name, sizeof name, "<sip:%s:%s%s;lr>", p->self_host, p->self_port,
		 tcp ? ";transport=tcp" : "");
	return sip_record_route_make(home, name);
}

/* The transport a next hop will be reached on: its ;transport= parameter, else
 * UDP when rm has it (nta's default), else TCP. */
static bool next_is_tcp(const struct sip_guard *g, const url_t *next)
{
	char tp[16];

	if (next && next->url_params &&
	    url_param(next->url_params, "transport", tp, sizeof tp) > 0)
		return strcasecmp(tp, "tcp") == 0;
	return !g->udp;
}

bool guard_next_is_tcp(const struct proxy *p, const url_t *next)
{
	return next_is_tcp(p->guard, next);
}

bool guard_source_trusted(struct proxy *p, msg_t *msg)
{
	int family = 0;
	uint8_t addr[16];
	uint16_t port = 0;
	bool stream = false;

	return source_of(msg, &family, addr, &port, &stream) &&
	       sip_trust_classify(&p->guard->trust, family, addr, port) != SIP_ORIGIN_NONE;
}

bool guard_msg_stream(msg_t *msg)
{
	int family = 0;
	uint8_t addr[16];
	uint16_t port = 0;
	bool stream = false;

	return source_of(msg, &family, addr, &port, &stream) && stream;
}

int guard_record_route(struct proxy *p, msg_t *req, const url_t *next, msg_t *msg,
		       sip_t *sip)
{
	su_home_t *home = msg_home(msg);
	int family;
	uint8_t addr[16];
	uint16_t port;
	bool in_tcp = false;
	bool out_tcp = next_is_tcp(p->guard, next);

	if (!source_of(req, &family, addr, &port, &in_tcp))
		in_tcp = !p->guard->udp;
	sip_record_route_t *in = rr_make(p, home, in_tcp);
	if (!in || msg_header_insert(msg, (msg_pub_t *)sip, (msg_header_t *)in) < 0)
		return -1;
	if (in_tcp == out_tcp)
		return 0;
	/* RFC 5658: the entry on top faces the next hop, the one below the sender */
	sip_record_route_t *out = rr_make(p, home, out_tcp);
	if (!out || msg_header_insert(msg, (msg_pub_t *)sip, (msg_header_t *)out) < 0)
		return -1;
	return 0;
}
