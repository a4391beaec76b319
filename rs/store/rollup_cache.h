/*
 * rollup_cache: the in-memory half of the rollups (rollup.h says what is kept and why
 * it is exact). Pure: no database handle; the backends feed it what their statements
 * return and write what it answers.
 *
 * rollup_batch: what one batch of new calls adds, merged in memory before any SQL
 * runs: one item per (scope, key, 5-minute bucket) with its sums, and one change
 * point per (scope, key, millisecond) with its net delta (net zero dropped: it moves
 * no level). A batch of 4,500 calls of one tenant, profile and dn becomes ~10 item rows
 * instead of ~18,000, and its change points are sorted once in C instead of by SQL.
 *
 * rollup_cache: for recent 5-minute buckets, the bucket's change points inside
 * (B, B+5min), kept sorted, and the arrivals and open_at_start of its rollup_5m row
 * when last seen. Why: a bucket's peak is recomputed whenever a call starts or ends in
 * it, and re-reading its change points per batch from the database (60,000 of them
 * per bucket at 100 calls/s of 30 s) is what made ingest with rollups on 0.21x of
 * ingest without. With the points in memory a batch costs one pass over the touched
 * buckets' points, in memory, and no read.
 *
 * Why the cache is exact. It is only ever used after the batch's own upsert of the
 * bucket's rollup_5m row, which returns the row's arrivals and open_at_start. Every
 * call with a change point inside (B, B+5min) adds to one of them (it starts inside
 * the bucket: an arrival; or it started before B and so is in progress at B:
 * open_at_start), and nothing but retention ever lowers them. So if the row holds
 * exactly what the cache saw plus what this batch added, no other writer (another rs
 * on the same PostgreSQL, or a batch this process rolled back) changed the bucket's
 * change points since, and cache + the batch's points = the database's points. If
 * not, the entry is dropped and the bucket loaded from rollup_cp (after the batch's
 * change points were written, so the load includes them). A restart starts cold: the
 * first batch touching a bucket loads it. On a failed batch the backend clears the
 * whole cache (rollup_cache_clear), since entries may hold points never committed.
 *
 * The same argument says a row holding nothing but this batch's calls (row counters ==
 * the batch's) had no point inside before: its points are the batch's, no read.
 *
 * Bounds: at most ROLLUP_CACHE_POINTS points (8 bytes each) and ROLLUP_CACHE_ENTRIES
 * buckets stay between batches;
 * rollup_cache_end_batch drops the entries the batch did not touch when over, and
 * everything if the batch itself touched more.
 */
#ifndef RS_ROLLUP_CACHE_H
#define RS_ROLLUP_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "rollup.h"

#define ROLLUP_CACHE_POINTS (2u << 20)
#define ROLLUP_CACHE_ENTRIES (1u << 17)

/* A batch's additions, readable after rollup_batch_sort: items sorted by (scope,
 * skey bytewise, bucket_ms), their counters summed over the batch, partial 1 if a call
 * of the batch starts or ends inside the bucket; cps with one run per (scope, skey)
 * (runs in no set order), by ms inside a run, net zero ones dropped. The skey strings
 * belong to the batch (valid until reset or free). */
typedef struct rollup_batch {
	rollup_item_t *items;
	size_t nitems, capitems;
	rollup_cp_t *cps;
	size_t ncps, capcps;
	size_t ncalls;   /* calls added since the last reset */
	uint32_t *ih;    /* item index + 1 by hash, 0 empty */
	size_t ihcap;
	char **strs;     /* interned keys, by hash */
	size_t nstrs, strcap;
	struct rollup_bkey *keys; /* per key: its calls' starts and ends */
	size_t nkeys, capkeys;
} rollup_batch_t;

/* NULL on out of memory. */
rollup_batch_t *rollup_batch_new(void);
void rollup_batch_free(rollup_batch_t *b);
/* Empty it (keeps its memory). */
void rollup_batch_reset(rollup_batch_t *b);
/* Add one new call (rollup_call's rules; end_ms < start_ms counts as start_ms). Copies
 * the strings. 0, or -1 out of memory. */
int rollup_batch_add(rollup_batch_t *b, const char *tenant, const char *profile,
		     const char *dn, int64_t start_ms, int64_t end_ms);
/* Sort items and change points, merge change points of one millisecond, drop net
 * zero ones. Call once, after the last add. 0, or -1 out of memory. */
int rollup_batch_sort(rollup_batch_t *b);
/* The sorted batch's item of this bucket, or NULL. */
const rollup_item_t *rollup_batch_item(const rollup_batch_t *b, char scope,
				       const char *skey, int64_t bucket_ms);

typedef struct rollup_point {
	int32_t off;   /* ms - bucket_ms, in (0, ROLLUP_5M_MS) */
	int32_t delta; /* net calls starting (+) / ending (-) at that millisecond */
} rollup_point_t;

typedef struct rollup_cache rollup_cache_t;

/* NULL on out of memory. */
rollup_cache_t *rollup_cache_new(void);
void rollup_cache_free(rollup_cache_t *c);
/* Forget everything (after a batch that did not commit). */
void rollup_cache_clear(rollup_cache_t *c);

/* A bucket's rollup_5m row as the batch's upsert returned it (arrivals, open_at_start).
 * When the cache holds the bucket and the row equals what it saw plus what the batch
 * added (it = the batch's item), or the row holds the batch's calls only (it->partial),
 * merges the batch's points of the bucket into it, sets *mx (below) and returns 1.
 * Otherwise drops any entry and returns 0: when
 * it->partial the caller loads the bucket (rollup_cache_put); -1 out of memory (the
 * entry is dropped).
 * mx = max(0, the highest running sum of the points, in order): the bucket's peak is
 * open_at_start + mx. */
int rollup_cache_update(rollup_cache_t *c, const rollup_batch_t *b, const rollup_item_t *it,
			int64_t row_arrivals, int64_t row_open, int64_t *mx);

/* Keep a bucket loaded from the database: its points in (B, B+5min) sorted by off (n
 * of them, copied) and its row's counters; sets *mx. 0, or -1 out of memory (nothing
 * kept; *mx is still set). */
int rollup_cache_put(rollup_cache_t *c, char scope, const char *skey, int64_t bucket_ms,
		     int64_t row_arrivals, int64_t row_open, const rollup_point_t *p,
		     size_t n, int64_t *mx);

/* A batch is done (committed): enforce the bound. */
void rollup_cache_end_batch(rollup_cache_t *c);

/* Points held (for tests). */
size_t rollup_cache_points(const rollup_cache_t *c);

#endif
