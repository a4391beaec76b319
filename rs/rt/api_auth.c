/* api_auth: tokens of the /ems-rs API. Rules in api_auth.h. */
#include "api_auth.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "httpd.h"

struct api_auth {
	const rs_config_t *cfg;
	bool loopback;
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

api_auth_t *api_auth_new(const rs_config_t *cfg)
{
	api_auth_t *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->cfg = cfg;
	a->loopback = api_auth_loopback(cfg->http_listen);
	return a;
}

void api_auth_free(api_auth_t *a)
{
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

bool api_auth(const api_auth_t *a, struct evhttp_request *req, char *tenant_out,
	      size_t len)
{
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
	ok = api_auth_decide(a->cfg, a->loopback, token, tenant_out, len);
	if (!ok)
		unauthorized(req, token[0] ? "unknown token"
				  : "a token is required (Authorization: Bearer TOKEN or"
				    " token=TOKEN)");
	return ok;
}
