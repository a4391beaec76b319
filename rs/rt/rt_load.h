/*
 * rt_load: rebuild real-time usage at rs's start from what the database holds, so a
 * restart loses nothing of today's numbers: the call events received in the last
 * RT_MAX_CALL_MS + 1 h and the CDRs of calls that started in that window, as one
 * stream in time order (an event at its ts_ms; a CDR at its end_ms, where it ends its
 * call as the live fallback does). Fed in time order, the peak is the exact peak of
 * the stored records.
 *
 * The journal counts as stored: records receipted into rs's journal while the
 * database was down, and still there at the start, are read from it (journal_walk)
 * before the database is queried, and merged into the stream by time. The writer
 * replays them into the database without passing the real-time feed, so without
 * this they would be missing until the next restart. Why not replay the journal
 * before the rebuild instead: the database may still be down at the start, and the
 * rebuild would then wait for it; read here, they count at once. An entry both in
 * the journal and the database (replayed, not yet cut) is fed twice, which changes
 * nothing (rt_usage.h). The journal's records are held in memory for the merge (at
 * most 256 MiB; more fails the rebuild, logged).
 *
 * Opens its own connection (SQLite read-only, or PostgreSQL with the writer's
 * timeouts: pg_params.h) and closes it before returning; runs once, on the main
 * thread of its own (rt.h) while the loop and the writer run. A database that cannot be read (PostgreSQL down at
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
