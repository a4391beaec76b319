/*
 * watchdog: is rm's SIP thread still turning its loop? (issue 10, "Liveness tells
 * the truth"). The SIP thread stamps a heartbeat from an su_timer (watchdog_beat);
 * the service thread reads its age (watchdog_age_ms) for /healthz and to decide
 * that a signal cannot be served by a stuck SIP thread. The heartbeat is one atomic
 * integer: no lock.
 */
#ifndef RM_WATCHDOG_H
#define RM_WATCHDOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How often the SIP thread stamps the heartbeat. */
#define WATCHDOG_BEAT_MS 250

struct watchdog {
	_Atomic int64_t beat_ms; /* monotonic ms of the last stamp */
	int limit_s;             /* stalled past this; 0 = never */
};

/* Monotonic clock in ms. */
int64_t watchdog_now_ms(void);
/* Start counting from now with the given limit (0 = off). Any thread. */
void watchdog_init(struct watchdog *w, int limit_s);
/* SIP thread: "the loop turned". */
void watchdog_beat(struct watchdog *w);
/* Any thread: ms since the last beat. */
int64_t watchdog_age_ms(const struct watchdog *w, int64_t now_ms);

/* Pure: is a loop whose last beat is age_ms old stalled under limit_s (0 = off)?
 * When it is, why gets a sentence ("SIP thread stalled for 6.2 s (limit 5 s)"). */
bool watchdog_stalled(int64_t age_ms, int limit_s, char *why, size_t len);

#endif
