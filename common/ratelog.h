/*
 * ratelog: at most one log line per interval for a condition that can repeat at the
 * speed of the loop (accept failing with EMFILE, connections refused at a cap). The
 * line that is let through says how many were held back since the previous one.
 * Pure: the caller passes the clock.
 */
#ifndef COMMON_RATELOG_H
#define COMMON_RATELOG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ratelog {
	int64_t last_ms;      /* when a line was last let through; 0 = never */
	unsigned suppressed;  /* lines held back since then */
} ratelog_t;              /* zero-initialise */

/* May a line be logged at now_ms, given at most one per interval_ms? true: log it,
 * mentioning *suppressed (the lines held back since the last one, then reset to 0).
 * false: the line is counted as held back. */
bool ratelog_allow(ratelog_t *r, int64_t now_ms, int64_t interval_ms, unsigned *suppressed);

#endif
