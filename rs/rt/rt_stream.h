/*
 * rt_stream: GET /ems-rs/RT/stream, real-time usage as Server-Sent Events
 * (text/event-stream over an evhttp chunked reply).
 *
 * On connect, and after every change (coalesced: at most one update per
 * RT_STREAM_COALESCE_MS), each subscriber gets
 *   event: tenants      data: the /ems-rs/RT/tenants/usage JSON (its tenant only for
 *                       a tenant's token)
 *   event: components   data: the /ems-rs/RT/components/usage JSON (admin only)
 * and a comment line ": heartbeat" every RT_STREAM_HEARTBEAT_S seconds so proxies
 * keep the connection open and a dead peer is found by the write timeout.
 *
 * Bounds: at most `max` subscribers (api.stream_max_subscribers; beyond, 503). Each
 * update is a whole snapshot, so a subscriber still taking the previous one is owed
 * the latest instead of being queued more: rs holds at most one update (and its
 * heartbeat) per subscriber. One whose output has stayed pending for
 * RT_STREAM_STALL_MS, or whose socket accepts nothing for RT_STREAM_WRITE_TIMEOUT_S,
 * is dropped (its connection closed).
 *
 * Threads: the loop's.
 */
#ifndef RS_RT_STREAM_H
#define RS_RT_STREAM_H

#include <stddef.h>

#include <event2/event.h>

#include "rt.h"
#include "tz.h"

#define RT_STREAM_COALESCE_MS 250
#define RT_STREAM_HEARTBEAT_S 15
#define RT_STREAM_STALL_MS 5000
#define RT_STREAM_WRITE_TIMEOUT_S 30

struct evhttp_request;
typedef struct rt_stream rt_stream_t;

/* Observes r (rt_on_change). NULL on out of memory. */
rt_stream_t *rt_stream_new(struct event_base *base, rt_t *r, size_t max);
/* Closes every subscriber. NULL is allowed. */
void rt_stream_free(rt_stream_t *s);

/* Take req as a subscriber limited to tenant scope ("" = admin), its "today" and
 * "this hour" in zone (NULL: UTC; owned from here on, freed with the subscriber):
 * answers 503 itself when full. */
void rt_stream_subscribe(rt_stream_t *s, struct evhttp_request *req, const char *scope,
			 tz_t *zone);

size_t rt_stream_subscribers(const rt_stream_t *s);
/* Subscribers dropped for being slow, since start. */
size_t rt_stream_dropped(const rt_stream_t *s);

#endif
