/* spool_seg: segment and release-file I/O of the spool (see spool_int.h). */
#include "spool_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

void spseg_path(const spool_t *s, uint32_t id, const char *ext, char *out,
		     size_t cap)
{
	snprintf(out, cap, "%s/%09u.%s", s->dir, id, ext);
}

int spseg_grow(void **buf, size_t *cap, size_t need, size_t elem)
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

int spseg_pread_all(int fd, void *buf, size_t len, off_t off)
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

struct seg *spseg_active(spool_t *s)
{
	return &s->segs[s->nsegs - 1];
}

uint64_t spseg_disk_bytes(const spool_t *s)
{
	return s->seg_bytes + s->wlen;
}

unsigned spseg_usage(const spool_t *s)
{
	uint64_t pct = spseg_disk_bytes(s) * 100 / s->max_bytes;
	return pct > 100 ? 100 : (unsigned)pct;
}

void spseg_note_peak(spool_t *s)
{
	unsigned u = spseg_usage(s);
	if (u > s->peak_percent)
		s->peak_percent = u;
}

void spseg_close(struct seg *g)
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
void spseg_delete(spool_t *s, struct seg *g)
{
	char path[PATH_MAX];

	s->pending_acks -= g->acklen / SPCODEC_ACK_REC;
	spseg_close(g);
	spseg_path(s, g->id, "seg", path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("spool %s: cannot delete %s: %s", s->dir, path, strerror(errno));
	spseg_path(s, g->id, "ack", path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("spool %s: cannot delete %s: %s", s->dir, path, strerror(errno));
	s->seg_bytes -= g->size;
	size_t i = (size_t)(g - s->segs);
	memmove(&s->segs[i], &s->segs[i + 1], (s->nsegs - i - 1) * sizeof(*g));
	s->nsegs--;
	s->dir_dirty = true;
}

/* Create segment id with base_seq and make it the spseg_active one. */
int spseg_create(spool_t *s, uint32_t id, uint64_t base_seq)
{
	char path[PATH_MAX];
	unsigned char hdr[SPCODEC_SEG_HDR] = { 0 };

	if (spseg_grow((void **)&s->segs, &s->capsegs, s->nsegs + 1, sizeof(struct seg)) < 0)
		return -1;
	spseg_path(s, id, "seg", path, sizeof(path));
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		log_error("spool %s: cannot create %s: %s", s->dir, path, strerror(errno));
		return -1;
	}
	spcodec_seg_header(hdr, base_seq);
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
	g->size = SPCODEC_SEG_HDR;
	s->seg_bytes += SPCODEC_SEG_HDR;
	s->dir_dirty = true;
	return 0;
}

/* Append the buffered entries at the end of segment g (and fsync it if sync). On
 * failure the file is cut back to its previous size and the buffer kept for a
 * retry. */
int spseg_append_buffer(spool_t *s, struct seg *g, bool sync)
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
	s->seg_bytes += s->wlen;
	s->wlen = 0;
	return 0;
}

/* Write the buffered entries to the spseg_active segment and fsync it. */
int spseg_flush_data(spool_t *s)
{
	struct seg *g = spseg_active(s);

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
	if (spseg_append_buffer(s, g, true) < 0)
		return -1;
	s->wcount = 0;
	s->unsynced = false;
	return 0;
}

int spseg_flush_acks(spool_t *s, struct seg *g, bool sync)
{
	char path[PATH_MAX];

	if (g->acklen == 0 && !(sync && g->ack_unsynced))
		return 0;
	if (g->ack_fd < 0) {
		spseg_path(s, g->id, "ack", path, sizeof(path));
		g->ack_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (g->ack_fd < 0) {
			log_error("spool %s: cannot open %s: %s", s->dir, path,
				  strerror(errno));
			return -1;
		}
		s->dir_dirty = true;
	}
	if ((g->acklen && util_write_all(g->ack_fd, g->ackbuf, g->acklen) < 0) ||
	    (sync && fsync(g->ack_fd) < 0)) {
		log_error("spool %s: cannot write releases of segment %09u: %s", s->dir,
			  g->id, strerror(errno));
		/* The file may now end in a partial record; the reader ignores it but
		 * appending after it would misalign the rest, so start over cleanly. */
		struct stat st;
		if (fstat(g->ack_fd, &st) == 0 && ftruncate(g->ack_fd, st.st_size - st.st_size % SPCODEC_ACK_REC) < 0)
			log_error("spool %s: cannot truncate releases of segment %09u",
				  s->dir, g->id);
		return -1;
	}
	s->pending_acks -= g->acklen / SPCODEC_ACK_REC;
	g->acklen = 0;
	g->ack_unsynced = !sync;
	return 0;
}
