/*
 * rt_http: the real-time part of the /ems-rs API on rs's HTTP port (common/ev/httpd):
 *   GET /ems-rs/RT/tenants/usage      usage per tenant (rt_format.h); tenant-id=NAME
 *                                     narrows to one tenant
 *   GET /ems-rs/RT/components/usage   usage per MCP and per rm node (admin only: the
 *                                     components serve every tenant)
 *   GET /ems-rs/RT/stream             Server-Sent Events of both (rt_stream.h)
 * JSON by default; CSV or XML by format=json|csv|xml or the Accept header. Every one
 * checks api_auth first (401/403 as api_auth.h says); an unknown format is 400 naming
 * the parameter.
 *
 * Routes are exact paths: register them BEFORE any "/ems-rs/" prefix route (the
 * reports), since httpd's first matching route wins.
 */
#ifndef RS_RT_HTTP_H
#define RS_RT_HTTP_H

#include <event2/event.h>

#include "api_auth.h"
#include "httpd.h"
#include "rt.h"

typedef struct rt_http rt_http_t;

/* Owns neither r nor auth. NULL on out of memory. */
rt_http_t *rt_http_new(struct event_base *base, rt_t *r, const api_auth_t *auth,
		       const rs_config_t *cfg);
/* Add the three routes to h. 0, or -1 when h has no room for them. */
int rt_http_register(rt_http_t *x, httpd_t *h);
void rt_http_free(rt_http_t *x); /* closes the stream's subscribers; NULL is allowed */

#endif
