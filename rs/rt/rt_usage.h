/*
 * rt_usage: real-time usage per tenant and per component (each MCP, each rm node),
 * kept in memory from the call events rm sends to /queue/gvp.events (call.start,
 * call.answer, call.end: rm/billing/cdr.h) and, as a fallback for the end of a call
 * whose call.end was lost, from its CDR. Pure: no sockets, no clock reads, no
 * libevent; the caller passes `now_ms` (UTC ms) to every call.
 *
 * A call is identified by (node, call_id, start_ms): events and the CDR of one call
 * carry the same three. The first observation of a call (any event or its CDR) is its
 * arrival; it is in progress until an observation that ends it (call.end or the CDR).
 * Every later observation of the same call changes nothing except, once, the MCP it
 * reached (call.start is sent before rm picks an MCP: a call counts for an MCP from
 * the first event or CDR that names it). So a duplicate (the same event id, or the
 * same call's event from a replay) changes nothing.
 *
 * Numbers, for each tenant / MCP / rm node ("entity"):
 *   in_progress          calls seen arriving and not yet ended
 *   arrivals_this_hour   calls whose start_ms falls in the current hour
 *   arrivals_today       calls whose start_ms falls in the current day
 *   peak_today           highest in_progress reached today (at the day's start it
 *                        starts from the calls then in progress), and peak_today_at
 *                        the start_ms of the call that reached it (>= the day's start)
 * "Today" and "this hour" are a window the caller gives (rt_window_t: the day's and
 * the hour's start as UTC instants, e.g. a tenant's midnight from its time zone;
 * rt_tz.h), UTC by default. To answer for any zone, each entity keeps its last
 * RT_SLOTS slots of RT_SLOT_MS (26 h: the longest local day plus an hour), each with
 * the arrivals that started in it and the highest in_progress while it ran; every
 * zone's midnight and hour fall on a slot edge (offsets are whole quarter hours).
 * A slot belongs to the clock: the latest now_ms fed (never going back), so that fed
 * in time order with now_ms the event's time (the rebuild at start, rt_load.h) the
 * peak of every slot is exact; live, now_ms is the time of arrival. A call that
 * starts in an earlier slot than the clock's (late) raises the peak of every slot
 * from its start's to now's.
 *
 * Memory: an ended call is forgotten RT_KEEP_ENDED_MS after it ended (a duplicate
 * arriving later than that counts as a new arrival); a call in progress for longer
 * than RT_MAX_CALL_MS is taken as ended (its call.end and CDR were lost); both when
 * rt_usage_tick's sweep passes it. Calls are in a hash table; entities in arrays
 * (tenants and components are few: 1.3 KB each for the slots). Cost, measured: about
 * 1 us per CDR and 2-3 us per event (the JSON parse) on the caller's thread, ~100
 * bytes per remembered call.
 *
 * Threads: none of its own; one thread at a time (rs's loop).
 */
#ifndef RS_RT_USAGE_H
#define RS_RT_USAGE_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define RT_KEEP_ENDED_MS (60LL * 60 * 1000)
#define RT_MAX_CALL_MS (24LL * 60 * 60 * 1000)
#define RT_DAY_MS (24LL * 60 * 60 * 1000)
#define RT_HOUR_MS (60LL * 60 * 1000)
#define RT_SLOT_MS (15LL * 60 * 1000)
#define RT_SLOTS 104 /* 26 h */

typedef struct rt_usage rt_usage_t;

enum rt_scope { RT_TENANT = 0, RT_MCP = 1, RT_RM = 2 };

/* One entity's numbers, as rt_usage_snapshot returns them. */
typedef struct rt_stat {
	enum rt_scope scope;
	const char *name; /* tenant name ("" for calls without one), MCP URI or rm node */
	int64_t in_progress, arrivals_this_hour, arrivals_today, peak_today;
	int64_t peak_today_at; /* UTC ms */
} rt_stat_t;

/* What "today" and "this hour" mean for a snapshot: their starts (UTC ms, multiples
 * of RT_SLOT_MS, at most 25 h before now). */
typedef struct rt_window {
	int64_t day_start, hour_start;
} rt_window_t;

/* The UTC day and hour of now_ms. */
rt_window_t rt_window_utc(int64_t now_ms);

/* NULL on out of memory. rt_usage_free(NULL) is allowed. */
rt_usage_t *rt_usage_new(void);
void rt_usage_free(rt_usage_t *u);

/* Feed one event body (JSON; len bytes, not necessarily NUL-terminated). Returns 1
 * when a number changed, 0 when nothing did (a duplicate, a type other than
 * call.start/answer/end), -1 when the body is not such an event (missing node,
 * call_id or start_ms; err says which) or on out of memory. */
int rt_usage_event(rt_usage_t *u, const char *body, size_t len, int64_t now_ms, char *err,
		   size_t errlen);

/* Feed a call's CDR: ends the call (and counts its arrival if no event came). 1
 * changed, 0 not, -1 out of memory. */
int rt_usage_cdr(rt_usage_t *u, const record_t *r, int64_t now_ms);

/* Move the clock to now_ms and forget old calls (see above) in 1/parts of the call
 * table, the next part at each call (parts 1: all of it), so that a periodic tick
 * never walks a large table at once. 1 when a number shown may have changed (a new
 * slot, a stale call dropped), else 0. */
int rt_usage_tick(rt_usage_t *u, int64_t now_ms, unsigned parts);

/* The entities of one scope, sorted by name, as of now_ms, today and this hour as win
 * says (NULL: UTC); when only is not NULL, only the entity of that name (for a
 * tenant's token). *out is a new array the caller frees (free()); names point into u
 * and stay valid until the next feed or tick. Returns the count, or (size_t)-1 on
 * out of memory. */
size_t rt_usage_snapshot(rt_usage_t *u, enum rt_scope scope, const char *only,
			 int64_t now_ms, const rt_window_t *win, rt_stat_t **out);

/* Calls currently remembered (in progress or recently ended). */
size_t rt_usage_calls(const rt_usage_t *u);

#endif
