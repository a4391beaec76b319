/*
 * http: rs's HTTP endpoints on the loop (libevent evhttp):
 *   /healthz  200 while the process runs its loop
 *   /readyz   200 when the database is reachable or the journal has room, else 503
 *   /metrics  Prometheus text of the rs_ series
 */
#ifndef RS_HTTP_H
#define RS_HTTP_H

#include <stddef.h>

#include <event2/event.h>

#include "config.h"
#include "httpd.h"
#include "rs_metrics.h"
#include "writer.h"

typedef struct rs_http rs_http_t;

/* Bind cfg->http_listen:http_port. NULL with err. */
rs_http_t *http_new(struct event_base *base, const rs_config_t *cfg, rs_writer_t *w,
		    rs_metrics_t *m, char *err, size_t errlen);
void http_free(rs_http_t *h);
/* The server underneath, for routes of rs's other modules (httpd_route). */
httpd_t *http_server(rs_http_t *h);

#endif
