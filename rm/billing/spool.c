/*
 * spool: durable append-only segments of billing records. The format, the recovery
 * rules and the release model are described in spool.h; the state and the split into
 * files in spool_int.h. This file: appends, releases, reads, the flush policy and
 * the statistics.
 */
#include "spool_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static int64_t mono_ms(void)
{
	return util_mono_us() / 1000;
}

static struct seg *find_seg(spool_t *s, uint32_t id)
{
	size_t lo = 0, hi = s->nsegs;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->segs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nsegs && s->segs[lo].id == id ? &s->segs[lo] : NULL;
}

/* Index of the first entry in ents[head..nents) with seq >= seq. */
static size_t ent_lower(const spool_t *s, uint64_t seq)
{
	size_t lo = s->head, hi = s->nents;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->ents[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct ent *find_ent(spool_t *s, uint64_t seq)
{
	size_t i = ent_lower(s, seq);
	if (i < s->nents && s->ents[i].seq == seq && !s->ents[i].released)
		return &s->ents[i];
	return NULL;
}

static void note_pending(spool_t *s)
{
	if (!s->pending_since_ms)
		s->pending_since_ms = mono_ms();
}

int spool_write(spool_t *s)
{
	struct seg *g = spseg_active(s);

	if (s->wlen == 0)
		return 0;
	if (spseg_append_buffer(s, g, false) < 0)
		return -1;
	s->unsynced = true; /* wcount and pending_since_ms stay: the fsync is still due */
	return 0;
}

int spool_flush(spool_t *s)
{
	int rc = 0;

	if (s->wlen == 0 && !s->unsynced && s->pending_acks == 0 && !s->dir_dirty &&
	    !(s->closing && s->acks_unsynced))
		return 0;
	if (spseg_flush_data(s) < 0)
		rc = -1;
	/* Releases are written at every flush but fsync'd at most once per
	 * SPOOL_ACK_SYNC_MS: a release lost to a power cut only re-sends its record
	 * (rs is idempotent), while an fsync per flush would double the spool's. */
	int64_t now = mono_ms();
	bool sync_acks = s->closing || now - s->acks_synced_ms >= SPOOL_ACK_SYNC_MS;
	for (size_t i = 0; i < s->nsegs; i++)
		if (spseg_flush_acks(s, &s->segs[i], sync_acks) < 0)
			rc = -1;
	if (sync_acks && rc == 0) {
		s->acks_synced_ms = now;
		s->acks_unsynced = false;
	} else if (!sync_acks) {
		s->acks_unsynced = true;
	}
	if (s->dir_dirty) {
		if (util_fsync_dir(s->dir) < 0) {
			log_error("spool %s: cannot fsync the directory: %s", s->dir,
				  strerror(errno));
			rc = -1;
		} else {
			s->dir_dirty = false;
		}
	}
	if (s->wlen == 0 && !s->unsynced && s->pending_acks == 0)
		s->pending_since_ms = 0;
	return rc;
}

bool spool_flush_due(const spool_t *s, int64_t now_ms)
{
	size_t n = s->wcount + s->pending_acks;
	if (n == 0)
		return s->dir_dirty;
	/* records count toward the batch size; releases only wait for flush_ms */
	if (s->wcount >= s->flush_entries)
		return true;
	return now_ms - s->pending_since_ms >= (int64_t)s->flush_ms;
}

/* Seal the spseg_active segment (writing what is buffered) and open the next one. */
static int roll(spool_t *s)
{
	if (spseg_flush_data(s) < 0)
		return -1;
	struct seg *g = spseg_active(s);
	uint32_t id = g->id + 1;
	g->sealed = true;
	bool done = g->nreleased == g->nentries;
	if (spseg_create(s, id, s->next_seq) < 0) {
		s->segs[s->nsegs - 1].sealed = false;
		return -1;
	}
	if (done) /* every entry already released: nothing left to keep */
		spseg_delete(s, &s->segs[s->nsegs - 2]);
	return 0;
}

enum spool_status spool_append(spool_t *s, const char *dest, const char *body,
			       size_t body_len, uint64_t *seq)
{
	if (!dest || !*dest || (!body && body_len))
		return SPOOL_ERR;
	size_t dlen = strlen(dest);
	if (dlen + 1 + body_len > SPCODEC_MAX_PAYLOAD) {
		log_error("spool %s: record of %zu bytes is over the %u-byte limit",
			  s->dir, body_len, SPCODEC_MAX_PAYLOAD);
		return SPOOL_ERR;
	}
	uint32_t len = (uint32_t)(dlen + 1 + body_len);
	size_t total = SPCODEC_ENT_HDR + len;

	if (spseg_disk_bytes(s) + total > s->max_bytes) {
		s->lost++;
		spseg_note_peak(s);
		return SPOOL_FULL;
	}
	struct seg *g = spseg_active(s);
	if (g->nentries > 0 && g->size + s->wlen + total > s->segment_bytes) {
		if (roll(s) < 0)
			return SPOOL_ERR;
		g = spseg_active(s);
	}
	if (spseg_grow((void **)&s->wbuf, &s->wcap, s->wlen + total, 1) < 0 ||
	    spseg_grow((void **)&s->ents, &s->capents, s->nents + 1, sizeof(struct ent)) < 0)
		return SPOOL_ERR;

	uint64_t q = s->next_seq++;
	spcodec_entry_encode(s->wbuf + s->wlen, q, dest, dlen, body, body_len);

	s->ents[s->nents++] = (struct ent){ .seq = q, .off = g->size + s->wlen,
					    .seg = g->id, .len = len };
	s->wlen += total;
	s->wcount++;
	g->nentries++;
	s->depth++;
	s->bytes += total;
	s->appended++;
	note_pending(s);
	spseg_note_peak(s);
	if (seq)
		*seq = q;
	return SPOOL_OK;
}

static void pop_released(spool_t *s)
{
	while (s->head < s->nents && s->ents[s->head].released)
		s->head++;
	if (s->head == s->nents) {
		s->head = s->nents = 0;
	} else if (s->head > 1024 && s->head * 2 > s->nents) {
		memmove(s->ents, s->ents + s->head, (s->nents - s->head) * sizeof(struct ent));
		s->nents -= s->head;
		s->head = 0;
	}
}

int spool_release(spool_t *s, uint64_t seq)
{
	struct ent *e = find_ent(s, seq);
	if (!e)
		return -1;
	struct seg *g = find_seg(s, e->seg);
	e->released = true;
	s->depth--;
	s->bytes -= SPCODEC_ENT_HDR + e->len;
	s->released++;
	pop_released(s); /* e is not used below */
	if (!g)
		return 0;
	g->nreleased++;
	if (g->sealed && g->nreleased == g->nentries) {
		spseg_delete(s, g);
		return 0;
	}
	if (spseg_grow((void **)&g->ackbuf, &g->ackcap, g->acklen + SPCODEC_ACK_REC, 1) < 0) {
		/* Out of memory: the release is not persisted; the entry is re-sent
		 * after a restart, which rs tolerates. */
		return 0;
	}
	spcodec_ack_encode(g->ackbuf + g->acklen, seq);
	g->acklen += SPCODEC_ACK_REC;
	s->pending_acks++;
	note_pending(s);
	return 0;
}

uint64_t spool_next(const spool_t *s, uint64_t after)
{
	for (size_t i = ent_lower(s, after + 1); i < s->nents; i++)
		if (!s->ents[i].released)
			return s->ents[i].seq;
	return 0;
}

int spool_read(spool_t *s, uint64_t seq, const char **dest, const char **body,
	       size_t *body_len)
{
	struct ent *e = find_ent(s, seq);
	if (!e)
		return -1;
	struct seg *g = find_seg(s, e->seg);
	size_t total = SPCODEC_ENT_HDR + e->len;
	if (!g || spseg_grow((void **)&s->scratch, &s->scratch_cap, total + 1, 1) < 0)
		return -1;
	unsigned char *p = (unsigned char *)s->scratch;
	bool buffered = g == spseg_active(s) && e->off >= g->size;
	if (buffered) {
		/* encoded by spool_append in this process: nothing on disk to distrust */
		memcpy(p, s->wbuf + (e->off - g->size), total);
	} else if (spseg_pread_all(g->fd, p, total, (off_t)e->off) < 0) {
		log_error("spool %s: cannot read entry %llu from segment %09u: %s", s->dir,
			  (unsigned long long)seq, g->id, strerror(errno));
		return -1;
	}
	if (!buffered && !spcodec_entry_ok(p, seq, e->len)) {
		log_error("spool %s: entry %llu in segment %09u changed on disk "
			  "(checksum mismatch)", s->dir, (unsigned long long)seq, g->id);
		return -1;
	}
	p[total] = '\0';
	const char *d = (const char *)p + SPCODEC_ENT_HDR;
	size_t dlen = strnlen(d, e->len);
	*dest = d;
	*body = d + dlen + 1;
	*body_len = e->len - dlen - 1;
	return 0;
}

void spool_get_stats(const spool_t *s, spool_stats_t *out)
{
	memset(out, 0, sizeof(*out));
	out->depth = s->depth;
	out->bytes = s->bytes;
	out->disk_bytes = spseg_disk_bytes(s);
	out->max_bytes = s->max_bytes;
	out->usage_percent = spseg_usage(s);
	out->peak_percent = s->peak_percent;
	out->above_hwm = out->usage_percent >= s->hwm_percent;
	out->lost = s->lost;
	out->appended = s->appended;
	out->released = s->released;
	out->replayed = s->replayed;
	out->skipped = s->skipped;
	out->segments = (unsigned)s->nsegs;
	out->pending = s->wcount + s->pending_acks;
}

unsigned spool_usage_percent(const spool_t *s)
{
	return spseg_usage(s);
}

bool spool_above_hwm(const spool_t *s)
{
	return spseg_usage(s) >= s->hwm_percent;
}

const char *spool_dir(const spool_t *s)
{
	return s->dir;
}
