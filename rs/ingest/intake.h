/*
 * intake: turn one received STOMP body into a writer item. Pure (no sockets, no
 * globals); shared by the listener (server.c) and the broker consumer (consumer.c), so
 * both accept and refuse exactly the same records.
 */
#ifndef RS_INTAKE_H
#define RS_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "writer.h"

/* Destination -> kind: /queue/gvp.cdr, /queue/gvp.events, /queue/gvp.metrics.
 * 0, or -1 for any other destination (or NULL). */
int intake_kind(const char *dest, enum rs_kind *kind);

enum intake_status { INTAKE_OK = 0, INTAKE_INVALID = -1, INTAKE_NOMEM = -2 };

/* Validate body (record_decode for a CDR or record_check_envelope for an event/metric:
 * both check strict RFC 8259 JSON in valid UTF-8 first) and build the item (receipt
 * may be NULL; it is copied). On INTAKE_OK *out is a new item the caller owns (free()
 * or writer_submit). On INTAKE_INVALID, field names the offending field (its JSON
 * path, or "(body)") and err says why. */
enum intake_status intake_item(enum rs_kind kind, const char *body, size_t len,
			       const char *receipt, int64_t received_ms, rs_item_t **out,
			       char *field, size_t fieldlen, char *err, size_t errlen);

#endif
