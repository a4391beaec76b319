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
 * still has room (README: ready when the database is reachable or the journal has
 * room). The reason says which, and why the database counts as down. */
static bool ready(void *arg, char *why, size_t len)
{
	rs_http_t *h = arg;
	int db = writer_db_up(h->writer), full = writer_journal_full(h->writer);
	char last[160];

	if (db) {
		snprintf(why, len, "database reachable, journal %s", full ? "full" : "has room");
		return true;
	}
	writer_last_error(h->writer, last, sizeof(last));
	/* The verdict first: httpd's buffer is short and may cut the error. */
	if (full)
		snprintf(why, len, "database unreachable and journal full: records are"
			 " refused (%s)", last);
	else
		snprintf(why, len, "database unreachable, journal has room: records go to"
			 " the journal (%s)", last);
	return !full;
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
	httpd_set_max_connections(h->httpd, (size_t)cfg->http_max_connections);
	return h;
}

void http_free(rs_http_t *h)
{
	if (!h)
		return;
	httpd_stop(h->httpd);
	free(h);
}

httpd_t *http_server(rs_http_t *h)
{
	return h->httpd;
}
