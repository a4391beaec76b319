/*
 * spool_recover: spool_open rebuilds the spool from its directory (the recovery rules
 * are in spool.h), and spool_close. The state is in spool_int.h.
 */
#include "spool_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Read a whole file of n bytes from fd into a malloc'd buffer (caller frees). */
static unsigned char *read_whole(int fd, size_t n)
{
	unsigned char *b = malloc(n ? n : 1);
	if (b && spseg_pread_all(fd, b, n, 0) < 0) {
		free(b);
		return NULL;
	}
	return b;
}

/* Read segment id's .ack file into a sorted array (caller frees). Cuts a torn tail
 * off so later appends stay aligned. */
static int load_acks(spool_t *s, uint32_t id, uint64_t **out, size_t *nout)
{
	char path[PATH_MAX];
	struct stat st;

	*out = NULL;
	*nout = 0;
	spseg_path(s, id, "ack", path, sizeof(path));
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	size_t n = (size_t)st.st_size;
	unsigned char *b = read_whole(fd, n);
	uint64_t *v = malloc((n / SPCODEC_ACK_REC + 1) * sizeof(uint64_t));
	if (!b || !v) {
		free(b);
		free(v);
		goto fail;
	}
	size_t k = 0, bad = 0;
	for (size_t pos = 0; pos + SPCODEC_ACK_REC <= n; pos += SPCODEC_ACK_REC) {
		if (spcodec_ack_decode(b + pos, &v[k]))
			k++;
		else
			bad++;
	}
	if (bad || n % SPCODEC_ACK_REC)
		log_warn("spool %s: %s: ignored %zu corrupt release record(s) and %zu "
			 "torn byte(s); those entries will be re-sent", s->dir, path, bad,
			 n % SPCODEC_ACK_REC);
	if (n % SPCODEC_ACK_REC && ftruncate(fd, (off_t)(n - n % SPCODEC_ACK_REC)) < 0)
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

/* A segment file whose header is bad (a crash while creating it): delete it and its
 * release file. */
static void drop_headless(spool_t *s, uint32_t id, const char *path, size_t n)
{
	char ack[PATH_MAX];

	log_warn("spool %s: %s has no valid segment header (%zu bytes); deleted", s->dir,
		 path, n);
	s->skipped++;
	unlink(path);
	spseg_path(s, id, "ack", ack, sizeof(ack));
	unlink(ack);
	s->dir_dirty = true;
}

/* Index entry seq (payload len, at pos of segment id) unless acks (sorted) name it
 * as released. 0, or -1 out of memory. */
static int index_entry(spool_t *s, struct seg *g, uint64_t seq, uint32_t len, size_t pos,
		       const uint64_t *acks, size_t nacks)
{
	g->nentries++;
	if (nacks && bsearch(&seq, acks, nacks, sizeof(*acks), cmp_u64)) {
		g->nreleased++;
		return 0;
	}
	if (spseg_grow((void **)&s->ents, &s->capents, s->nents + 1, sizeof(struct ent)) < 0)
		return -1;
	s->ents[s->nents++] = (struct ent){ .seq = seq, .off = pos, .seg = g->id, .len = len };
	s->depth++;
	s->bytes += SPCODEC_ENT_HDR + len;
	s->replayed++;
	return 0;
}

/* Walk the n bytes of segment g's file b: index every valid entry, skip (and log)
 * corrupt regions up to the next valid entry. 0, or -1 out of memory. */
static int scan_entries(spool_t *s, struct seg *g, const unsigned char *b, size_t n,
			const char *path, const uint64_t *acks, size_t nacks,
			uint64_t *last_seq)
{
	size_t pos = SPCODEC_SEG_HDR;
	uint32_t len;
	uint64_t seq;

	while (pos < n) {
		if (spcodec_entry_at(b, n, pos, *last_seq, &len, &seq)) {
			*last_seq = seq;
			if (index_entry(s, g, seq, len, pos, acks, nacks) < 0)
				return -1;
			pos += SPCODEC_ENT_HDR + len;
			continue;
		}
		size_t start = pos;
		do
			pos++;
		while (pos < n && !spcodec_entry_at(b, n, pos, *last_seq, &len, &seq));
		s->skipped++;
		log_warn("spool %s: %s: %s at offset %zu: skipped %zu byte(s)%s", s->dir,
			 path, pos < n ? "corrupt entry" : "torn or corrupt tail", start,
			 pos - start, pos < n ? ", resumed at the next valid entry" : "");
	}
	return 0;
}

/* Load segment id as a sealed segment: index its valid unreleased entries. A file
 * whose header is bad is deleted. */
static int load_segment(spool_t *s, uint32_t id, uint64_t *last_seq)
{
	char path[PATH_MAX];
	struct stat st;
	unsigned char *b = NULL;
	uint64_t *acks = NULL;
	size_t n = 0, nacks = 0;
	uint64_t base_seq;

	spseg_path(s, id, "seg", path, sizeof(path));
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_error("spool %s: cannot open %s: %s", s->dir, path, strerror(errno));
		goto fail;
	}
	n = (size_t)st.st_size;
	if (!(b = read_whole(fd, n))) {
		log_error("spool %s: cannot read %s: %s", s->dir, path, strerror(errno));
		goto fail;
	}
	if (!spcodec_seg_header_ok(b, n, &base_seq)) {
		close(fd);
		free(b);
		drop_headless(s, id, path, n);
		return 0;
	}
	if (load_acks(s, id, &acks, &nacks) < 0 ||
	    spseg_grow((void **)&s->segs, &s->capsegs, s->nsegs + 1, sizeof(struct seg)) < 0)
		goto fail;
	struct seg g = { .id = id, .fd = fd, .ack_fd = -1, .base_seq = base_seq,
			 .size = n, .sealed = true };
	if (scan_entries(s, &g, b, n, path, acks, nacks, last_seq) < 0)
		goto fail;
	s->segs[s->nsegs++] = g;
	s->seg_bytes += g.size;
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
		if ((v = spcodec_parse_name(de->d_name, "seg")) > 0) {
			if (spseg_grow((void **)segs, &cs, *nseg + 1, sizeof(uint32_t)) < 0)
				break;
			(*segs)[(*nseg)++] = (uint32_t)v;
		} else if ((v = spcodec_parse_name(de->d_name, "ack")) > 0) {
			if (spseg_grow((void **)acks, &ca, *nack + 1, sizeof(uint32_t)) < 0)
				break;
			(*acks)[(*nack)++] = (uint32_t)v;
		}
	}
	closedir(d);
	if (*nseg)
		qsort(*segs, *nseg, sizeof(uint32_t), cmp_u32);
	return 0;
}

/* A spool with o's settings (defaults for zeros) and nothing loaded; NULL with err
 * filled when out of memory or the directory name is unusable. */
static spool_t *spool_new(const spool_opts_t *o, char *err, size_t errlen)
{
	spool_t *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "spool: out of memory");
		return NULL;
	}
	if (!o->dir || !*o->dir || strlen(o->dir) >= sizeof(s->dir)) {
		snprintf(err, errlen, "spool: directory name missing or too long");
		free(s);
		return NULL;
	}
	snprintf(s->dir, sizeof(s->dir), "%s", o->dir);
	s->max_bytes = o->max_bytes ? o->max_bytes : (1ull << 30);
	s->segment_bytes = o->segment_bytes ? o->segment_bytes : (8ull << 20);
	s->hwm_percent = o->hwm_percent ? o->hwm_percent : 80;
	s->flush_entries = o->flush_entries ? o->flush_entries : 64;
	s->flush_ms = o->flush_ms ? o->flush_ms : 20;
	s->next_seq = 1;
	return s;
}

static void spool_free(spool_t *s)
{
	for (size_t i = 0; i < s->nsegs; i++)
		spseg_close(&s->segs[i]);
	free(s->segs);
	free(s->ents);
	free(s->wbuf);
	free(s->scratch);
	free(s);
}

/* Load every segment of the directory (ids ascending), delete .ack files without
 * their segment (left by a crash mid-delete), and set next_seq past everything seen.
 * 0, or -1 with err filled. */
static int load_all(spool_t *s, const uint32_t *segids, size_t nseg,
		    const uint32_t *ackids, size_t nack, char *err, size_t errlen)
{
	uint64_t last_seq = 0;

	for (size_t i = 0; i < nseg; i++) {
		if (load_segment(s, segids[i], &last_seq) < 0) {
			snprintf(err, errlen, "spool %s: cannot load segment %09u (see the "
				 "log)", s->dir, segids[i]);
			return -1;
		}
	}
	for (size_t i = 0; i < nack; i++) {
		if (!nseg || !bsearch(&ackids[i], segids, nseg, sizeof(uint32_t), cmp_u32)) {
			char path[PATH_MAX];
			spseg_path(s, ackids[i], "ack", path, sizeof(path));
			unlink(path);
			s->dir_dirty = true;
		}
	}
	s->next_seq = last_seq + 1;
	for (size_t i = 0; i < s->nsegs; i++)
		if (s->segs[i].base_seq > s->next_seq && s->segs[i].base_seq < UINT64_MAX / 2)
			s->next_seq = s->segs[i].base_seq;
	return 0;
}

/* Open a fresh active segment after the loaded ones and delete the sealed segments
 * with nothing left to send (the new active one keeps the sequence watermark, so
 * deleting every old one is safe); then make the directory durable. */
static int start_active(spool_t *s, uint32_t next_id, char *err, size_t errlen)
{
	if (spseg_create(s, next_id, s->next_seq) < 0) {
		snprintf(err, errlen, "spool %s: cannot create segment %09u: %s", s->dir,
			 next_id, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i + 1 < s->nsegs;) {
		if (s->segs[i].nreleased == s->segs[i].nentries)
			spseg_delete(s, &s->segs[i]);
		else
			i++;
	}
	if (util_fsync_dir(s->dir) < 0) {
		snprintf(err, errlen, "spool %s: cannot fsync the directory: %s", s->dir,
			 strerror(errno));
		return -1;
	}
	s->dir_dirty = false;
	return 0;
}

spool_t *spool_open(const spool_opts_t *o, char *err, size_t errlen)
{
	uint32_t *segids = NULL, *ackids = NULL;
	size_t nseg = 0, nack = 0;
	spool_t *s = spool_new(o, err, errlen);

	if (!s)
		return NULL;
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
	if (load_all(s, segids, nseg, ackids, nack, err, errlen) < 0 ||
	    start_active(s, nseg ? segids[nseg - 1] + 1 : 1, err, errlen) < 0)
		goto fail;
	spseg_note_peak(s);
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
	spool_free(s);
	return NULL;
}

void spool_close(spool_t *s)
{
	if (!s)
		return;
	s->closing = true;
	if (spool_flush(s) < 0)
		log_error("spool %s: records buffered at close may be lost", s->dir);
	spool_free(s);
}
