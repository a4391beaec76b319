/*
 * overload: when rm sheds new INVITEs. A pure decision module: no sockets, no
 * sofia-sip, no clocks (the caller passes the time in ms of a monotonic clock).
 *
 * Two guards, both checked before any routing work (profile mapping, admission,
 * MCP choice), so that a refused INVITE costs rm one parse and one answer:
 *   - a token bucket on new INVITEs: `rate` per second, bursts of up to a
 *     fifth of a second's worth (at least OVERLOAD_MIN_BURST tokens);
 *   - a guard on work in flight: at most `max_pending` routed INVITEs still being
 *     set up (forwarded, not yet finally answered).
 *
 * The rate is either fixed (overload.max_cps > 0), off (< 0), or automatic (0):
 *   - unlimited while rm keeps up;
 *   - at the first congestion signal (overload_signal(..., true): rm's loop ran
 *     late, its UDP socket dropped datagrams or its receive queue filled up) the
 *     rate becomes 90% of the INVITEs admitted per second just before (the last
 *     full second, or the current one if busier: what rm was just able to carry);
 *     while congestion lasts, at most once a second, it becomes 90% of what was
 *     admitted, but never less than half the limit in force (multiplicative
 *     decrease that one bad second cannot collapse), and never below 70% of
 *     the most rm admitted in a calm second (its measured clean capacity: the
 *     cost of shedding must not drive the limit down to nothing);
 *   - each calm second raises it by 10% (at least OVERLOAD_MIN_STEP calls/s);
 *     after OVERLOAD_CALM_MS without congestion and without shedding the limit
 *     is lifted again.
 * Never below OVERLOAD_MIN_CPS: rm must keep admitting something to measure.
 *
 * Usage (one struct per proxy, on the SIP thread):
 *   overload_init(&o, &params, now);
 *   on each new INVITE:  v = overload_admit(&o, pending, now);  v != OVERLOAD_ADMIT:
 *                        answer 503 + Retry-After;
 *   on each tick:        overload_signal(&o, congested, now);
 *   on reload:           overload_set_params(&o, &params, now).
 */
#ifndef RM_OVERLOAD_H
#define RM_OVERLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OVERLOAD_MIN_CPS 10.0   /* auto mode never limits below this */
#define OVERLOAD_MIN_BURST 10.0 /* tokens the bucket holds at least */
#define OVERLOAD_MIN_STEP 10.0  /* calls/s added per calm second (auto) */
#define OVERLOAD_CALM_MS 10000  /* auto: lift the limit after this long calm */

struct overload_params {
	int max_cps;     /* > 0: fixed rate; 0: automatic; < 0: no rate limit */
	int max_pending; /* INVITEs in setup at most; 0: no limit */
};

enum overload_verdict {
	OVERLOAD_ADMIT = 0,
	OVERLOAD_RATE,    /* the token bucket is empty */
	OVERLOAD_PENDING, /* too many INVITEs in setup */
};

struct overload {
	struct overload_params prm;
	double rate;          /* current limit, calls/s; 0 = none */
	double tokens;
	int64_t refill_ms;    /* when tokens were last refilled */
	/* admitted INVITEs: in the current second and in the last full one */
	int64_t win_ms;
	unsigned win_admitted;
	unsigned last_admitted;
	/* auto mode */
	int64_t last_cut_ms;  /* last decrease (at most one per second) */
	int64_t last_raise_ms;
	int64_t last_busy_ms; /* last congestion signal (0 = never) */
	int64_t last_shed_ms; /* last INVITE refused (0 = never) */
	double calm_peak;     /* most INVITEs admitted in a second without congestion */
	uint64_t shed;        /* INVITEs refused since init */
};

/* Start with params at now_ms. o is caller-owned; nothing to free. */
void overload_init(struct overload *o, const struct overload_params *prm, int64_t now_ms);

/* New parameters (reload); a fixed rate applies at once, auto restarts unlimited. */
void overload_set_params(struct overload *o, const struct overload_params *prm,
			 int64_t now_ms);

/* May a new INVITE go on? pending: routed INVITEs in setup right now. An admitted
 * INVITE takes a token; a refused one is counted in o->shed. */
enum overload_verdict overload_admit(struct overload *o, size_t pending, int64_t now_ms);

/* Feed rm's own state once per tick: congested = rm is behind (its loop ran late,
 * its socket dropped or queued too much). Only auto mode uses it. */
void overload_signal(struct overload *o, bool congested, int64_t now_ms);

/* True if rm was congested at or after since_ms: results that depend on rm reading
 * its socket in time (an OPTIONS timeout) are not the MCP's fault then. Shedding by
 * a fixed rate is policy, not congestion, and does not count. */
bool overload_busy_since(const struct overload *o, int64_t since_ms);

/* The limit in force, calls/s (0 = none). */
double overload_rate(const struct overload *o);

/* How late a periodic tick ran: now - prev - period, never negative. prev_ms 0
 * (first tick) gives 0. */
int64_t overload_lag_ms(int64_t prev_ms, int64_t now_ms, int64_t period_ms);

/* "rate", "pending" (metric labels, logs); "admit" for OVERLOAD_ADMIT. */
const char *overload_verdict_name(enum overload_verdict v);

#endif
