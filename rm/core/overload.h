/*
 * overload: when rm sheds new INVITEs. A pure decision module: no sockets, no
 * sofia-sip, no clocks (the caller passes the time in ms of a monotonic clock).
 *
 * Three guards, all checked before a server transaction exists (sip_guard.c), so
 * that a refused INVITE costs rm one parse and one stateless answer:
 *   - a guard on the receive queue: while more than `max_queue` bytes wait in rm's
 *     UDP socket, rm is behind and every INVITE it reads is already late (its
 *     sender has retransmitted it, or soon will): new INVITEs are refused until
 *     the queue is short again. Self-calibrating, so it is on by default;
 *   - a token bucket on new INVITEs: `rate` per second, bursts of up to a
 *     fifth of a second's worth (at least OVERLOAD_MIN_BURST tokens);
 *   - a guard on work in flight: at most `max_pending` routed INVITEs still being
 *     set up (forwarded, not yet finally answered).
 * A refused INVITE is remembered (overload_memory, by Call-ID and branch) so that
 * its retransmissions are refused the same way even once rm has room again.
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
 *   on each new INVITE:  k = overload_key(call_id, branch);
 *                        if overload_recall(&mem, k, now): answer as before;
 *                        v = overload_admit(&o, pending, queued, now); v != OVERLOAD_ADMIT:
 *                        overload_remember(&mem, k, now), answer 503 + Retry-After;
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
	int max_cps;       /* > 0: fixed rate; 0: automatic; < 0: no rate limit */
	int max_pending;   /* INVITEs in setup at most; 0: no limit */
	uint32_t max_queue; /* bytes waiting in the socket at most; 0: no limit */
};

enum overload_verdict {
	OVERLOAD_ADMIT = 0,
	OVERLOAD_RATE,    /* the token bucket is empty */
	OVERLOAD_PENDING, /* too many INVITEs in setup */
	OVERLOAD_QUEUE,   /* rm's receive queue is too long: rm is behind */
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

/* May a new INVITE go on? pending: routed INVITEs in setup right now; queued: bytes
 * waiting in rm's receive queue right now (0 if unknown). An admitted INVITE takes a
 * token; a refused one is counted in o->shed. */
enum overload_verdict overload_admit(struct overload *o, size_t pending, uint32_t queued,
				     int64_t now_ms);

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

/* "rate", "pending", "queue" (metric labels, logs); "admit" for OVERLOAD_ADMIT. */
const char *overload_verdict_name(enum overload_verdict v);

/* The receive-queue limit for a socket whose kernel receive buffer is rcvbuf bytes
 * (as SO_RCVBUF reads it): an eighth of it, at least 64 KiB (the kernel filter
 * engages at four times it: half the buffer). 8 MiB (rm's default
 * 4 MiB, doubled by the kernel) gives 1 MiB: a few hundred datagrams as the kernel
 * counts them (about 2 KiB each on loopback), tens of ms of rm's work. */
uint32_t overload_queue_limit(uint32_t rcvbuf);

/* The kernel filter (udp_sock_filter_invites): the share of new INVITEs, per
 * 65536, that the kernel lets through to rm at all. A last resort: an INVITE the
 * kernel drops gets no answer, so its sender retransmits it (RFC 3261 Timer A: after
 * 0.5, 1.5, 3.5 ... s, up to 32 s), and each drop returns as up to six more INVITEs,
 * most of them after the load that caused it is gone: a 503 costs rm one parse and
 * ends the transaction. So the filter engages only when the queue passes
 * OVERLOAD_FILTER_ENGAGE times the limit (half the buffer at rm's sizing: the 503s
 * are not keeping up and the kernel would soon drop datagrams of admitted calls at
 * random), at twice the share last in force (half when none). Each tick: queue over
 * OVERLOAD_FILTER_HALVE times the limit halves the share (at least
 * OVERLOAD_FILTER_MIN), at or under the limit lifts the filter (the queue guard's 503s
 * hold it there: nothing need be dropped unanswered), in between raises it by a
 * quarter. */
#define OVERLOAD_FILTER_OFF 65536u
#define OVERLOAD_FILTER_MIN 656u /* 1% */
#define OVERLOAD_FILTER_ENGAGE 4u
#define OVERLOAD_FILTER_HALVE 2u

struct overload_filter {
	uint32_t accept; /* OVERLOAD_FILTER_OFF: not engaged */
	uint32_t last;   /* the share when last lifted (0: never engaged) */
};

/* The share after seeing queued bytes (max_queue the limit) on a tick (tick) or on
 * an INVITE (!tick: may only engage). f starts as { OVERLOAD_FILTER_OFF, 0 }. */
uint32_t overload_filter_next(struct overload_filter *f, uint32_t queued, uint32_t max_queue,
			      bool tick);

/* Refused INVITEs, remembered so that their retransmissions (RFC 3261 Timer A:
 * from 500 ms on, for up to Timer B, 32 s) get the same answer without another
 * decision: a retransmission admitted later would open a second transaction for a
 * call its sender already considers refused. A direct-mapped table of key hashes:
 * a collision forgets the older entry (its retransmission is then decided afresh),
 * never refuses a new call by mistake unless two 64-bit keys are equal. */
#define OVERLOAD_MEMORY_SLOTS 65536 /* 1 MiB; 8 s of retransmissions at 8000/s */
#define OVERLOAD_MEMORY_MS 32000

struct overload_memory {
	uint64_t key[OVERLOAD_MEMORY_SLOTS];
	int64_t at_ms[OVERLOAD_MEMORY_SLOTS];
};

/* A key for one INVITE transaction: FNV-1a over call_id and branch (NULL = ""). */
uint64_t overload_key(const char *call_id, const char *branch);

/* Remember key as refused at now_ms. m is caller-owned, zeroed to start. */
void overload_remember(struct overload_memory *m, uint64_t key, int64_t now_ms);

/* True if key was refused within OVERLOAD_MEMORY_MS before now_ms. */
bool overload_recall(const struct overload_memory *m, uint64_t key, int64_t now_ms);

#endif
