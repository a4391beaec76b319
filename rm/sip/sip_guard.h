/*
 * sip_guard: the SIP thread's gate in front of the proxy. For every request nta hands
 * to the default leg it decides, before any routing work:
 *   - trust: who sent it, by the packet's transport source address (sip_trust.h);
 *     untrusted sources get 403 or silence (sip.untrusted), counted;
 *   - validity: sip_check.h (framing, version, scheme, URI headers, Proxy-Require);
 *     refused requests are answered (never an ACK) and counted in
 *     rm_bad_requests_total{reason}.
 *   - overload: new INVITEs over rm's budget are answered 503 statelessly, before
 *     any transaction exists (proxy_overload_gate);
 * It also counts what nta refused before rm saw it (nta's bad-message counters,
 * reason "parser"), builds the Record-Route that names the transport rm received on
 * (two entries, RFC 5658, when the outbound transport differs) and says whether a
 * next hop is a configured target (MCP or SIP Server): rm is not a relay.
 *
 * Only rm/proxy*.c call it, on the SIP thread. Names in sip.sip_servers and LRG
 * members go through rm's resolver (resolve.h), never a blocking lookup: a name's
 * addresses are trusted once it has resolved, follow it as it is re-resolved
 * (sip.dns.cache_s, the last good ones kept for sip.dns.grace_s while it fails), and
 * until then requests from them are refused like any stranger's (a warning, at most
 * once a minute per name, says so). A nameserver that never answers therefore stalls
 * neither a reload nor the SIP thread; numeric peers are trusted at once.
 */
#ifndef RM_SIP_GUARD_H
#define RM_SIP_GUARD_H

#include "proxy_int.h"
#include "sip_check.h"
#include "sip_trust.h"

struct sip_guard;

/* A guard for p (its metrics registry must be set). NULL on out of memory.
 * Owned by p; freed with guard_free (NULL allowed). */
struct sip_guard *guard_new(struct proxy *p);
void guard_free(struct sip_guard *g);

/* (Re)build the trust table and the target list from cfg: numeric peers and
 * sip.trusted at once, names by guard_refresh. Never blocks. Returns 0, or -1 on
 * out of memory. */
int guard_configure(struct sip_guard *g, const struct rm_config *cfg);

/* Bring the trusted names' addresses up to date from p->dns (cache only; lookups are
 * started in the background, never waited for). Runs every GUARD_NAMES_MS from the
 * proxy's tick; force: now (after a configure). */
void guard_refresh(struct proxy *p, int64_t now_ms, bool force);

/* Trust and overload: a message nta matched to no transaction (msg, owned by the
 * caller until this returns false). Returns true for a request from a trusted source
 * (*origin says who) that rm has room for; false when msg was a response, came from
 * an untrusted source (answered 403 statelessly, or discarded), or was a new INVITE
 * shed by overload control (answered statelessly, proxy_overload_gate): then msg is
 * no longer the caller's. */
bool guard_accept(struct proxy *p, nta_agent_t *agent, msg_t *msg, sip_t *sip,
		  enum sip_origin *origin);

/* Did msg come from a trusted source (an MCP or a SIP Server / trusted network)?
 * By its transport source address, as guard_accept decides for requests. */
bool guard_source_trusted(struct proxy *p, msg_t *msg);

/* Did msg arrive over a stream (TCP) transport? false for UDP or unknown. */
bool guard_msg_stream(msg_t *msg);

/* Will next (a next hop) be reached over TCP (its ;transport=, else rm's default)? */
bool guard_next_is_tcp(const struct proxy *p, const url_t *next);

/* Validation of irq's request sip (sip_check.h). Returns true when it may be
 * proxied; false when it was refused: *status is then what the caller must answer
 * (0: already answered or dropped, irq destroyed). */
bool guard_admit(struct proxy *p, nta_incoming_t *irq, const sip_t *sip, int *status);

/* Count one refused request under reason r. */
void guard_count(struct proxy *p, enum sip_bad r);

/* Fold nta's own refusals (since the last call) into the counters. */
void guard_tick(struct proxy *p);

/* The first Route entry of sip past rm's own, NULL if none. */
const sip_route_t *guard_next_route(const struct proxy *p, const sip_t *sip);

/* Would forwarding sip make rm a relay? In dialog: its Route set does not begin with
 * rm's own entry. Out of dialog: a Route past rm's own names neither a configured
 * MCP nor a SIP Server. Counted (reason relay) when true. */
bool guard_relay_refused(struct proxy *p, const sip_t *sip, bool in_dialog);

/* The leg rm sends its own requests (OPTIONS pings) on. It is not the default leg
 * (that would take every request before proxy_message could judge its source): it
 * matches only requests for a host that cannot exist, and refuses them 403.
 * NULL on failure; destroyed with nta_leg_destroy. */
nta_leg_t *guard_own_leg_create(struct proxy *p);

/* True if u (a next hop) names a configured MCP or SIP Server (host and port). */
bool guard_is_target(const struct proxy *p, const url_t *u);

/* Add rm's Record-Route to msg (a copy of req about to be sent to next): one entry
 * naming the transport req arrived on, and a second on top naming the outbound
 * transport when the two differ. Returns 0 or -1. */
int guard_record_route(struct proxy *p, msg_t *req, const url_t *next, msg_t *msg,
		       sip_t *sip);

#endif
