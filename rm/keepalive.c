/*
 * keepalive: in-dialog OPTIONS (stub, filled in below).
 */
#include "proxy_int.h"

#include <stdlib.h>

struct keepalive {
	struct proxy *p;
};

struct keepalive *keepalive_new(struct proxy *p)
{
	struct keepalive *ka = calloc(1, sizeof *ka);
	if (ka)
		ka->p = p;
	return ka;
}

void keepalive_free(struct keepalive *ka)
{
	free(ka);
}

void keepalive_tick(struct keepalive *ka, int64_t now_ms)
{
	(void)ka;
	(void)now_ms;
}
