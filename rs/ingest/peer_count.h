/*
 * peer_count: how many open connections each source address holds, for the
 * per-source connection cap (stomp.max_connections_per_source).
 *
 * Pure: no sockets, no clocks. Keys are raw addresses (4 bytes for IPv4, 16 for
 * IPv6; the port is not part of the key). Entries are created on the first
 * connection of an address and freed when its last one closes, so the table holds at
 * most one entry per open connection. Not thread-safe (the loop thread owns it).
 */
#ifndef RS_PEER_COUNT_H
#define RS_PEER_COUNT_H

#include <stddef.h>

typedef struct peer_count peer_count_t;

/* An empty table; NULL when out of memory. */
peer_count_t *peer_count_new(void);
/* One more connection from addr[0..len) (len 1..16). Returns the address's count
 * including this one, or 0 when out of memory (nothing counted). */
unsigned peer_count_add(peer_count_t *t, const void *addr, size_t len);
/* One connection from addr closed; the count must have been added before. */
void peer_count_del(peer_count_t *t, const void *addr, size_t len);
/* The address's current count (0 when unknown). */
unsigned peer_count_get(const peer_count_t *t, const void *addr, size_t len);
/* The length of the longest hash chain: how well the sources spread over the table
 * (a lookup walks one chain). For tests and debugging; O(table). */
size_t peer_count_longest_chain(const peer_count_t *t);
void peer_count_free(peer_count_t *t); /* NULL is allowed */

#endif
