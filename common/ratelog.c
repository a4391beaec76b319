/* ratelog: see ratelog.h. */
#include "ratelog.h"

bool ratelog_allow(ratelog_t *r, int64_t now_ms, int64_t interval_ms, unsigned *suppressed)
{
	if (r->last_ms && now_ms >= r->last_ms && now_ms - r->last_ms < interval_ms) {
		r->suppressed++;
		return false;
	}
	*suppressed = r->suppressed;
	r->suppressed = 0;
	r->last_ms = now_ms ? now_ms : 1;
	return true;
}
