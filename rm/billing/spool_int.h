/*
 * spool_int: the spool's state, shared by its three files and internal to them
 * (everything else includes spool.h, the one contract, where the design notes are):
 *   spool.c          appends, releases, reads, flush policy, statistics;
 *   spool_seg.c      segment and release-file I/O (create, append, fsync, delete);
 *   spool_recover.c  spool_open: rebuilding the index from the directory;
 * and spool_codec.c, the pure encoding of what they write.
 */
#ifndef RM_SPOOL_INT_H
#define RM_SPOOL_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spool.h"
#include "spool_codec.h"

struct seg {
	uint32_t id;
	int fd;     /* O_RDWR; the active segment is written with pwrite at size */
	int ack_fd; /* -1 until the first release is flushed */
	uint64_t base_seq;
	uint64_t size;     /* bytes in the file (buffered data not included) */
	uint64_t nentries; /* valid entries, buffered ones included */
	uint64_t nreleased;
	bool sealed;
	unsigned char *ackbuf; /* buffered ack records, SPCODEC_ACK_REC bytes each */
	size_t acklen, ackcap;
	bool ack_unsynced;     /* ack records written to ack_fd but not fsync'd yet */
};

struct ent {
	uint64_t seq;
	uint64_t off; /* offset of the entry header in its segment */
	uint32_t seg; /* segment id */
	uint32_t len; /* payload bytes */
	bool released;
};

/* Ack files are fsync'd at most this often (spool.c spool_flush). */
#define SPOOL_ACK_SYNC_MS 1000

struct spool {
	char dir[PATH_MAX - 32];
	uint64_t max_bytes, segment_bytes;
	unsigned hwm_percent, flush_entries, flush_ms;

	struct seg *segs; /* ascending id; the last one is the active segment */
	size_t nsegs, capsegs;

	struct ent *ents; /* unreleased entries (and released ones not yet popped) */
	size_t head, nents, capents;

	unsigned char *wbuf; /* buffered entries, to be written at active->size */
	size_t wlen, wcap, wcount;
	bool unsynced;          /* spool_write wrote entries that are not fsync'd yet */
	size_t pending_acks;
	int64_t pending_since_ms; /* monotonic ms of the oldest buffered item; 0 none */
	int64_t acks_synced_ms;   /* monotonic ms of the last fsync of the ack files */
	bool acks_unsynced;       /* some ack file has records written, not fsync'd */
	bool closing;             /* spool_close: fsync everything */
	bool dir_dirty;

	uint64_t next_seq;
	uint64_t depth, bytes;
	uint64_t seg_bytes; /* sum of segs[].size, kept by spool_seg.c and load_segment */
	unsigned peak_percent;
	uint64_t lost, appended, released, replayed, skipped;

	char *scratch;
	size_t scratch_cap;
};

/* ---- spool_seg.c ---- */

/* out = "<dir>/<id, 9 digits>.<ext>". */
void spseg_path(const spool_t *s, uint32_t id, const char *ext, char *out, size_t cap);
/* Grow *buf (of *cap elements of elem bytes) to hold need; 0, or -1 out of memory. */
int spseg_grow(void **buf, size_t *cap, size_t need, size_t elem);
/* pread exactly len bytes (EIO when the file is shorter); 0 or -1 with errno. */
int spseg_pread_all(int fd, void *buf, size_t len, off_t off);
/* The active segment (the last one). */
struct seg *spseg_active(spool_t *s);
/* Bytes of segment files on disk plus buffered ones (O(1): seg_bytes is kept as segments
 * are created, appended to, loaded and deleted); that as a percent of max_bytes;
 * and the peak of that percent recorded. */
uint64_t spseg_disk_bytes(const spool_t *s);
unsigned spseg_usage(const spool_t *s);
void spseg_note_peak(spool_t *s);
/* Close g's files and free its release buffer. */
void spseg_close(struct seg *g);
/* Delete segment g, all released (.seg, then .ack), and drop it from s->segs. */
void spseg_delete(spool_t *s, struct seg *g);
/* Create segment id with base_seq as the new active one. 0, or -1 (logged). */
int spseg_create(spool_t *s, uint32_t id, uint64_t base_seq);
/* Write the buffered entries to the active segment and fsync it. 0, or -1 (logged;
 * the buffer is kept for a retry). */
int spseg_flush_data(spool_t *s);
/* Append s's buffered entries at the end of g, fsync'd if sync. 0, or -1 (logged). */
int spseg_append_buffer(spool_t *s, struct seg *g, bool sync);
/* Append g's buffered release records (write(2): they survive kill -9), and fsync
 * the ack file if sync (and anything written unsynced before). 0, or -1 (logged). */
int spseg_flush_acks(spool_t *s, struct seg *g, bool sync);

#endif
