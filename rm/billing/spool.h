/*
 * spool: rm's durable on-disk queue of billing records (CDRs, events) waiting for
 * rs's RECEIPT. Pure file I/O: no event loop, no threads, no locks. One spool is
 * used from one thread (rm's service thread).
 *
 * Life of an entry
 *   spool_append()   gives it the next sequence number and buffers it in memory;
 *   spool_flush()    writes every buffered entry (and every buffered release) and
 *                    fsyncs the entries; the caller drives the policy with
 *                    spool_flush_due() (every N entries or T ms, from spool_opts_t).
 *                    Releases are fsync'd at most once a second (and at close):
 *                    written, they survive a crash of rm; a release a power cut
 *                    loses only re-sends its record, which rs absorbs (idempotent);
 *   spool_release()  when rs's RECEIPT for it arrives, or once a permanently
 *                    refused entry is in the dead-letter file (deadletter.h);
 *                    releases may come in any order.
 * An entry may be published before it is flushed: rs holding it is as good as disk.
 * After a crash an entry whose release was not yet flushed is replayed, so delivery
 * is at-least-once; rs is idempotent on the record id, which makes that exactly-once
 * in the store.
 *
 * On-disk format (all integers little-endian), in the directory opts.dir:
 *   NNNNNNNNN.seg   a segment, numbered from 1, 9 decimal digits. Append-only.
 *     file header, 24 bytes: "GVPSPL01" (8), base_seq u64 (first seq this segment
 *       was opened with), crc32c u32 of the preceding 16 bytes, 4 zero bytes.
 *     entries, each: magic u32 0x53504c45, length u32 (payload bytes),
 *       seq u64, crc32c u32 over (length, seq, payload), 4 zero bytes; then the
 *       payload: destination, one NUL, JSON body (length - strlen(dest) - 1 bytes).
 *   NNNNNNNNN.ack   the releases of that segment, append-only, 12-byte records:
 *       seq u64, crc32c u32 of those 8 bytes. A torn or corrupt record is ignored
 *       (its entry is simply re-sent).
 * Why per-segment ack files rather than a checkpoint: releases arrive out of order
 * within the publisher's window, an ack record is a 12-byte append (no rewrite, no
 * rename), and deleting a segment deletes its ack file with it, so nothing needs
 * compaction.
 *
 * Segments: appends go to the one active segment; it is sealed when it reaches
 * opts.segment_bytes, and at every spool_open() (a reopened spool never appends after
 * a possibly torn tail: it starts a new segment). A sealed segment whose entries are
 * all released is deleted (.seg first, then .ack).
 *
 * Recovery (spool_open): every segment is read and every entry's magic, length and
 * crc32c checked. A torn tail (a crash mid-write) or a corrupt entry is logged and
 * skipped; scanning resynchronises on the next entry whose header and checksum are
 * valid, so entries after a flipped byte are still recovered. Garbage is never
 * replayed. Entries not named in their segment's .ack file are the replay set,
 * walked in sequence order with spool_next().
 *
 * Size bound: opts.max_bytes bounds the bytes of segment files on disk (including
 * released entries in segments not yet deleted, and buffered entries). An append that
 * would pass it returns SPOOL_FULL and counts the record as lost: rm keeps routing
 * calls; losing calls because billing is down is worse than losing a record.
 */
#ifndef RM_SPOOL_H
#define RM_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct spool spool_t;

typedef struct spool_opts {
	const char *dir;        /* created (one level) if missing */
	uint64_t max_bytes;     /* bound on segment bytes on disk; 0 = 1 GiB */
	uint64_t segment_bytes; /* roll the active segment past this; 0 = 8 MiB */
	unsigned hwm_percent;   /* high-water mark, percent of max_bytes; 0 = 80 */
	unsigned flush_entries; /* spool_flush_due: after this many buffered; 0 = 64 */
	unsigned flush_ms;      /* spool_flush_due: or when the oldest is this old; 0 = 20 */
} spool_opts_t;

enum spool_status {
	SPOOL_OK = 0,
	SPOOL_FULL = 1, /* over max_bytes: the record was not kept, lost is counted */
	SPOOL_ERR = -1, /* I/O error (logged) or invalid argument */
};

typedef struct spool_stats {
	uint64_t depth;      /* unreleased entries (flushed or buffered) */
	uint64_t bytes;      /* bytes of those entries (headers + payloads) */
	uint64_t disk_bytes; /* bytes of segment files, buffered data included */
	uint64_t max_bytes;
	unsigned usage_percent; /* disk_bytes * 100 / max_bytes */
	unsigned peak_percent;  /* highest usage_percent since open */
	bool above_hwm;         /* usage_percent >= hwm_percent */
	uint64_t lost;          /* appends refused with SPOOL_FULL since open */
	uint64_t appended;      /* appends accepted since open */
	uint64_t released;      /* releases since open */
	uint64_t replayed;      /* unreleased entries found by spool_open */
	uint64_t skipped;       /* corrupt or torn regions skipped by spool_open */
	unsigned segments;      /* segment files on disk */
	size_t pending;         /* buffered appends + releases not yet flushed */
} spool_stats_t;

/* Open (or create) the spool in opts->dir, recover it as described above and start
 * a new active segment. Returns the spool (free with spool_close), or NULL with a
 * sentence in err ("spool /var/spool/rm: cannot create directory: Permission
 * denied"). */
spool_t *spool_open(const spool_opts_t *opts, char *err, size_t errlen);

/* Flush what is buffered (errors are logged) and free everything. NULL is allowed. */
void spool_close(spool_t *s);

/* Buffer one record: destination (a STOMP destination, NUL-terminated, no NUL
 * inside) and body (body_len bytes of JSON). Copies both. On SPOOL_OK stores its
 * sequence number in *seq (may be NULL). SPOOL_FULL: not kept, lost++ .
 * SPOOL_ERR: bad arguments, or rolling to a new segment failed (logged). */
enum spool_status spool_append(spool_t *s, const char *dest, const char *body,
			       size_t body_len, uint64_t *seq);

/* Write every buffered entry and release and fsync them (and the directory when a
 * segment was created). Returns 0, or -1 on an I/O error (logged; the buffer is kept
 * and the next flush retries it). Cheap when nothing is buffered. */
int spool_flush(spool_t *s);

/* Write every buffered entry to the active segment WITHOUT fsync: from then on the
 * entries survive a crash of the process (kill -9), not of the machine; the next
 * spool_flush fsyncs them (spool_flush_due still counts them). rm calls it after each
 * batch of appends, so that a record is out of its memory within microseconds and
 * the fsync policy only bounds what a power loss can take. 0, or -1 on an I/O error
 * (logged; the buffer is kept). */
int spool_write(spool_t *s);

/* True when the flush policy says flush now: at least opts.flush_entries buffered,
 * or anything buffered for opts.flush_ms or longer. now_ms: a monotonic clock in ms
 * (util_mono_us() / 1000). The caller runs a timer of about flush_ms as well. */
bool spool_flush_due(const spool_t *s, int64_t now_ms);

/* Mark entry seq as released (rs has it, or it is in the dead-letter file). Out of
 * order is fine. Returns 0, or -1 when seq is not an unreleased entry (duplicate receipt).
 * The release is written by the next spool_flush (fsync'd within a second, see
 * above); a fully released sealed segment is deleted at once. */
int spool_release(spool_t *s, uint64_t seq);

/* The first unreleased entry with a sequence number greater than after, or 0 when
 * there is none. spool_next(s, 0) starts the replay; entries come in append order. */
uint64_t spool_next(const spool_t *s, uint64_t after);

/* Read entry seq (unreleased, flushed or not). On 0, *dest (NUL-terminated) and
 * *body (body_len bytes, NUL-terminated too) point into the spool's scratch buffer,
 * valid until the next spool_read or spool_close. Returns -1 when seq is not an
 * unreleased entry or on an I/O error (logged). */
int spool_read(spool_t *s, uint64_t seq, const char **dest, const char **body,
	       size_t *body_len);

void spool_get_stats(const spool_t *s, spool_stats_t *out);

/* Usage as percent of max_bytes, and whether it is at or above the high-water mark:
 * the values in spool_stats_t, for a gauge and an alarm. */
unsigned spool_usage_percent(const spool_t *s);
bool spool_above_hwm(const spool_t *s);

/* The spool's directory, as given in opts.dir (owned by the spool, valid until
 * spool_close). rm keeps its dead-letter file there (deadletter.h); spool_open
 * ignores every file that is not a segment or an ack file. */
const char *spool_dir(const spool_t *s);

/* crc32c (Castagnoli), exposed for tests and tools. crc: 0 to start, or a previous
 * result to continue. */
uint32_t spool_crc32c(uint32_t crc, const void *data, size_t len);

#endif
