/* backoff: see backoff.h. */
#include "backoff.h"

#include <stdlib.h>

unsigned backoff_delay_ms(unsigned min_ms, unsigned max_ms, unsigned n, bool jitter)
{
	unsigned long long d = min_ms;

	if (max_ms < min_ms)
		max_ms = min_ms;
	for (unsigned i = 1; i < n && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	if (jitter && d / 4)
		d += (unsigned long long)rand() % (d / 4 + 1);
	return (unsigned)d;
}
