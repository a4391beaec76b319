/* intake: see intake.h. */
#include "intake.h"

#include <stdio.h>
#include <string.h>

#include "record.h"

int intake_kind(const char *dest, enum rs_kind *kind)
{
	if (!dest)
		return -1;
	if (!strcmp(dest, REC_DEST_CDR))
		*kind = RS_KIND_CDR;
	else if (!strcmp(dest, REC_DEST_EVENTS))
		*kind = RS_KIND_EVENT;
	else if (!strcmp(dest, REC_DEST_METRICS))
		*kind = RS_KIND_METRIC;
	else
		return -1;
	return 0;
}

enum intake_status intake_item(enum rs_kind kind, const char *body, size_t len,
			       const char *receipt, int64_t received_ms, rs_item_t **out,
			       char *field, size_t fieldlen, char *err, size_t errlen)
{
	char id[130];
	record_t rec;
	int rc;

	*out = NULL;
	/* record_decode and record_check_envelope check strict RFC 8259 JSON in valid
	 * UTF-8 first (json_strict), naming the field at fault. */
	if (kind == RS_KIND_CDR) {
		rc = record_decode(body, len, &rec, field, fieldlen, err, errlen);
		if (!rc)
			memcpy(id, rec.id, sizeof(rec.id));
	} else {
		rc = record_check_envelope(body, len, id, sizeof(id), field, fieldlen, err,
					   errlen);
	}
	if (rc)
		return INTAKE_INVALID;
	*out = writer_item_new(kind, id, kind == RS_KIND_CDR ? &rec : NULL, body, len,
			       receipt, received_ms);
	return *out ? INTAKE_OK : INTAKE_NOMEM;
}
