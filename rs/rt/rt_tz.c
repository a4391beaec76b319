/* rt_tz: today and this hour in a time zone. See rt_tz.h. */
#include "rt_tz.h"

/* floor(a / b) * b for b > 0 */
static int64_t floor_to(int64_t a, int64_t b)
{
	return a - ((a % b) + b) % b;
}

rt_window_t rt_tz_window(const tz_t *z, int64_t now_ms)
{
	rt_window_t w;
	int64_t now_s, local;

	if (!z)
		return rt_window_utc(now_ms);
	now_s = floor_to(now_ms, 1000) / 1000;
	local = now_s + tz_offset(z, now_s);
	w.day_start = tz_to_utc(z, floor_to(local, 86400)) * 1000;
	w.hour_start = tz_to_utc(z, floor_to(local, 3600)) * 1000;
	/* never ahead of now (a local hour that began in a gap) */
	if (w.hour_start > now_ms)
		w.hour_start = floor_to(now_ms, RT_SLOT_MS);
	if (w.day_start > w.hour_start)
		w.day_start = w.hour_start;
	return w;
}
