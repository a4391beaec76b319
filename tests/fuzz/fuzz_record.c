/*
 * libFuzzer target for the CDR decoder: record_decode on arbitrary bytes; when it
 * accepts, the record must encode, decode again and come back identical. The
 * envelope check runs on the same input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

static int fuzz_same(const record_t *a, const record_t *b)
{
	return !strcmp(a->id, b->id) && a->schema == b->schema &&
	       !strcmp(a->call_id, b->call_id) && !strcmp(a->session_id, b->session_id) &&
	       !strcmp(a->node, b->node) && !strcmp(a->tenant, b->tenant) &&
	       !strcmp(a->profile, b->profile) && !strcmp(a->service_type, b->service_type) &&
	       !strcmp(a->lrg, b->lrg) && !strcmp(a->mcp, b->mcp) &&
	       !strcmp(a->caller, b->caller) && !strcmp(a->dnis, b->dnis) &&
	       a->start_ms == b->start_ms && a->answer_ms == b->answer_ms &&
	       a->end_ms == b->end_ms && a->duration_ms == b->duration_ms &&
	       a->disposition == b->disposition && a->sip_status == b->sip_status &&
	       a->ended_by == b->ended_by && a->attempts == b->attempts &&
	       a->usage_level == b->usage_level;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	record_t a, b;
	char field[64], err[256], id[129], out[8192];
	int n;

	field[0] = err[0] = '\0';
	if (record_check_envelope((const char *)data, size, id, sizeof(id), field,
				  sizeof(field), err, sizeof(err)) < 0 &&
	    (!field[0] || !err[0]))
		abort();
	field[0] = err[0] = '\0';
	if (record_decode((const char *)data, size, &a, field, sizeof(field), err,
			  sizeof(err)) < 0) {
		if (!field[0] || !err[0])
			abort();
		return 0;
	}
	if (record_validate(&a, field, sizeof(field), err, sizeof(err)) < 0)
		abort();
	n = record_encode(&a, out, sizeof(out));
	if (n < 0 || (size_t)n != strlen(out))
		abort();
	if (record_decode(out, (size_t)n, &b, field, sizeof(field), err, sizeof(err)) < 0) {
		fprintf(stderr, "re-decode failed: %s: %s\n%s\n", field, err, out);
		abort();
	}
	if (!fuzz_same(&a, &b))
		abort();
	return 0;
}
