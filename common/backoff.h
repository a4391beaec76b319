/*
 * backoff: the reconnect delay of every client we write (rm's publisher, rs's broker
 * consumer, the cluster next). Pure: no clocks, no timers; the caller owns the count
 * of failures and the timer.
 *
 * delay = min * 2^(n-1) for the n-th consecutive failure (n = 0 or 1: min), capped at
 * max; with jitter, up to a quarter more at random so that several clients that lost
 * one server do not come back in step.
 */
#ifndef COMMON_BACKOFF_H
#define COMMON_BACKOFF_H

#include <stdbool.h>

/* The delay in ms before the next attempt after n consecutive failures. max < min
 * counts as min. jitter draws from rand(). */
unsigned backoff_delay_ms(unsigned min_ms, unsigned max_ms, unsigned n, bool jitter);

#endif
