/* http: rs's readiness on top of common/httpd (see http.h). */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>

#include "httpd.h"

struct rs_http {
	httpd_t *httpd;
	rs_writer_t *writer;
};

/* Ready while records can be made durable: the database answers, or the journal
 * still has room. */
static bool ready(void *arg, char *why, size_t len)
{
	rs_http_t *h = arg;
	int db = writer_db_up(h->writer), full = writer_journal_full(h->writer);

	snprintf(why, len, "database %s, journal %s", db ? "reachable" : "unreachable",
		 full ? "full" : "has room");
	return db || !full;
}

rs_http_t *http_new(struct event_base *base, const rs_config_t *cfg, rs_writer_t *w,
		    rs_metrics_t *m, char *err, size_t errlen)
{
	rs_http_t *h = calloc(1, sizeof(*h));
	char why[200];

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->writer = w;
	h->httpd = httpd_start(base, cfg->http_listen, cfg->http_port, m->reg, ready, h, why,
			       sizeof why);
	if (!h->httpd) {
		snprintf(err, errlen, "http: %s", why);
		free(h);
		return NULL;
	}
	return h;
}

void http_free(rs_http_t *h)
{
	if (!h)
		return;
	httpd_stop(h->httpd);
	free(h);
}
