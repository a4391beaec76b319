/*
 * monitor: SIP OPTIONS health checks of every MCP, on the SIP thread.
 *
 * Every monitor.interval_ms each current MCP gets one OPTIONS (never more than one
 * outstanding). Any SIP response within monitor.timeout_ms counts as a success;
 * no response, or nta's own error (transport refused), as a failure; but a timeout
 * while rm itself was behind (the tick ran more than overload.lag_ms late, or the
 * proxy saw its UDP socket drop or queue up since the ping left) is not counted
 * (rm_options_timeouts_skipped_total). Results go to
 * route_health() (K failures down, M successes up); changes are logged and
 * published in /metrics. Include through proxy_int.h (it needs the proxy's types).
 */
#ifndef RM_MONITOR_H
#define RM_MONITOR_H

#include <stdbool.h>

struct proxy;
struct monitor;
struct route_mcp;

/* Start pinging the proxy's current MCPs. NULL on out of memory (then no
 * monitoring: every MCP stays as route_state says). */
struct monitor *monitor_new(struct proxy *p);
/* Stop, destroying outstanding OPTIONS transactions. NULL is allowed. */
void monitor_free(struct monitor *m);
/* After a reload: follow the new MCP list and interval. */
void monitor_reload(struct monitor *m);
/* Feed one result observed elsewhere into the MCP's health: an INVITE attempt that
 * got a transport error while rm was not congested. Attempt timeouts are never
 * fed: they may be rm's own lateness (issue 10). */
void monitor_report(struct proxy *p, struct route_mcp *mcp, bool ok);

/* A cluster peer's OPTIONS verdict on an MCP (line "h u <uri>" or "h d <uri>";
 * node: the peer). An input, not a vote: when it differs from this node's view (or
 * the MCP was not probed yet), the MCP is probed at once and back to back, as long
 * as the answers agree with the peer and this node's view has not turned (at most
 * failures_to_down / successes_to_up probes); only those answers change the view,
 * through route_health as usual. A peer claiming "down" for an MCP that answers
 * this node keeps it up. SIP thread. */
void monitor_hint(struct proxy *p, const char *node, const char *line);

#endif
