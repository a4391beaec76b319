/*
 * libFuzzer target for config parsing: cfg_parse_text (jsonlint + cJSON + the
 * duplicate-key walk) on arbitrary bytes. It must never crash; a refusal must leave
 * one message of the form "FILE:LINE:COL: ..." or "FILE: ...", with the position
 * inside the text; an accepted text must be valid for jsonlint too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "jsonlint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonlint_error e;
	char err[512];
	cfg_ctx_t c;
	cJSON *root;

	cfg_ctx_init(&c, "f.json", err, sizeof(err));
	root = cfg_parse_text(&c, (const char *)data, size);
	if (root) {
		if (jsonlint_check((const char *)data, size, &e) != 0 || c.failed)
			abort();
		cJSON_Delete(root);
		return 0;
	}
	if (!c.failed || strncmp(err, "f.json:", 7) != 0)
		abort();
	if (jsonlint_check((const char *)data, size, &e) < 0 &&
	    (e.offset > size || e.line < 1 || e.column < 1 || !e.reason[0]))
		abort();
	return 0;
}
