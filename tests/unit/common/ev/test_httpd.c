/* Unit tests for common/ev/httpd.c's routes on a real loopback listener: exact and
 * prefix routes, the query cut off before matching, first match wins, the built-in
 * paths kept, 404 for the rest, 405 before any route, and the route table's cap. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "httpd.h"
#include "metrics.h"

struct got {
	int code;
	char body[256];
	struct event_base *base;
};

static bool ready(void *arg, char *why, size_t len)
{
	snprintf(why, len, "fine");
	return true;
}

/* A route that answers "<tag> <path>". */
static void echo(struct evhttp_request *req, const char *path, void *arg)
{
	char body[200];
	int n = snprintf(body, sizeof body, "%s %s", (const char *)arg, path);
	httpd_reply(req, 200, "OK", "text/plain", body, (size_t)n);
}

static void on_done(struct evhttp_request *req, void *arg)
{
	struct got *g = arg;
	g->code = req ? evhttp_request_get_response_code(req) : -1;
	if (req) {
		struct evbuffer *b = evhttp_request_get_input_buffer(req);
		size_t n = evbuffer_get_length(b);
		n = n < sizeof g->body - 1 ? n : sizeof g->body - 1;
		evbuffer_remove(b, g->body, n);
		g->body[n] = '\0';
	}
	event_base_loopbreak(g->base);
}

/* One request on its own connection; runs the loop until the answer. */
static struct got ask(struct event_base *base, int port, enum evhttp_cmd_type cmd,
		      const char *uri)
{
	struct got g = { .base = base };
	struct evhttp_connection *c = evhttp_connection_base_new(base, NULL, "127.0.0.1",
								 (unsigned short)port);
	assert_non_null(c);
	struct evhttp_request *req = evhttp_request_new(on_done, &g);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "127.0.0.1");
	assert_int_equal(evhttp_make_request(c, req, cmd, uri), 0);
	event_base_dispatch(base);
	evhttp_connection_free(c);
	return g;
}

static httpd_t *start(struct event_base *base, metrics_t *m, int *port)
{
	char err[200];
	for (int i = 0; i < 50; i++) {
		*port = 20000 + (int)(random() % 40000);
		httpd_t *h = httpd_start(base, "127.0.0.1", *port, m, ready, NULL, err,
					 sizeof err);
		if (h)
			return h;
	}
	fail_msg("httpd_start: %s", err);
	return NULL;
}

static void test_routes(void **state)
{
	struct event_base *base = event_base_new();
	metrics_t *m = metrics_new();
	int port;
	httpd_t *h = start(base, m, &port);

	assert_int_equal(httpd_route(h, "/cluster", echo, "exact"), 0);
	assert_int_equal(httpd_route(h, "/ems-rs/", echo, "prefix"), 0);
	assert_int_equal(httpd_route(h, "/ems-rs/RT/", echo, "shadowed"), 0);
	assert_int_equal(httpd_route(h, "/healthz", echo, "stolen"), 0);

	struct got g = ask(base, port, EVHTTP_REQ_GET, "/cluster");
	assert_int_equal(g.code, 200);
	assert_string_equal(g.body, "exact /cluster");
	g = ask(base, port, EVHTTP_REQ_GET, "/cluster?x=1");
	assert_string_equal(g.body, "exact /cluster");
	g = ask(base, port, EVHTTP_REQ_GET, "/clusterx");
	assert_int_equal(g.code, 404);
	g = ask(base, port, EVHTTP_REQ_GET, "/cluster/");
	assert_int_equal(g.code, 404);
	/* a prefix takes everything under it; the first route that matches wins */
	g = ask(base, port, EVHTTP_REQ_GET, "/ems-rs/RT/tenants/usage?format=csv");
	assert_int_equal(g.code, 200);
	assert_string_equal(g.body, "prefix /ems-rs/RT/tenants/usage");
	g = ask(base, port, EVHTTP_REQ_GET, "/ems-rs");
	assert_int_equal(g.code, 404);
	/* the built-in paths cannot be taken */
	g = ask(base, port, EVHTTP_REQ_GET, "/healthz");
	assert_int_equal(g.code, 200);
	assert_string_equal(g.body, "ok\n");
	/* method check comes before the routes */
	g = ask(base, port, EVHTTP_REQ_POST, "/cluster");
	assert_int_equal(g.code, 405);

	httpd_stop(h);
	metrics_free(m);
	event_base_free(base);
}

static void test_route_cap(void **state)
{
	struct event_base *base = event_base_new();
	metrics_t *m = metrics_new();
	int port;
	httpd_t *h = start(base, m, &port);
	for (int i = 0; i < HTTPD_MAX_ROUTES; i++) {
		char p[32];
		snprintf(p, sizeof p, "/r%d", i);
		assert_int_equal(httpd_route(h, p, echo, "r"), 0);
	}
	assert_int_equal(httpd_route(h, "/one-too-many", echo, "r"), -1);
	struct got g = ask(base, port, EVHTTP_REQ_GET, "/r15");
	assert_string_equal(g.body, "r /r15");
	httpd_stop(h);
	metrics_free(m);
	event_base_free(base);
}

int main(void)
{
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_route_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
