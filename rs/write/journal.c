/* journal: see journal.h for the file format and the guarantees. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define J_MAGIC 0x314a5352u /* "RSJ1" little endian */
#define J_HDR 24
#define J_MAX_BODY (64u * 1024 * 1024)

struct journal {
	int fd;
	char path[600];
	uint64_t size;  /* end of the last complete entry */
	uint64_t rd;    /* replay cursor */
	uint64_t depth; /* entries in [rd, size) */
};

uint32_t journal_crc32(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t table[256];
	static int ready;
	const unsigned char *p = buf;

	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4); /* the platforms we build for are little endian */
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* CRC over everything after the crc field: kind, idlen, pad, received, id, body. */
static uint32_t entry_crc(const unsigned char *hdr, const char *id, size_t idlen,
			  const char *body, size_t len)
{
	uint32_t c = journal_crc32(0, hdr + 12, J_HDR - 12);
	c = journal_crc32(c, id, idlen);
	return journal_crc32(c, body, len);
}

/* Parse one entry at p (avail bytes). Returns its total size, 0 if incomplete or
 * corrupt. */
static size_t entry_parse(const unsigned char *p, size_t avail, rs_row_t *row)
{
	if (avail < J_HDR || get32(p) != J_MAGIC)
		return 0;
	uint32_t len = get32(p + 4);
	size_t idlen = p[13];
	if (len > J_MAX_BODY || p[12] > RS_KIND_METRIC || idlen == 0 ||
	    avail < J_HDR + idlen + 1 + len || p[J_HDR + idlen] != 0)
		return 0;
	const char *id = (const char *)p + J_HDR;
	const char *body = id + idlen + 1;
	if (entry_crc(p, id, idlen + 1, body, len) != get32(p + 8))
		return 0;
	if (row) {
		row->kind = (enum rs_kind)p[12];
		memcpy(&row->received_ms, p + 16, 8);
		row->id = id;
		row->body = body;
		row->body_len = len;
		row->rec = NULL;
	}
	return J_HDR + idlen + 1 + len;
}

/* Walk the file from 0, counting entries; cut any torn tail. */
static int journal_scan(journal_t *j, char *err, size_t errlen)
{
	struct stat st;
	unsigned char hdr[J_HDR];
	unsigned char *buf = NULL;
	size_t cap = 0;
	uint64_t off = 0;

	if (fstat(j->fd, &st)) {
		snprintf(err, errlen, "journal %s: %s", j->path, strerror(errno));
		return -1;
	}
	while (off + J_HDR <= (uint64_t)st.st_size) {
		if (pread(j->fd, hdr, J_HDR, (off_t)off) != J_HDR || get32(hdr) != J_MAGIC)
			break;
		size_t total = J_HDR + hdr[13] + 1 + (size_t)get32(hdr + 4);
		if (get32(hdr + 4) > J_MAX_BODY || off + total > (uint64_t)st.st_size)
			break;
		if (total > cap) {
			unsigned char *nb = realloc(buf, total);
			if (!nb)
				break;
			buf = nb;
			cap = total;
		}
		if (pread(j->fd, buf, total, (off_t)off) != (ssize_t)total ||
		    entry_parse(buf, total, NULL) != total)
			break;
		off += total;
		j->depth++;
	}
	free(buf);
	if (off != (uint64_t)st.st_size) {
		log_warn("journal %s: cutting a torn tail of %lld bytes at offset %llu",
			 j->path, (long long)st.st_size - (long long)off,
			 (unsigned long long)off);
		if (ftruncate(j->fd, (off_t)off) || fdatasync(j->fd)) {
			snprintf(err, errlen, "journal %s: truncate: %s", j->path,
				 strerror(errno));
			return -1;
		}
	}
	j->size = off;
	return 0;
}

journal_t *journal_open(const char *dir, char *err, size_t errlen)
{
	journal_t *j = calloc(1, sizeof(*j));
	if (!j) {
		snprintf(err, errlen, "journal: out of memory");
		return NULL;
	}
	j->fd = -1;
	if (mkdir(dir, 0750) && errno != EEXIST) {
		snprintf(err, errlen, "journal: cannot create %s: %s", dir, strerror(errno));
		goto fail;
	}
	snprintf(j->path, sizeof(j->path), "%s/rs.journal", dir);
	j->fd = open(j->path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (j->fd < 0) {
		snprintf(err, errlen, "journal: cannot open %s: %s", j->path, strerror(errno));
		goto fail;
	}
	if (journal_scan(j, err, errlen))
		goto fail;
	util_fsync_dir(dir);
	return j;
fail:
	journal_close(j);
	return NULL;
}

void journal_close(journal_t *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	free(j);
}

int journal_append(journal_t *j, const rs_row_t *rows, size_t n, char *err,
		   size_t errlen)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += J_HDR + strlen(rows[i].id) + 1 + rows[i].body_len;
	unsigned char *buf = malloc(total ? total : 1), *p = buf;
	if (!buf) {
		snprintf(err, errlen, "journal: out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const rs_row_t *r = &rows[i];
		size_t idlen = strlen(r->id);
		if (idlen > 255)
			idlen = 255; /* ids are at most 128 by schema */
		memset(p, 0, J_HDR);
		put32(p, J_MAGIC);
		put32(p + 4, (uint32_t)r->body_len);
		p[12] = (unsigned char)r->kind;
		p[13] = (unsigned char)idlen;
		memcpy(p + 16, &r->received_ms, 8);
		memcpy(p + J_HDR, r->id, idlen);
		p[J_HDR + idlen] = 0;
		memcpy(p + J_HDR + idlen + 1, r->body, r->body_len);
		put32(p + 8, entry_crc(p, (char *)p + J_HDR, idlen + 1, r->body, r->body_len));
		p += J_HDR + idlen + 1 + r->body_len;
	}
	total = (size_t)(p - buf);
	size_t done = 0;
	while (done < total) {
		ssize_t w = pwrite(j->fd, buf + done, total - done, (off_t)(j->size + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		done += (size_t)w;
	}
	if (fdatasync(j->fd))
		goto fail;
	free(buf);
	j->size += total;
	j->depth += n;
	return 0;
fail:
	snprintf(err, errlen, "journal %s: write: %s", j->path, strerror(errno));
	free(buf);
	if (ftruncate(j->fd, (off_t)j->size))
		log_error("journal %s: cannot cut back a failed append: %s", j->path,
			  strerror(errno));
	return -1;
}

int journal_read(journal_t *j, size_t max, journal_chunk_t *ch, char *err, size_t errlen)
{
	ch->n = 0;
	ch->bytes = 0;
	if (j->rd >= j->size || max == 0)
		return 0;
	/* Read a window of the file; grow it until it holds at least one entry. */
	size_t want = 4u * 1024 * 1024;
	for (;;) {
		uint64_t left = j->size - j->rd;
		size_t len = left < want ? (size_t)left : want;
		char *d = realloc(ch->data, len);
		if (!d)
			goto oom;
		ch->data = d;
		if (pread(j->fd, d, len, (off_t)j->rd) != (ssize_t)len) {
			snprintf(err, errlen, "journal %s: read: %s", j->path, strerror(errno));
			return -1;
		}
		if (ch->cap_rows < max) {
			rs_row_t *r = realloc(ch->rows, max * sizeof(*r));
			if (!r)
				goto oom;
			ch->rows = r;
			record_t *rc = realloc(ch->recs, max * sizeof(*rc));
			if (!rc)
				goto oom;
			ch->recs = rc;
			ch->cap_rows = max;
		}
		size_t off = 0, kept = 0, entries = 0;
		while (entries < max && off < len) {
			rs_row_t *row = &ch->rows[kept];
			size_t sz = entry_parse((unsigned char *)d + off, len - off, row);
			if (!sz)
				break;
			off += sz;
			entries++;
			if (row->kind == RS_KIND_CDR) {
				char field[64], e[256];
				/* One that no longer decodes keeps rec NULL: the
				 * writer quarantines it (never dropped silently). */
				if (record_decode(row->body, row->body_len, &ch->recs[kept],
						  field, sizeof(field), e, sizeof(e)) == 0)
					row->rec = &ch->recs[kept];
			}
			kept++;
		}
		if (off == 0) {
			if (len == left) {
				snprintf(err, errlen, "journal %s: corrupt entry at %llu",
					 j->path, (unsigned long long)j->rd);
				return -1;
			}
			want *= 2;
			continue;
		}
		ch->n = kept;
		ch->entries = entries;
		ch->bytes = off;
		return 0;
	}
oom:
	snprintf(err, errlen, "journal: out of memory");
	return -1;
}

int journal_consume(journal_t *j, const journal_chunk_t *ch, char *err, size_t errlen)
{
	j->rd += ch->bytes;
	j->depth = j->depth >= ch->entries ? j->depth - ch->entries : 0;
	if (j->rd >= j->size) {
		if (ftruncate(j->fd, 0) || fdatasync(j->fd)) {
			snprintf(err, errlen, "journal %s: truncate: %s", j->path,
				 strerror(errno));
			return -1;
		}
		j->rd = j->size = 0;
		j->depth = 0;
	}
	return 0;
}

int journal_walk(const char *dir, int (*fn)(void *arg, const rs_row_t *row), void *arg,
		 char *err, size_t errlen)
{
	char path[600];
	unsigned char hdr[J_HDR], *buf = NULL;
	size_t cap = 0;
	uint64_t off = 0;
	rs_row_t row;
	int fd;

	snprintf(path, sizeof path, "%s/rs.journal", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "journal %s: %s", path, strerror(errno));
		return -1;
	}
	while (pread(fd, hdr, J_HDR, (off_t)off) == J_HDR && get32(hdr) == J_MAGIC &&
	       get32(hdr + 4) <= J_MAX_BODY) {
		size_t total = J_HDR + hdr[13] + 1 + (size_t)get32(hdr + 4);
		if (total > cap) {
			unsigned char *nb = realloc(buf, total);
			if (!nb) {
				snprintf(err, errlen, "journal %s: out of memory", path);
				free(buf);
				close(fd);
				return -1;
			}
			buf = nb;
			cap = total;
		}
		if (pread(fd, buf, total, (off_t)off) != (ssize_t)total ||
		    entry_parse(buf, total, &row) != total || fn(arg, &row))
			break;
		off += total;
	}
	free(buf);
	close(fd);
	return 0;
}

void journal_chunk_free(journal_chunk_t *ch)
{
	free(ch->rows);
	free(ch->recs);
	free(ch->data);
	memset(ch, 0, sizeof(*ch));
}

uint64_t journal_depth(const journal_t *j)
{
	return j->depth;
}

uint64_t journal_bytes(const journal_t *j)
{
	return j->size;
}
