/*
 * rt_load: rebuild real-time usage at rs's start from what the database holds, so a
 * restart loses nothing of today's numbers: the call events received in the last
 * RT_MAX_CALL_MS + 1 h, fed in event-time order (ts_ms), then the CDRs of calls that
 * started in that window (each ends its call, as the live fallback does). Fed in time
 * order, the peak is the exact peak of the stored events.
 *
 * Opens its own connection (SQLite read-only, or PostgreSQL with the writer's
 * timeouts: pg_params.h) and closes it before returning; runs once, on the main
 * thread, before the loop starts. A database that cannot be read (PostgreSQL down at
 * start) is not fatal: the caller logs err and starts from empty numbers.
 */
#ifndef RS_RT_LOAD_H
#define RS_RT_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "rt_usage.h"

/* Feed u from cfg's database as of now_ms. 0 with the counts of rows fed, or -1 with
 * a sentence in err (u then holds what was fed before the failure). */
int rt_load(rt_usage_t *u, const rs_config_t *cfg, int64_t now_ms, size_t *nevents,
	    size_t *ncdrs, char *err, size_t errlen);

#endif
