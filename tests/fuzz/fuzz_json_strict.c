/*
 * libFuzzer target for the strict JSON validator: json_strict_check on arbitrary
 * bytes must not crash, must fill path and reason when it refuses, and whatever it
 * accepts cJSON must parse too (strict is a subset of what cJSON reads) and hold no
 * NUL byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "json_strict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[256];
	const char *end = NULL;

	path[0] = err[0] = '\0';
	if (json_strict_check((const char *)data, size, path, sizeof(path), err,
			      sizeof(err)) < 0) {
		if (!path[0] || !err[0] || strlen(path) >= sizeof(path))
			abort();
		return 0;
	}
	if (memchr(data, 0, size))
		abort();
	cJSON *root = cJSON_ParseWithLengthOpts((const char *)data, size, &end, 0);
	/* cJSON limits nesting to CJSON_NESTING_LIMIT (1000) > JSON_STRICT_MAX_DEPTH. */
	if (!root)
		abort();
	cJSON_Delete(root);
	return 0;
}
