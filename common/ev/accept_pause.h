/*
 * accept_pause: keeps a libevent listener from spinning when accept() fails.
 *
 * When accept() fails with EMFILE/ENFILE (no descriptor left) the connection stays
 * queued in the kernel and the listening socket stays readable: a listener that only
 * logs the error is called again at once, forever (one log line per turn of the loop).
 * This module turns the listener off instead, turns it back on after a backoff (10 ms
 * doubling to 1 s; back to 10 ms once an accept succeeds), and logs at most one line a
 * second saying how many failures it held back. Any accept error that libevent does
 * not retry by itself is handled the same way.
 *
 * It also owns the listener's on/off state for its owner: a connection cap holds it
 * off (accept_pause_hold), shutdown stops it (accept_pause_stop); the listener is on
 * only while none of the three holds it. Loop thread only.
 */
#ifndef COMMON_ACCEPT_PAUSE_H
#define COMMON_ACCEPT_PAUSE_H

#include <stdbool.h>

struct event_base;
struct evconnlistener;
typedef struct accept_pause accept_pause_t;

/* lis is not owned and must outlive the returned object; what ("stomp", "http")
 * starts its log lines. NULL when out of memory. */
accept_pause_t *accept_pause_new(struct event_base *base, struct evconnlistener *lis,
				 const char *what);
/* The listener's accept() failed with err (an errno): pause it with backoff. */
void accept_pause_error(accept_pause_t *p, int err);
/* A connection was accepted: the next backoff starts from the minimum again. */
void accept_pause_accepted(accept_pause_t *p);
/* Hold the listener off while a connection cap is reached (true), or release it. */
void accept_pause_hold(accept_pause_t *p, bool hold);
/* Stop accepting for good (shutdown). */
void accept_pause_stop(accept_pause_t *p);
/* Times accepting was paused after an error (for a metric or a test). */
unsigned long accept_pause_count(const accept_pause_t *p);
void accept_pause_free(accept_pause_t *p); /* NULL is allowed */

#endif
