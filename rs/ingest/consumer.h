/*
 * consumer: rs as a STOMP 1.2 client of an external broker (broker.mode consume), on
 * the libevent loop.
 *
 * One session at a time to one of broker.endpoints (tried in order: the first that
 * answers; after losing an established session the first endpoint is tried again).
 * After CONNECTED it SUBSCRIBEs to each configured destination with
 * ack:client-individual and activemq.prefetchSize. Each MESSAGE goes through the
 * same intake as a SEND to the listener and then to the writer; the ACK (id = the
 * MESSAGE's ack header) is sent only when the writer hands the item back durable
 * (committed, or journaled while the database is down). A record that fails
 * validation is NACKed (the broker's redelivery policy then dead-letters it) and
 * counted as rejected. Messages whose session dies before their ACK are simply not
 * acknowledged: the broker redelivers them, to this rs or another, and the store
 * drops the duplicate by id.
 *
 * Reconnect: a failed attempt moves to the next endpoint; after a full round the
 * delay doubles from broker.reconnect_min_ms up to reconnect_max_ms (with jitter).
 * All functions run on the loop thread.
 */
#ifndef RS_CONSUMER_H
#define RS_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#include "config.h"
#include "rs_metrics.h"
#include "writer.h"

typedef struct rs_consumer rs_consumer_t;

/* Create and start connecting (the first attempt runs from the loop). NULL with err
 * on out of memory. */
rs_consumer_t *consumer_new(struct event_base *base, const rs_config_t *cfg,
			    rs_writer_t *writer, rs_metrics_t *m, char *err, size_t errlen);
/* After the writer's finished items were dispatched: resume a paused reader. */
void consumer_on_done(rs_consumer_t *c);
/* SIGTERM step 1: read nothing more, stop reconnecting. Unread messages stay
 * unacknowledged and go back to the broker when the session ends. */
void consumer_quiesce(rs_consumer_t *c);
/* SIGTERM step 2 (writer finished, every ACK queued): DISCONNECT and close. */
void consumer_close(rs_consumer_t *c);
/* True when no session is open. */
bool consumer_closed(const rs_consumer_t *c);
void consumer_free(rs_consumer_t *c);

#endif
