/*
 * auth_limit: a brake on API token guessing. Counts, per source, the requests that
 * presented a token matching none; a source with AUTH_LIMIT_FAILURES of them within
 * AUTH_LIMIT_WINDOW_MS is blocked for AUTH_LIMIT_BLOCK_MS: api_auth answers 429 with
 * Retry-After to every request from it that presents a token, without looking at the
 * token (a right guess during the block would tell the guesser nothing). Requests
 * without a token are not counted (a browser asks once without one), and other
 * sources are not affected.
 *
 * A source is an IPv4 address or an IPv6 /64 (one host owns a whole /64). The table
 * is bounded: AUTH_LIMIT_SETS sets of AUTH_LIMIT_WAYS sources, the set chosen by a
 * hash keyed at random at start (an outsider cannot aim at one set); a new source
 * takes a free or expired way, else the unblocked one whose last failure is oldest
 * (a blocked one only when all are). So the
 * memory is fixed (~40 KiB); a guesser with more addresses than the table holds can
 * get some of its sources forgotten, which per-source limits cannot prevent (tokens
 * are long: guessing one is hopeless anyway; this keeps the noise down).
 *
 * Pure: no sockets, no clock reads (callers pass now_ms), no libevent. One thread.
 */
#ifndef RS_AUTH_LIMIT_H
#define RS_AUTH_LIMIT_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_LIMIT_FAILURES 10
#define AUTH_LIMIT_WINDOW_MS (60LL * 1000)
#define AUTH_LIMIT_BLOCK_MS (60LL * 1000)
#define AUTH_LIMIT_SETS 256
#define AUTH_LIMIT_WAYS 4

typedef struct auth_limit auth_limit_t;

/* seed keys the hash (e.g. from getrandom). NULL on out of memory. */
auth_limit_t *auth_limit_new(uint64_t seed);
void auth_limit_free(auth_limit_t *l); /* NULL is allowed */

/* The source key of an address: family AF_INET (4 bytes at addr) or AF_INET6 (16;
 * an IPv4-mapped one counts as its IPv4 address). Writes up to 8 bytes to key and
 * returns their count, 0 for another family. */
size_t auth_limit_key(int family, const void *addr, unsigned char key[8]);

/* Milliseconds the source stays blocked from now_ms, 0 when it is not. */
int64_t auth_limit_blocked(auth_limit_t *l, const unsigned char *key, size_t len,
			   int64_t now_ms);
/* Count one failure of the source at now_ms. Returns the milliseconds it is now
 * blocked for (this failure reached the limit), or 0. */
int64_t auth_limit_fail(auth_limit_t *l, const unsigned char *key, size_t len,
			int64_t now_ms);

#endif
