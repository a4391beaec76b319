/* oid: see oid.h. */
#include "oid.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

static int oid_scan(const char *text, uint32_t *out, size_t max, bool count_only)
{
	size_t n = 0;
	const char *p = text;

	if (!p)
		return -1;
	if (*p == '.')
		p++;
	while (*p) {
		char *end;
		unsigned long long v;

		if (*p < '0' || *p > '9' || (!count_only && n == max) || n >= INT32_MAX)
			return -1;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno || v > UINT32_MAX)
			return -1;
		if (!count_only)
			out[n] = (uint32_t)v;
		n++;
		if (*end == '.' && end[1])
			p = end + 1;
		else if (*end == '\0')
			p = end;
		else
			return -1;
	}
	return n ? (int)n : -1;
}

int oid_parse(const char *text, uint32_t *out, size_t max)
{
	return oid_scan(text, out, max, false);
}

int oid_parts(const char *text)
{
	return oid_scan(text, NULL, 0, true);
}
