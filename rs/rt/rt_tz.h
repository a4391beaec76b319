/*
 * rt_tz: what "today" and "this hour" mean for real-time usage in a time zone: the
 * UTC instants of the local day's and hour's starts (rt_window_t, rt_usage.h), from
 * the zone files the report API reads too (rs/report/tz.h). Pure once the zone is
 * loaded: no clock reads, no globals.
 *
 * The local day is the one holding now's local wall time: its start is local 00:00
 * (or, on a day whose midnight falls in a gap, the instant the clocks jump), so it
 * lasts 23, 24 or 25 hours. The hour likewise.
 */
#ifndef RS_RT_TZ_H
#define RS_RT_TZ_H

#include <stdint.h>

#include "rt_usage.h"
#include "tz.h"

/* The window of now_ms in zone z (NULL: UTC). */
rt_window_t rt_tz_window(const tz_t *z, int64_t now_ms);

#endif
