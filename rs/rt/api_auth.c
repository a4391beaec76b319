/* api_auth: tokens of the /ems-rs API. Rules in api_auth.h. */
#include "api_auth.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "auth_limit.h"
#include "httpd.h"
#include "log.h"
#include "util.h"

struct api_auth {
	const rs_config_t *cfg;
	bool loopback;
	/* mutable state behind the const handles the handlers hold: the loop's thread
	 * only */
	auth_limit_t *limit;
	metric_t *failures, *limited;
};

bool api_auth_loopback(const char *addr)
{
	struct in_addr a;
	struct in6_addr a6;
	char bare[64];
	size_t n = strlen(addr);

	if (!strcmp(addr, "localhost"))
		return true;
	if (inet_pton(AF_INET, addr, &a) == 1)
		return (ntohl(a.s_addr) >> 24) == 127;
	if (n > 2 && n < sizeof bare && addr[0] == '[' && addr[n - 1] == ']')
		snprintf(bare, sizeof bare, "%.*s", (int)(n - 2), addr + 1);
	else
		snprintf(bare, sizeof bare, "%s", addr);
	return inet_pton(AF_INET6, bare, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

api_auth_t *api_auth_new(const rs_config_t *cfg, metrics_t *reg)
{
	api_auth_t *a = calloc(1, sizeof(*a));
	uint64_t seed;

	if (!a)
		return NULL;
	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
		seed = (uint64_t)util_mono_us() ^ (uint64_t)(uintptr_t)a;
	a->cfg = cfg;
	a->loopback = api_auth_loopback(cfg->http_listen);
	if (!(a->limit = auth_limit_new(seed))) {
		free(a);
		return NULL;
	}
	if (reg) {
		a->failures = metrics_counter(reg, "rs_api_auth_failures_total",
					      "API requests refused for a token that matches none",
					      NULL);
		a->limited = metrics_counter(reg, "rs_api_auth_limited_total",
					     "API requests answered 429: their source sent too"
					     " many unknown tokens", NULL);
	}
	return a;
}

void api_auth_free(api_auth_t *a)
{
	if (!a)
		return;
	auth_limit_free(a->limit);
	free(a);
}

/* Equal strings, in time that depends on the lengths only. */
static bool same(const char *x, const char *y)
{
	size_t nx = strlen(x), ny = strlen(y);
	unsigned char d = nx != ny;
	for (size_t i = 0; i < nx; i++)
		d |= (unsigned char)x[i] ^ (unsigned char)y[i % (ny ? ny : 1)];
	return d == 0;
}

int api_auth_lookup(const rs_config_t *cfg, const char *token, char *tenant_out,
		    size_t len)
{
	int found = 0;
	for (int i = 0; i < cfg->api_ntokens; i++)
		if (same(token, cfg->api_tokens[i].token) && !found) {
			found = 1;
			snprintf(tenant_out, len, "%s",
				 strcmp(cfg->api_tokens[i].tenant, "*") ? cfg->api_tokens[i].tenant
									 : "");
		}
	return found;
}

bool api_auth_decide(const rs_config_t *cfg, bool loopback, const char *token,
		     char *tenant_out, size_t len)
{
	tenant_out[0] = 0;
	if (token[0])
		return api_auth_lookup(cfg, token, tenant_out, len) == 1;
	return loopback;
}

bool api_auth_sees(const char *scope, const char *tenant)
{
	return !scope[0] || !strcmp(scope, tenant ? tenant : "");
}

static void unauthorized(struct evhttp_request *req, const char *why)
{
	char body[160];
	int n = snprintf(body, sizeof body, "{\"error\":\"%s\"}\n", why);
	evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
			  "Bearer realm=\"ems-rs\"");
	httpd_reply(req, 401, "Unauthorized", "application/json", body, (size_t)n);
}

void api_auth_forbid(struct evhttp_request *req, const char *scope)
{
	char body[192];
	int n = snprintf(body, sizeof body,
			 "{\"error\":\"this token may only read tenant %.63s\"}\n", scope);
	httpd_reply(req, 403, "Forbidden", "application/json", body, (size_t)n);
}

/* req's source as an auth_limit key; 0 bytes when unknown. */
static size_t source_key(struct evhttp_request *req, unsigned char key[8], char *text,
			 size_t tlen)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	const struct sockaddr *sa = c ? evhttp_connection_get_addr(c) : NULL;
	const void *addr = NULL;

	text[0] = 0;
	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (!addr)
		return 0;
	inet_ntop(sa->sa_family, addr, text, (socklen_t)tlen);
	return auth_limit_key(sa->sa_family, addr, key);
}

static void too_many(struct evhttp_request *req, int64_t ms)
{
	char body[160], after[24];
	long long s = (ms + 999) / 1000;
	int n = snprintf(body, sizeof body,
			 "{\"error\":\"too many unknown tokens from this address: retry in %lld"
			 " s\"}\n", s);
	snprintf(after, sizeof after, "%lld", s);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", after);
	httpd_reply(req, 429, "Too Many Requests", "application/json", body, (size_t)n);
}

bool api_auth(const api_auth_t *a, struct evhttp_request *req, char *tenant_out,
	      size_t len)
{
	unsigned char key[8];
	char src[INET6_ADDRSTRLEN];
	size_t klen;
	int64_t now, ms;
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req),
					   "Authorization");
	const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct evkeyvalq params = { 0 };
	char token[160] = "";
	bool ok = false;

	tenant_out[0] = 0;
	if (h && !strncasecmp(h, "Bearer ", 7)) {
		snprintf(token, sizeof token, "%s", h + 7);
	} else if (q && evhttp_parse_query_str(q, &params) == 0) {
		const char *t = evhttp_find_header(&params, "token");
		if (t)
			snprintf(token, sizeof token, "%s", t);
	}
	evhttp_clear_headers(&params);
	if (token[0]) { /* only a token can be a guess */
		klen = source_key(req, key, src, sizeof src);
		now = util_now_ms();
		if ((ms = auth_limit_blocked(a->limit, key, klen, now)) > 0) {
			metric_inc(a->limited);
			too_many(req, ms);
			return false;
		}
		ok = api_auth_decide(a->cfg, a->loopback, token, tenant_out, len);
		if (!ok) {
			metric_inc(a->failures);
			if (auth_limit_fail(a->limit, key, klen, now) > 0)
				log_warn("api: %s sent %d unknown tokens within %lld s: refused"
					 " (429) for %lld s", src, AUTH_LIMIT_FAILURES,
					 AUTH_LIMIT_WINDOW_MS / 1000, AUTH_LIMIT_BLOCK_MS / 1000);
		}
	} else {
		ok = api_auth_decide(a->cfg, a->loopback, token, tenant_out, len);
	}
	if (!ok)
		unauthorized(req, token[0] ? "unknown token"
				  : "a token is required (Authorization: Bearer TOKEN or"
				    " token=TOKEN)");
	return ok;
}
