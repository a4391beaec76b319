/*
 * server: rs's STOMP 1.2 listener on the libevent loop.
 *
 * Accepts CONNECT/STOMP (version 1.2, optional login/passcode, heart-beats), SEND to
 * /queue/gvp.cdr (record_decode), /queue/gvp.events and /queue/gvp.metrics
 * (record_check_envelope), DISCONNECT (its RECEIPT follows every earlier record's).
 * Accepted records go to the writer; their RECEIPTs are written when the writer hands
 * them back durable (server_on_done). A refused record or a protocol error gets an
 * ERROR frame, sent after the receipts of the connection's earlier records, and the
 * connection is closed. Connections stop being read while too many of their (or all)
 * records wait for the writer.
 *
 * Edges: at most stomp.max_connections connections (and
 * stomp.max_connections_per_source from one address), beyond them ERROR and close,
 * logged once a second at most; a connection that has not sent CONNECT within
 * stomp.connect_timeout_ms is closed; accept() failing (EMFILE) pauses the listener
 * with backoff (accept_pause.h). After CONNECT, silence is only an error when the
 * negotiated heart-beat asks the peer for beats (heart-beat:0,0 never times out).
 *
 * All functions run on the loop thread.
 */
#ifndef RS_SERVER_H
#define RS_SERVER_H

#include <stddef.h>

#include <event2/event.h>

#include "config.h"
#include "rs_metrics.h"
#include "writer.h"

typedef struct rs_server rs_server_t;

/* Bind the listener. NULL with err (e.g. the port is taken). */
rs_server_t *server_new(struct event_base *base, const rs_config_t *cfg,
			rs_writer_t *writer, rs_metrics_t *m, char *err, size_t errlen);
/* After the loop handed the writer's finished items to their on_done callbacks
 * (RECEIPTs are sent there): resume readers paused for backpressure. */
void server_on_done(rs_server_t *s);
/* SIGTERM step 1: stop accepting connections and reading frames. */
void server_quiesce(rs_server_t *s);
/* SIGTERM step 2 (after the writer finished): close every connection once its
 * output is flushed. */
void server_close_all(rs_server_t *s);
size_t server_connections(const rs_server_t *s);
void server_free(rs_server_t *s);

#endif
