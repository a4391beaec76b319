/*
 * deadletter: where rm puts a billing record that rs refused for good (an ERROR with
 * receipt-id and retryable:false, see common/stomp.h), so that no record rm fails to
 * deliver is ever silently deleted.
 *
 * The file is DEADLETTER_FILE in the spool directory: JSON lines, append-only, one
 * line per refused record, fsync'd before the record is released from the spool
 * (so a crash between the two re-sends the record and may write a second line for
 * it; never zero lines):
 *   {"time_ms":1764500031000,"seq":42,"destination":"/queue/gvp.cdr",
 *    "reason":"invalid record: field start_ms: ...","body":"{\"id\":...}"}
 * time_ms: when rm wrote the line (UTC ms). body: the record exactly as it was sent,
 * as a JSON string (a refused record may be invalid JSON, so it is not embedded as an
 * object; `jq -r .body` gives it back). rm never reads, rotates or trims the file:
 * an operator fixes and re-sends the records, then removes it.
 *
 * deadletter_line is pure; deadletter_append does the file I/O.
 */
#ifndef RM_DEADLETTER_H
#define RM_DEADLETTER_H

#include <stddef.h>
#include <stdint.h>

#define DEADLETTER_FILE "dead-letter.jsonl"

/* One line (with its '\n') describing a refused record. body: body_len bytes (a NUL
 * inside cuts it there). reason may be NULL. Returns a malloc'd, NUL-terminated
 * string the caller frees, or NULL on out of memory. */
char *deadletter_line(int64_t time_ms, uint64_t seq, const char *dest, const char *body,
		      size_t body_len, const char *reason);

/* Append line to DEADLETTER_FILE in dir (created 0640 if missing, and then the
 * directory is fsync'd too) and fsync it. Returns 0, or -1 with a sentence in err
 * ("dead-letter file /var/spool/rm/dead-letter.jsonl: write: No space left on
 * device"). A failed append may leave a torn last line: readers skip a line that
 * does not parse. */
int deadletter_append(const char *dir, const char *line, char *err, size_t errlen);

#endif
