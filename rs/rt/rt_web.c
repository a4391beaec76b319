/* rt_web: the embedded dashboard. See rt_web.h. */
#include "rt_web.h"

#include <string.h>

#include <event2/http.h>

const struct rt_web_asset *rt_web_find(const char *path)
{
	const char *name = NULL;

	if (!strcmp(path, "/"))
		name = "index.html";
	else if (!strncmp(path, "/ui/", 4) && path[4] && !strchr(path + 4, '/'))
		name = path + 4;
	if (!name)
		return NULL;
	for (const struct rt_web_asset *a = rt_web_assets; a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

static void serve(struct evhttp_request *req, const char *path, void *arg)
{
	const struct rt_web_asset *a = rt_web_find(path);

	if (!a) {
		httpd_reply(req, 404, "Not Found", "text/plain", "not found\n", 10);
		return;
	}
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	/* the page loads only its own files and talks only to this server */
	evhttp_add_header(h, "Content-Security-Policy",
			  "default-src 'self'; img-src 'self' data:;"
			  " style-src 'self' 'unsafe-inline'");
	httpd_reply(req, 200, "OK", a->ctype, (const char *)a->data, a->len);
}

int rt_web_register(httpd_t *h)
{
	return httpd_route(h, "/", serve, NULL) || httpd_route(h, "/ui/", serve, NULL) ? -1 : 0;
}
