/*
 * spool: durable append-only segments of billing records. The format, the recovery
 * rules and the release model are described in spool.h.
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define SEG_MAGIC "GVPSPL01"
#define SEG_HDR 24
#define ENT_MAGIC 0x53504c45u
#define ENT_HDR 24
#define ACK_REC 12
#define MAX_PAYLOAD (64u << 20)

struct seg {
	uint32_t id;
	int fd;     /* O_RDWR; the active segment is written with pwrite at size */
	int ack_fd; /* -1 until the first release is flushed */
	uint64_t base_seq;
	uint64_t size;     /* bytes in the file (buffered data not included) */
	uint64_t nentries; /* valid entries, buffered ones included */
	uint64_t nreleased;
	bool sealed;
	unsigned char *ackbuf; /* buffered ack records, ACK_REC bytes each */
	size_t acklen, ackcap;
};

struct ent {
	uint64_t seq;
	uint64_t off; /* offset of the entry header in its segment */
	uint32_t seg; /* segment id */
	uint32_t len; /* payload bytes */
	bool released;
};

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
	bool dir_dirty;

	uint64_t next_seq;
	uint64_t depth, bytes;
	unsigned peak_percent;
	uint64_t lost, appended, released, replayed, skipped;

	char *scratch;
	size_t scratch_cap;
};

/* ---- crc32c (Castagnoli, reflected 0x82F63B78), table driven ---- */

static uint32_t crc_table[256];
static bool crc_ready;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[i] = c;
	}
	crc_ready = true;
}

uint32_t spool_crc32c(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (!crc_ready)
		crc_init();
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---- little-endian helpers ---- */

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static int64_t mono_ms(void)
{
	return util_mono_us() / 1000;
}

/* ---- small helpers ---- */

static void seg_path(const spool_t *s, uint32_t id, const char *ext, char *out,
		     size_t cap)
{
	snprintf(out, cap, "%s/%09u.%s", s->dir, id, ext);
}

static int grow(void **buf, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	void *p = realloc(*buf, n * elem);
	if (!p)
		return -1;
	*buf = p;
	*cap = n;
	return 0;
}

static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

static int pread_all(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = pread(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO; /* file shorter than the index says */
			return -1;
		}
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

static struct seg *active(spool_t *s)
{
	return &s->segs[s->nsegs - 1];
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

static uint64_t disk_bytes(const spool_t *s)
{
	uint64_t n = s->wlen;
	for (size_t i = 0; i < s->nsegs; i++)
		n += s->segs[i].size;
	return n;
}

static unsigned usage_of(const spool_t *s)
{
	uint64_t pct = disk_bytes(s) * 100 / s->max_bytes;
	return pct > 100 ? 100 : (unsigned)pct;
}

static void note_peak(spool_t *s)
{
	unsigned u = usage_of(s);
	if (u > s->peak_percent)
		s->peak_percent = u;
}

static void note_pending(spool_t *s)
{
	if (!s->pending_since_ms)
		s->pending_since_ms = mono_ms();
}

static void seg_close(struct seg *g)
{
	if (g->fd >= 0)
		close(g->fd);
	if (g->ack_fd >= 0)
		close(g->ack_fd);
	free(g->ackbuf);
	g->fd = g->ack_fd = -1;
	g->ackbuf = NULL;
}

/* Delete segment g (its entries are all released): .seg first, then .ack, so a
 * crash in between leaves an orphan .ack (removed at open), never a segment whose
 * releases are forgotten... except that losing the .ack first would only mean a
 * re-send, which is allowed. */
static void seg_delete(spool_t *s, struct seg *g)
{
	char path[PATH_MAX];

	s->pending_acks -= g->acklen / ACK_REC;
	seg_close(g);
	seg_path(s, g->id, "seg", path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("spool %s: cannot delete %s: %s", s->dir, path, strerror(errno));
	seg_path(s, g->id, "ack", path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("spool %s: cannot delete %s: %s", s->dir, path, strerror(errno));
	size_t i = (size_t)(g - s->segs);
	memmove(&s->segs[i], &s->segs[i + 1], (s->nsegs - i - 1) * sizeof(*g));
	s->nsegs--;
	s->dir_dirty = true;
}

/* Create segment id with base_seq and make it the active one. */
static int seg_create(spool_t *s, uint32_t id, uint64_t base_seq)
{
	char path[PATH_MAX];
	unsigned char hdr[SEG_HDR] = { 0 };

	if (grow((void **)&s->segs, &s->capsegs, s->nsegs + 1, sizeof(struct seg)) < 0)
		return -1;
	seg_path(s, id, "seg", path, sizeof(path));
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		log_error("spool %s: cannot create %s: %s", s->dir, path, strerror(errno));
		return -1;
	}
	memcpy(hdr, SEG_MAGIC, 8);
	put64(hdr + 8, base_seq);
	put32(hdr + 16, spool_crc32c(0, hdr, 16));
	if (pwrite_all(fd, hdr, sizeof(hdr), 0) < 0) {
		log_error("spool %s: cannot write %s: %s", s->dir, path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	struct seg *g = &s->segs[s->nsegs++];
	memset(g, 0, sizeof(*g));
	g->id = id;
	g->fd = fd;
	g->ack_fd = -1;
	g->base_seq = base_seq;
	g->size = SEG_HDR;
	s->dir_dirty = true;
	return 0;
}

/* Append the buffered entries at the end of segment g (and fsync it if sync). On
 * failure the file is cut back to its previous size and the buffer kept for a
 * retry. */
static int append_buffer(spool_t *s, struct seg *g, bool sync)
{
	if (pwrite_all(g->fd, s->wbuf, s->wlen, (off_t)g->size) < 0 ||
	    (sync && fsync(g->fd) < 0)) {
		log_error("spool %s: cannot write segment %09u: %s", s->dir, g->id,
			  strerror(errno));
		if (ftruncate(g->fd, (off_t)g->size) < 0)
			log_error("spool %s: cannot truncate segment %09u: %s", s->dir,
				  g->id, strerror(errno));
		return -1;
	}
	g->size += s->wlen;
	s->wlen = 0;
	return 0;
}

/* Write the buffered entries to the active segment and fsync it. */
static int flush_data(spool_t *s)
{
	struct seg *g = active(s);

	if (s->wlen == 0 && !s->unsynced)
		return 0;
	if (s->wlen == 0) {
		if (fsync(g->fd) < 0) {
			log_error("spool %s: cannot fsync segment %09u: %s", s->dir, g->id,
				  strerror(errno));
			return -1;
		}
		s->unsynced = false;
		s->wcount = 0;
		return 0;
	}
	if (append_buffer(s, g, true) < 0)
		return -1;
	s->wcount = 0;
	s->unsynced = false;
	return 0;
}

int spool_write(spool_t *s)
{
	struct seg *g = active(s);

	if (s->wlen == 0)
		return 0;
	if (append_buffer(s, g, false) < 0)
		return -1;
	s->unsynced = true; /* wcount and pending_since_ms stay: the fsync is still due */
	return 0;
}

static int flush_acks(spool_t *s, struct seg *g)
{
	char path[PATH_MAX];

	if (g->acklen == 0)
		return 0;
	if (g->ack_fd < 0) {
		seg_path(s, g->id, "ack", path, sizeof(path));
		g->ack_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (g->ack_fd < 0) {
			log_error("spool %s: cannot open %s: %s", s->dir, path,
				  strerror(errno));
			return -1;
		}
		s->dir_dirty = true;
	}
	if (util_write_all(g->ack_fd, g->ackbuf, g->acklen) < 0 || fsync(g->ack_fd) < 0) {
		log_error("spool %s: cannot write releases of segment %09u: %s", s->dir,
			  g->id, strerror(errno));
		/* The file may now end in a partial record; the reader ignores it but
		 * appending after it would misalign the rest, so start over cleanly. */
		struct stat st;
		if (fstat(g->ack_fd, &st) == 0 && ftruncate(g->ack_fd, st.st_size - st.st_size % ACK_REC) < 0)
			log_error("spool %s: cannot truncate releases of segment %09u",
				  s->dir, g->id);
		return -1;
	}
	s->pending_acks -= g->acklen / ACK_REC;
	g->acklen = 0;
	return 0;
}

int spool_flush(spool_t *s)
{
	int rc = 0;

	if (s->wlen == 0 && !s->unsynced && s->pending_acks == 0 && !s->dir_dirty)
		return 0;
	if (flush_data(s) < 0)
		rc = -1;
	for (size_t i = 0; i < s->nsegs; i++)
		if (flush_acks(s, &s->segs[i]) < 0)
			rc = -1;
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
	if (n >= s->flush_entries)
		return true;
	return now_ms - s->pending_since_ms >= (int64_t)s->flush_ms;
}

/* Seal the active segment (writing what is buffered) and open the next one. */
static int roll(spool_t *s)
{
	if (flush_data(s) < 0)
		return -1;
	struct seg *g = active(s);
	uint32_t id = g->id + 1;
	g->sealed = true;
	bool done = g->nreleased == g->nentries;
	if (seg_create(s, id, s->next_seq) < 0) {
		s->segs[s->nsegs - 1].sealed = false;
		return -1;
	}
	if (done) /* every entry already released: nothing left to keep */
		seg_delete(s, &s->segs[s->nsegs - 2]);
	return 0;
}

enum spool_status spool_append(spool_t *s, const char *dest, const char *body,
			       size_t body_len, uint64_t *seq)
{
	if (!dest || !*dest || (!body && body_len))
		return SPOOL_ERR;
	size_t dlen = strlen(dest);
	if (dlen + 1 + body_len > MAX_PAYLOAD) {
		log_error("spool %s: record of %zu bytes is over the %u-byte limit",
			  s->dir, body_len, MAX_PAYLOAD);
		return SPOOL_ERR;
	}
	uint32_t len = (uint32_t)(dlen + 1 + body_len);
	size_t total = ENT_HDR + len;

	if (disk_bytes(s) + total > s->max_bytes) {
		s->lost++;
		note_peak(s);
		return SPOOL_FULL;
	}
	struct seg *g = active(s);
	if (g->nentries > 0 && g->size + s->wlen + total > s->segment_bytes) {
		if (roll(s) < 0)
			return SPOOL_ERR;
		g = active(s);
	}
	if (grow((void **)&s->wbuf, &s->wcap, s->wlen + total, 1) < 0 ||
	    grow((void **)&s->ents, &s->capents, s->nents + 1, sizeof(struct ent)) < 0)
		return SPOOL_ERR;

	uint64_t q = s->next_seq++;
	unsigned char *h = s->wbuf + s->wlen;
	put32(h, ENT_MAGIC);
	put32(h + 4, len);
	put64(h + 8, q);
	memcpy(h + ENT_HDR, dest, dlen + 1);
	if (body_len)
		memcpy(h + ENT_HDR + dlen + 1, body, body_len);
	uint32_t crc = spool_crc32c(0, h + 4, 12);
	put32(h + 16, spool_crc32c(crc, h + ENT_HDR, len));
	put32(h + 20, 0);

	s->ents[s->nents++] = (struct ent){ .seq = q, .off = g->size + s->wlen,
					    .seg = g->id, .len = len };
	s->wlen += total;
	s->wcount++;
	g->nentries++;
	s->depth++;
	s->bytes += total;
	s->appended++;
	note_pending(s);
	note_peak(s);
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
	s->bytes -= ENT_HDR + e->len;
	s->released++;
	pop_released(s); /* e is not used below */
	if (!g)
		return 0;
	g->nreleased++;
	if (g->sealed && g->nreleased == g->nentries) {
		seg_delete(s, g);
		return 0;
	}
	if (grow((void **)&g->ackbuf, &g->ackcap, g->acklen + ACK_REC, 1) < 0) {
		/* Out of memory: the release is not persisted; the entry is re-sent
		 * after a restart, which rs tolerates. */
		return 0;
	}
	put64(g->ackbuf + g->acklen, seq);
	put32(g->ackbuf + g->acklen + 8, spool_crc32c(0, g->ackbuf + g->acklen, 8));
	g->acklen += ACK_REC;
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
	size_t total = ENT_HDR + e->len;
	if (!g || grow((void **)&s->scratch, &s->scratch_cap, total + 1, 1) < 0)
		return -1;
	unsigned char *p = (unsigned char *)s->scratch;
	if (g == active(s) && e->off >= g->size) {
		memcpy(p, s->wbuf + (e->off - g->size), total);
	} else if (pread_all(g->fd, p, total, (off_t)e->off) < 0) {
		log_error("spool %s: cannot read entry %llu from segment %09u: %s", s->dir,
			  (unsigned long long)seq, g->id, strerror(errno));
		return -1;
	}
	uint32_t crc = spool_crc32c(spool_crc32c(0, p + 4, 12), p + ENT_HDR, e->len);
	if (get32(p) != ENT_MAGIC || get64(p + 8) != seq || get32(p + 16) != crc) {
		log_error("spool %s: entry %llu in segment %09u changed on disk "
			  "(checksum mismatch)", s->dir, (unsigned long long)seq, g->id);
		return -1;
	}
	p[total] = '\0';
	const char *d = (const char *)p + ENT_HDR;
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
	out->disk_bytes = disk_bytes(s);
	out->max_bytes = s->max_bytes;
	out->usage_percent = usage_of(s);
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
	return usage_of(s);
}

bool spool_above_hwm(const spool_t *s)
{
	return usage_of(s) >= s->hwm_percent;
}

const char *spool_dir(const spool_t *s)
{
	return s->dir;
}

/* ---- recovery ---- */

/* Is there a valid entry at pos? Checks magic, bounds, crc, the destination's NUL
 * and that seq follows last_seq. */
static bool entry_at(const unsigned char *b, size_t n, size_t pos, uint64_t last_seq,
		     uint32_t *len, uint64_t *seq)
{
	if (pos + ENT_HDR > n || get32(b + pos) != ENT_MAGIC)
		return false;
	uint32_t l = get32(b + pos + 4);
	uint64_t q = get64(b + pos + 8);
	if (l < 2 || l > n - pos - ENT_HDR || q <= last_seq)
		return false;
	uint32_t crc = spool_crc32c(spool_crc32c(0, b + pos + 4, 12), b + pos + ENT_HDR, l);
	if (crc != get32(b + pos + 16))
		return false;
	const unsigned char *d = b + pos + ENT_HDR;
	if (d[0] == '\0' || !memchr(d, '\0', l))
		return false;
	*len = l;
	*seq = q;
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Read segment id's .ack file into a sorted array (caller frees). Cuts a torn tail
 * off so later appends stay aligned. */
static int load_acks(spool_t *s, uint32_t id, uint64_t **out, size_t *nout)
{
	char path[PATH_MAX];
	struct stat st;

	*out = NULL;
	*nout = 0;
	seg_path(s, id, "ack", path, sizeof(path));
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	size_t n = (size_t)st.st_size;
	unsigned char *b = malloc(n ? n : 1);
	uint64_t *v = malloc((n / ACK_REC + 1) * sizeof(uint64_t));
	if (!b || !v || pread_all(fd, b, n, 0) < 0) {
		free(b);
		free(v);
		goto fail;
	}
	size_t k = 0, bad = 0;
	for (size_t pos = 0; pos + ACK_REC <= n; pos += ACK_REC) {
		if (spool_crc32c(0, b + pos, 8) == get32(b + pos + 8))
			v[k++] = get64(b + pos);
		else
			bad++;
	}
	if (bad || n % ACK_REC)
		log_warn("spool %s: %s: ignored %zu corrupt release record(s) and %zu "
			 "torn byte(s); those entries will be re-sent", s->dir, path, bad,
			 n % ACK_REC);
	if (n % ACK_REC && ftruncate(fd, (off_t)(n - n % ACK_REC)) < 0)
		log_warn("spool %s: cannot truncate %s: %s", s->dir, path, strerror(errno));
	free(b);
	close(fd);
	qsort(v, k, sizeof(*v), cmp_u64);
	*out = v;
	*nout = k;
	return 0;
fail:
	log_error("spool %s: cannot read %s: %s", s->dir, path, strerror(errno));
	close(fd);
	return -1;
}

/* Load segment id as a sealed segment: index its valid unreleased entries. A file
 * whose header is bad (a crash while creating it) is deleted. */
static int load_segment(spool_t *s, uint32_t id, uint64_t *last_seq)
{
	char path[PATH_MAX];
	struct stat st;
	unsigned char *b = NULL;
	uint64_t *acks = NULL;
	size_t nacks = 0;

	seg_path(s, id, "seg", path, sizeof(path));
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_error("spool %s: cannot open %s: %s", s->dir, path, strerror(errno));
		goto fail;
	}
	size_t n = (size_t)st.st_size;
	b = malloc(n ? n : 1);
	if (!b || pread_all(fd, b, n, 0) < 0) {
		log_error("spool %s: cannot read %s: %s", s->dir, path, strerror(errno));
		goto fail;
	}
	if (n < SEG_HDR || memcmp(b, SEG_MAGIC, 8) != 0 ||
	    spool_crc32c(0, b, 16) != get32(b + 16)) {
		log_warn("spool %s: %s has no valid segment header (%zu bytes); deleted",
			 s->dir, path, n);
		s->skipped++;
		close(fd);
		free(b);
		unlink(path);
		seg_path(s, id, "ack", path, sizeof(path));
		unlink(path);
		s->dir_dirty = true;
		return 0;
	}
	if (load_acks(s, id, &acks, &nacks) < 0)
		goto fail;
	if (grow((void **)&s->segs, &s->capsegs, s->nsegs + 1, sizeof(struct seg)) < 0)
		goto fail;
	struct seg g = { .id = id, .fd = fd, .ack_fd = -1, .base_seq = get64(b + 8),
			 .size = n, .sealed = true };

	size_t pos = SEG_HDR;
	while (pos < n) {
		uint32_t len;
		uint64_t seq;
		if (entry_at(b, n, pos, *last_seq, &len, &seq)) {
			g.nentries++;
			*last_seq = seq;
			if (nacks && bsearch(&seq, acks, nacks, sizeof(*acks), cmp_u64)) {
				g.nreleased++;
			} else {
				if (grow((void **)&s->ents, &s->capents, s->nents + 1,
					 sizeof(struct ent)) < 0)
					goto fail;
				s->ents[s->nents++] = (struct ent){
					.seq = seq, .off = pos, .seg = id, .len = len
				};
				s->depth++;
				s->bytes += ENT_HDR + len;
				s->replayed++;
			}
			pos += ENT_HDR + len;
			continue;
		}
		size_t start = pos;
		do
			pos++;
		while (pos < n && !entry_at(b, n, pos, *last_seq, &len, &seq));
		s->skipped++;
		log_warn("spool %s: %s: %s at offset %zu: skipped %zu byte(s)%s", s->dir,
			 path, pos < n ? "corrupt entry" : "torn or corrupt tail", start,
			 pos - start, pos < n ? ", resumed at the next valid entry" : "");
	}
	s->segs[s->nsegs++] = g;
	free(b);
	free(acks);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(b);
	free(acks);
	return -1;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* "000000012.seg" -> 12 with ext "seg"; -1 when the name is not ours. */
static long parse_name(const char *name, const char *ext)
{
	if (strlen(name) != 13 || name[9] != '.' || strcmp(name + 10, ext) != 0)
		return -1;
	long v = 0;
	for (int i = 0; i < 9; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	return v > 0 ? v : -1;
}

static int scan_dir(spool_t *s, uint32_t **segs, size_t *nseg, uint32_t **acks,
		    size_t *nack)
{
	size_t cs = 0, ca = 0;
	DIR *d = opendir(s->dir);
	struct dirent *de;

	*segs = *acks = NULL;
	*nseg = *nack = 0;
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		long v;
		if ((v = parse_name(de->d_name, "seg")) > 0) {
			if (grow((void **)segs, &cs, *nseg + 1, sizeof(uint32_t)) < 0)
				break;
			(*segs)[(*nseg)++] = (uint32_t)v;
		} else if ((v = parse_name(de->d_name, "ack")) > 0) {
			if (grow((void **)acks, &ca, *nack + 1, sizeof(uint32_t)) < 0)
				break;
			(*acks)[(*nack)++] = (uint32_t)v;
		}
	}
	closedir(d);
	if (*nseg)
		qsort(*segs, *nseg, sizeof(uint32_t), cmp_u32);
	return 0;
}

spool_t *spool_open(const spool_opts_t *o, char *err, size_t errlen)
{
	uint32_t *segids = NULL, *ackids = NULL;
	size_t nseg = 0, nack = 0;
	spool_t *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "spool: out of memory");
		return NULL;
	}
	if (!o->dir || !*o->dir || strlen(o->dir) >= sizeof(s->dir)) {
		snprintf(err, errlen, "spool: directory name missing or too long");
		goto fail;
	}
	snprintf(s->dir, sizeof(s->dir), "%s", o->dir);
	s->max_bytes = o->max_bytes ? o->max_bytes : (1ull << 30);
	s->segment_bytes = o->segment_bytes ? o->segment_bytes : (8ull << 20);
	s->hwm_percent = o->hwm_percent ? o->hwm_percent : 80;
	s->flush_entries = o->flush_entries ? o->flush_entries : 64;
	s->flush_ms = o->flush_ms ? o->flush_ms : 20;
	s->next_seq = 1;

	if (mkdir(s->dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "spool %s: cannot create directory: %s", s->dir,
			 strerror(errno));
		goto fail;
	}
	if (scan_dir(s, &segids, &nseg, &ackids, &nack) < 0) {
		snprintf(err, errlen, "spool %s: cannot list directory: %s", s->dir,
			 strerror(errno));
		goto fail;
	}
	uint64_t last_seq = 0;
	for (size_t i = 0; i < nseg; i++) {
		if (load_segment(s, segids[i], &last_seq) < 0) {
			snprintf(err, errlen, "spool %s: cannot load segment %09u (see the "
				 "log)", s->dir, segids[i]);
			goto fail;
		}
	}
	/* .ack files without their segment: left by a crash mid-delete. */
	for (size_t i = 0; i < nack; i++) {
		if (!nseg || !bsearch(&ackids[i], segids, nseg, sizeof(uint32_t), cmp_u32)) {
			char path[PATH_MAX];
			seg_path(s, ackids[i], "ack", path, sizeof(path));
			unlink(path);
			s->dir_dirty = true;
		}
	}
	uint32_t next_id = nseg ? segids[nseg - 1] + 1 : 1;
	s->next_seq = last_seq + 1;
	for (size_t i = 0; i < s->nsegs; i++)
		if (s->segs[i].base_seq > s->next_seq && s->segs[i].base_seq < UINT64_MAX / 2)
			s->next_seq = s->segs[i].base_seq;
	if (seg_create(s, next_id, s->next_seq) < 0) {
		snprintf(err, errlen, "spool %s: cannot create segment %09u: %s", s->dir,
			 next_id, strerror(errno));
		goto fail;
	}
	/* Sealed segments with nothing left to send (the new active one keeps the
	 * sequence watermark, so deleting every old one is safe). */
	for (size_t i = 0; i + 1 < s->nsegs;) {
		if (s->segs[i].nreleased == s->segs[i].nentries)
			seg_delete(s, &s->segs[i]);
		else
			i++;
	}
	if (util_fsync_dir(s->dir) < 0) {
		snprintf(err, errlen, "spool %s: cannot fsync the directory: %s", s->dir,
			 strerror(errno));
		goto fail;
	}
	s->dir_dirty = false;
	note_peak(s);
	if (s->replayed || s->skipped)
		log_info("spool %s: %llu unreleased record(s) to replay, %llu corrupt "
			 "region(s) skipped", s->dir, (unsigned long long)s->replayed,
			 (unsigned long long)s->skipped);
	free(segids);
	free(ackids);
	return s;
fail:
	free(segids);
	free(ackids);
	for (size_t i = 0; i < s->nsegs; i++)
		seg_close(&s->segs[i]);
	free(s->segs);
	free(s->ents);
	free(s->wbuf);
	free(s->scratch);
	free(s);
	return NULL;
}

void spool_close(spool_t *s)
{
	if (!s)
		return;
	if (spool_flush(s) < 0)
		log_error("spool %s: records buffered at close may be lost", s->dir);
	for (size_t i = 0; i < s->nsegs; i++)
		seg_close(&s->segs[i]);
	free(s->segs);
	free(s->ents);
	free(s->wbuf);
	free(s->scratch);
	free(s);
}
