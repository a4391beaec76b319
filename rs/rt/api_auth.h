/*
 * api_auth: who may read the /ems-rs API (and the stream). Every /ems-rs handler,
 * real-time (rt_http.c) and historical (rs/report), calls api_auth() first:
 *
 *   char tenant[64];
 *   if (!api_auth(auth, req, tenant, sizeof tenant))
 *           return;                      (401 already sent)
 *   tenant[0] == 0: admin, every tenant; else only that tenant's rows: a request
 *   for another tenant gets api_auth_forbid(req) (403).
 *
 * Credentials: "Authorization: Bearer TOKEN", or the query parameter token=TOKEN
 * (for EventSource and download links, which cannot set headers). Tokens come from
 * config api.tokens or env RS_API_TOKENS (config.h): tenant "*" is an admin token.
 * No credentials: allowed as admin only while rs's HTTP listens on a loopback
 * address (127/8, ::1, localhost); otherwise 401. A token that matches none is 401
 * everywhere. Tokens are compared in constant time.
 *
 * Guessing: a source that sent AUTH_LIMIT_FAILURES unknown tokens within a minute
 * gets 429 with Retry-After for every request with a token for a minute
 * (auth_limit.h); counted in rs_api_auth_failures_total and rs_api_auth_limited_total.
 */
#ifndef RS_API_AUTH_H
#define RS_API_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "metrics.h"

struct evhttp_request;
typedef struct api_auth api_auth_t;

/* Keeps a pointer to cfg's tokens (cfg must outlive it); registers its counters on reg
 * (NULL: none). NULL on out of memory. */
api_auth_t *api_auth_new(const rs_config_t *cfg, metrics_t *reg);
void api_auth_free(api_auth_t *a); /* NULL is allowed */

/* Check req. true: allowed, tenant_out (len >= 64) is "" for admin or the one tenant
 * the caller may see. false: a 401 (or 429, see above) was sent on req (the handler
 * returns at once). Loop thread only. */
bool api_auth(const api_auth_t *a, struct evhttp_request *req, char *tenant_out,
	      size_t len);

/* May a caller limited to `scope` ("" = admin) see `tenant`? */
bool api_auth_sees(const char *scope, const char *tenant);

/* Answer 403 "this token may only read tenant X" (scope is the caller's tenant). */
void api_auth_forbid(struct evhttp_request *req, const char *scope);

/* Pure parts, for tests. Is addr (http.listen) a loopback address? */
bool api_auth_loopback(const char *addr);
/* The scope of token among cfg's tokens: 1 found (tenant_out "" admin or the tenant),
 * 0 not found. */
int api_auth_lookup(const rs_config_t *cfg, const char *token, char *tenant_out,
		    size_t len);
/* The whole decision for a request that presented token ("" = none) to a server on a
 * loopback address or not: true allowed (tenant_out as api_auth), false refused. */
bool api_auth_decide(const rs_config_t *cfg, bool loopback, const char *token,
		     char *tenant_out, size_t len);

#endif
