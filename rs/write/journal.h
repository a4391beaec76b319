/*
 * journal: rs's local durable queue for records it has receipted while the database
 * was unreachable.
 *
 * One append-only file DIR/rs.journal. Each entry:
 *   u32 magic "RSJ1" | u32 body length | u32 crc32 of everything after it
 *   u8 kind | u8 id length | u16 zero | i64 received_ms | id | NUL | body
 * (little endian). journal_append writes a whole batch and fdatasyncs it before it
 * returns: an entry the caller then receipts survives a crash. On open, a torn or
 * corrupt tail (a batch whose fsync never finished, so never receipted) is cut off.
 *
 * Replay reads entries in order from a cursor; journal_consume advances it once the
 * caller committed them to the database. When the cursor reaches the end the file is
 * truncated to zero. The cursor is not persisted: after a crash the journal replays
 * from its start, which is harmless because inserts are idempotent on id.
 *
 * Not thread-safe: only the writer thread uses it. Depth/bytes are plain reads for it.
 */
#ifndef RS_JOURNAL_H
#define RS_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

typedef struct journal journal_t;

/* Open (creating DIR and the file if needed) and scan. NULL with err on failure. */
journal_t *journal_open(const char *dir, char *err, size_t errlen);
void journal_close(journal_t *j);

/* Append n rows durably (write + fdatasync). 0, or -1 with err; on failure nothing
 * is considered appended (the file is cut back to its previous end). */
int journal_append(journal_t *j, const rs_row_t *rows, size_t n, char *err,
		   size_t errlen);

/* A chunk of entries read from the cursor; rows point into the chunk's storage. */
typedef struct journal_chunk {
	rs_row_t *rows;
	record_t *recs; /* decoded records, parallel to rows (only CDR rows use theirs) */
	size_t n;       /* rows read; a CDR row whose body no longer decodes has rec NULL */
	size_t entries; /* entries read (== n) */
	size_t bytes;   /* file bytes these entries span */
	char *data;
	size_t cap_rows;
} journal_chunk_t;

/* Read up to max entries from the cursor into ch (reusing its buffers). CDR bodies
 * are decoded again into recs (rec NULL when that fails: the caller must not store
 * such a row, and quarantines it). 0 (ch->n may be 0 at the end), or -1 with err. */
int journal_read(journal_t *j, size_t max, journal_chunk_t *ch, char *err,
		 size_t errlen);
/* The chunk's entries are in the database: advance the cursor past them; truncate
 * the file when everything has been replayed. 0 / -1. */
int journal_consume(journal_t *j, const journal_chunk_t *ch, char *err, size_t errlen);
void journal_chunk_free(journal_chunk_t *ch);

/* Walk DIR/rs.journal read-only from its start on a descriptor of its own, calling
 * fn(arg, row) for each complete entry (row and its strings valid during the call only;
 * rec NULL) until the end, the first incomplete or corrupt entry, or fn returning
 * nonzero. For readers other than the writer (the real-time rebuild, rt.h): safe while
 * the writer appends, replays and truncates, since an entry is read whole and checked
 * by its CRC; what the walk misses because the writer truncated the file meanwhile had
 * been committed to the database first. A missing file is an empty journal. 0, or -1
 * with err. */
int journal_walk(const char *dir, int (*fn)(void *arg, const rs_row_t *row), void *arg,
		 char *err, size_t errlen);

/* Entries not yet replayed, and the file's size in bytes. */
uint64_t journal_depth(const journal_t *j);
uint64_t journal_bytes(const journal_t *j);

/* CRC-32 (IEEE) of len bytes, continuing from crc (start with 0). */
uint32_t journal_crc32(uint32_t crc, const void *buf, size_t len);

#endif
