/* quarantine: see quarantine.h. */
#include "quarantine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static const char *const q_kinds[3] = { "cdr", "event", "metric" };

/* Append s as a JSON string, every byte outside printable ASCII as \u00XX. Returns
 * the new position (never past cap - 1). */
static size_t q_put_str(char *out, size_t pos, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (pos + 1 < cap)
		out[pos++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p && pos + 8 < cap; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') {
			out[pos++] = (char)*p;
			continue;
		}
		memcpy(out + pos, "\\u00", 4);
		out[pos + 4] = hex[*p >> 4];
		out[pos + 5] = hex[*p & 15];
		pos += 6;
	}
	if (pos + 1 < cap)
		out[pos++] = '"';
	return pos;
}

int quarantine_file(const char *dir, const rs_row_t *row, const char *why, char *err,
		    size_t errlen)
{
	static const char hex[] = "0123456789abcdef";
	char path[600];
	size_t cap = 2 * row->body_len + 2048, pos = 0;
	char *line = malloc(cap);
	int fd = -1;

	if (!line) {
		snprintf(err, errlen, "dead-letter file: out of memory");
		return -1;
	}
	pos += (size_t)snprintf(line, cap, "{\"id\":");
	pos = q_put_str(line, pos, 600, row->id);
	pos += (size_t)snprintf(line + pos, cap - pos,
				",\"kind\":\"%s\",\"received_ms\":%lld,\"quarantined_ms\":%lld,"
				"\"error\":",
				q_kinds[row->kind <= RS_KIND_METRIC ? row->kind : 0],
				(long long)row->received_ms, (long long)util_now_ms());
	pos = q_put_str(line, pos, pos + 900, why);
	pos += (size_t)snprintf(line + pos, cap - pos, ",\"body_hex\":\"");
	for (size_t i = 0; i < row->body_len; i++) {
		unsigned char c = (unsigned char)row->body[i];
		line[pos++] = hex[c >> 4];
		line[pos++] = hex[c & 15];
	}
	memcpy(line + pos, "\"}\n", 3);
	pos += 3;
	snprintf(path, sizeof(path), "%s/rs.dead-letter", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0 || util_write_all(fd, line, pos) || fdatasync(fd)) {
		snprintf(err, errlen, "dead-letter file %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(line);
		return -1;
	}
	close(fd);
	free(line);
	return 0;
}

int quarantine_row(rs_store_t *st, const char *dir, const rs_row_t *row, const char *why,
		   char *err, size_t errlen)
{
	char e[512];

	if (store_quarantine(st, row, why, e, sizeof(e)) == 0) {
		log_error("record %s quarantined in table cdr_dead_letter: %s", row->id, why);
		return 0;
	}
	if (quarantine_file(dir, row, why, err, errlen))
		return -1;
	log_error("record %s quarantined in %s/rs.dead-letter (the database refused the"
		  " dead-letter row too: %s): %s",
		  row->id, dir, e, why);
	return 0;
}

int quarantine_insert(rs_store_t *st, const char *dir, const rs_row_t *rows, size_t n,
		      size_t *inserted, size_t *quarantined, char *err, size_t errlen)
{
	size_t ins = 0;
	int rc;

	if (n == 0)
		return 0;
	rc = store_insert_batch(st, rows, n, &ins, err, errlen);
	if (rc == 0) {
		*inserted += ins;
		return 0;
	}
	if (rc != STORE_EROW)
		return -1;
	if (n == 1) {
		char why[512];
		snprintf(why, sizeof(why), "%s", err);
		if (quarantine_row(st, dir, &rows[0], why, err, errlen))
			return -1;
		(*quarantined)++;
		return 0;
	}
	size_t half = n / 2;
	if (quarantine_insert(st, dir, rows, half, inserted, quarantined, err, errlen))
		return -1;
	return quarantine_insert(st, dir, rows + half, n - half, inserted, quarantined, err,
				 errlen);
}
