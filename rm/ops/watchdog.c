/*
 * watchdog: SIP thread heartbeat (see watchdog.h).
 */
#include "watchdog.h"

#include <stdio.h>
#include <time.h>

int64_t watchdog_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void watchdog_init(struct watchdog *w, int limit_s)
{
	w->limit_s = limit_s;
	atomic_store(&w->beat_ms, watchdog_now_ms());
}

void watchdog_beat(struct watchdog *w)
{
	atomic_store(&w->beat_ms, watchdog_now_ms());
}

int64_t watchdog_age_ms(const struct watchdog *w, int64_t now_ms)
{
	int64_t age = now_ms - atomic_load(&((struct watchdog *)w)->beat_ms);
	return age > 0 ? age : 0;
}

bool watchdog_stalled(int64_t age_ms, int limit_s, char *why, size_t len)
{
	if (limit_s <= 0 || age_ms <= (int64_t)limit_s * 1000)
		return false;
	if (why && len)
		snprintf(why, len, "SIP thread stalled for %.1f s (limit %d s)",
			 (double)age_ms / 1000, limit_s);
	return true;
}
