/*
 * hostport: the one parser of "host:port" endpoints (billing.endpoints,
 * broker.endpoints, cluster.peers). Pure: no resolution, no sockets.
 *
 * Accepted: "name:port", "1.2.3.4:port", "[v6 address]:port"; host non-empty, port
 * 1..65535 in decimal with nothing after it. The host is returned without brackets.
 */
#ifndef COMMON_HOSTPORT_H
#define COMMON_HOSTPORT_H

#include <stdbool.h>
#include <stddef.h>

/* Split s into host (capacity hostlen, NUL-terminated; may be NULL to only check)
 * and *port (may be NULL). Returns 0, or -1 when s is not "host:port" as above or
 * the host does not fit. */
int hostport_split(const char *s, char *host, size_t hostlen, int *port);

/* hostport_split(s, NULL, 0, NULL) == 0. */
bool hostport_valid(const char *s);

#endif
