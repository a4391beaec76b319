/* rt_http: /ems-rs/RT/... endpoints. See rt_http.h. */
#include "rt_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "rt_format.h"
#include "rt_stream.h"
#include "rt_tz.h"
#include "util.h"

struct rt_http {
	rt_t *rt;
	const api_auth_t *auth;
	rt_stream_t *stream;
};

rt_http_t *rt_http_new(struct event_base *base, rt_t *r, const api_auth_t *auth,
		       const rs_config_t *cfg)
{
	rt_http_t *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->rt = r;
	x->auth = auth;
	if (!(x->stream = rt_stream_new(base, r, (size_t)cfg->api_stream_max))) {
		free(x);
		return NULL;
	}
	return x;
}

void rt_http_free(rt_http_t *x)
{
	if (!x)
		return;
	rt_stream_free(x->stream);
	free(x);
}

static void bad_param(struct evhttp_request *req, const char *name, const char *why)
{
	char body[256];
	int n = snprintf(body, sizeof body, "{\"error\":\"parameter '%s': %s\"}\n", name, why);
	httpd_reply(req, 400, "Bad Request", "application/json", body, (size_t)n);
}

/* The tenant scope of req (after auth), its format and its time zone; false when an
 * answer was already sent (401, 403, 400). `tenant` gets the tenant to show ("" =
 * all); *zone the zone of tz= (NULL: UTC), which the caller frees (tz_free). */
static bool prepare(rt_http_t *x, struct evhttp_request *req, char *tenant, size_t tlen,
		    enum rt_fmt *fmt, char *scope, tz_t **zone)
{
	const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct evkeyvalq params = { 0 };
	bool ok = false;

	if (!api_auth(x->auth, req, scope, 64))
		return false;
	if (q && evhttp_parse_query_str(q, &params)) {
		bad_param(req, "(query)", "not a valid query string");
		return false;
	}
	const char *f = evhttp_find_header(&params, "format");
	const char *t = evhttp_find_header(&params, "tenant-id");
	const char *z = evhttp_find_header(&params, "tz");
	char zerr[192];
	*zone = NULL;
	if (z && (!tz_name_ok(z) || !(*zone = tz_load(z, zerr, sizeof zerr)))) {
		bad_param(req, "tz", "expected an IANA time zone name such as Europe/Paris");
	} else if (rt_format_pick(f, evhttp_find_header(evhttp_request_get_input_headers(req),
						 "Accept"), fmt)) {
		bad_param(req, "format", "expected json, csv or xml");
	} else if (t && !api_auth_sees(scope, t)) {
		api_auth_forbid(req, scope);
	} else {
		snprintf(tenant, tlen, "%s", t ? t : scope);
		ok = true;
	}
	if (!ok) {
		tz_free(*zone);
		*zone = NULL;
	}
	evhttp_clear_headers(&params);
	return ok;
}

static void reply_body(struct evhttp_request *req, enum rt_fmt f, char *body, size_t len)
{
	if (!body) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	httpd_reply(req, 200, "OK", rt_format_ctype(f), body, len);
	free(body);
}

static void tenants_usage(struct evhttp_request *req, const char *path, void *arg)
{
	rt_http_t *x = arg;
	char tenant[64], scope[64];
	enum rt_fmt f;
	rt_stat_t *v;
	size_t len = 0;
	tz_t *zone;
	int64_t now = util_now_ms();

	if (!prepare(x, req, tenant, sizeof tenant, &f, scope, &zone))
		return;
	rt_window_t w = rt_tz_window(zone, now);
	tz_free(zone);
	size_t n = rt_usage_snapshot(rt_usage(x->rt), RT_TENANT, tenant[0] ? tenant : NULL,
				     now, &w, &v);
	if (n == (size_t)-1) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	char *body = rt_format_tenants(v, n, f, &len);
	reply_body(req, f, body, len);
	free(v);
}

static void components_usage(struct evhttp_request *req, const char *path, void *arg)
{
	rt_http_t *x = arg;
	char tenant[64], scope[64];
	enum rt_fmt f;
	rt_stat_t *v = NULL, *w = NULL, *all = NULL;
	size_t len = 0, n, m = (size_t)-1;
	int64_t now = util_now_ms();
	tz_t *zone;

	if (!prepare(x, req, tenant, sizeof tenant, &f, scope, &zone))
		return;
	rt_window_t win = rt_tz_window(zone, now);
	tz_free(zone);
	if (scope[0]) {
		api_auth_forbid(req, scope); /* components serve every tenant */
		return;
	}
	n = rt_usage_snapshot(rt_usage(x->rt), RT_MCP, NULL, now, &win, &v);
	if (n != (size_t)-1)
		m = rt_usage_snapshot(rt_usage(x->rt), RT_RM, NULL, now, &win, &w);
	if (m != (size_t)-1 && (all = malloc((n + m + 1) * sizeof(*all)))) {
		memcpy(all, v, n * sizeof(*v));
		memcpy(all + n, w, m * sizeof(*w));
		char *body = rt_format_components(all, n + m, f, &len);
		reply_body(req, f, body, len);
	} else {
		evhttp_send_error(req, 500, "out of memory");
	}
	free(all);
	free(v);
	free(w);
}

static void stream(struct evhttp_request *req, const char *path, void *arg)
{
	rt_http_t *x = arg;
	char tenant[64], scope[64];
	enum rt_fmt f;
	tz_t *zone;

	if (!prepare(x, req, tenant, sizeof tenant, &f, scope, &zone))
		return;
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		tz_free(zone);
		httpd_reply(req, 200, "OK", "text/event-stream", "", 0);
		return;
	}
	/* an admin may narrow the stream to one tenant with tenant-id */
	rt_stream_subscribe(x->stream, req, tenant, zone);
}

int rt_http_register(rt_http_t *x, httpd_t *h)
{
	if (httpd_route(h, "/ems-rs/RT/tenants/usage", tenants_usage, x) ||
	    httpd_route(h, "/ems-rs/RT/components/usage", components_usage, x) ||
	    httpd_route(h, "/ems-rs/RT/stream", stream, x))
		return -1;
	return 0;
}
