/*
 * proxy_int: what the proxy_*.c files share. Not a public contract: only rm/sip/proxy*.c
 * and rm/sip/monitor.c include it. Everything here lives on the SIP thread.
 *
 * Ownership of one forwarded request (struct call):
 *   - created for each stateful forward (INVITE or not), refs = 1 held by the
 *     transaction side (irq + current orq);
 *   - a routed INVITE also gets a session; the session holds a second reference
 *     (session->user) and the route ticket is released when the session ends;
 *   - the call is freed when both sides let go (call_unref).
 * The original request msg is a reference from nta_incoming_getrequest(); each
 * attempt sends a msg_copy() of it so that failover can start from the original.
 */
#ifndef RM_PROXY_INT_H
#define RM_PROXY_INT_H

#include <stdbool.h>
#include <stdint.h>

struct proxy;
struct call;
struct monitor;

#define SU_ROOT_MAGIC_T struct proxy
#define NTA_AGENT_MAGIC_T struct proxy
#define NTA_LEG_MAGIC_T struct proxy
#define NTA_INCOMING_MAGIC_T struct call
#define NTA_OUTGOING_MAGIC_T void
#define SU_TIMER_ARG_T void

#include <sofia-sip/su_wait.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/msg_addr.h>

#include "metrics.h"
#include "resolve.h"
#include "rm_config.h"
#include "rm_metrics.h"
#include "route.h"
#include "session.h"

struct billing_item;
struct dialog;
struct sip_guard;

/* The two sides of a dialog rm proxies: the SIP Server (caller) and the MCP. */
enum dialog_side { DIALOG_CALLER = 0, DIALOG_MCP = 1 };

/* A FIFO of calls waiting for a deadline. Every member of one list waits the same
 * duration, so appending keeps the list sorted and the tick only looks at the head. */
struct call_list {
	struct call *head, *tail;
	size_t n;
};

/* WAIT_ORPHAN: a loose INVITE branch rm CANCELled and let go, kept (a reference of
 * its own) until its final answer to ACK it, at most LOOSE_ORPHAN_MS. */
enum call_wait { WAIT_NONE = 0, WAIT_ATTEMPT, WAIT_LINGER, WAIT_ORPHAN };

struct call {
	struct proxy *p;
	unsigned refs;
	nta_incoming_t *irq;  /* server transaction; NULL once released */
	msg_t *req;           /* reference to the original request */
	nta_outgoing_t *orq;  /* current branch */
	sip_method_t method;
	bool routed;          /* a new INVITE that went through route_*: has ticket */
	bool got_provisional; /* any response from the current branch */
	bool answered;        /* 2xx relayed */
	bool cancelled;       /* CANCEL received from upstream */
	bool done;            /* final answer sent upstream */
	bool strip_tenant;    /* drop ;gvp-tenant-id from the request-URI */
	bool in_setup;        /* counted in proxy_ov's INVITEs in setup (overload) */
	bool acked;           /* the ACK for our relayed 2xx came through rm */
	int last_status;
	struct route_ticket ticket;
	struct session *sess; /* NULL once the session ended */
	char target[RM_URI_MAX]; /* where the current branch went (fixed for non-routed) */
	struct dialog *dlg;   /* routed INVITE: what a BYE needs (proxy_dialog.c); owned */

	/* a routed INVITE's current branch: its keyed Via branch (proxy_stateless.c),
	 * sent over UDP; once "loose" (proxy_call.c: nta's transaction let go at the
	 * first provisional), the INVITE as sent and its next hop (in sent's home), to
	 * build the CANCEL and the ACK of a non-2xx; responses arrive as strays */
	char branch[40];
	bool keyed, udp_out, loose, loose_final, loose_cancelled;
	msg_t *sent;
	url_t *hop;

	bool tr_held;         /* the transaction side's reference is still held */
	/* waiting for the next hop's name (proxy_resolve.c) */
	bool resolving, resend_target;
	unsigned resend_flags, resolve_tries;
	struct call *all_prev, *all_next; /* every live call (for shutdown) */

	/* deadline list membership */
	enum call_wait wait;
	int64_t deadline_ms;
	struct call *prev, *next;
};

/* Host/port of an MCP, to recognise requests that an MCP originates. */
struct mcp_addr {
	char host[RM_HOST_MAX];
	char port[8];
};

struct proxy {
	su_root_t *root;
	su_home_t home[1];
	nta_agent_t *agent;
	nta_leg_t *defleg;
	su_timer_t *tick;

	struct rm_config *cfg;          /* owned; replaced on reload */
	struct route_state *route;
	struct session_table *sessions;
	struct monitor *mon;
	struct resolver *dns;           /* resolve.h: names -> numeric, off the SIP thread */
	struct keepalive *ka;           /* keepalive.c: in-dialog OPTIONS */
	struct proxy_ov *ov;            /* overload control (proxy_overload.c); owned */
	struct orphan *orphans;         /* abandoned INVITE branches (proxy_orphan.c) */

	/* who we are */
	char self_host[RM_HOST_MAX];
	char self_port[8];
	url_t *sip_server;              /* first SIP Server, in home (replaced on reload) */
	struct mcp_addr *mcp_addrs;     /* malloc'd */
	size_t n_mcp_addrs;
	struct sip_guard *guard;        /* trust + validation (sip_guard.h); owned */

	struct call_list attempts;      /* waiting for an answer from the current MCP */
	struct call_list lingering;     /* answered INVITEs kept for 2xx retransmissions */
	struct call_list loose_orphans; /* WAIT_ORPHAN calls (proxy_call.c) */
	size_t live_calls;              /* struct call objects alive */
	struct call *all;               /* every live call, for shutdown */

	bool draining;
	int64_t drain_deadline_ms;
	bool stopped;
	bool drain_forced;              /* the drain timeout ended the remaining calls */
	int64_t bye_grace_ms;           /* until then a drain waits for BYE/CANCEL answers */
	void (*on_drained)(void *arg);
	void *on_drained_arg;
	struct own_req *own_reqs;       /* rm's own BYEs/CANCELs awaiting an answer */
	size_t n_own_reqs;
	int64_t last_expiry_ms;

	/* metrics (handles are valid until metrics_free) */
	metrics_t *metrics;
	rm_metrics_t rmm;    /* every rm series, typed (rm_metrics.h) */
	metric_t *m_active, *m_failovers, *m_attempts, *m_bad, *m_mcps_up, *m_draining;
	metric_t *m_disp[5]; /* by enum record_disposition (rm_calls_total) */
	metric_t *m_setup;   /* rm_call_setup_seconds histogram */
	int64_t usage_pub_ms; /* last per-profile/tenant usage publish (proxy_metrics.c) */
	metric_t *m_reject[RM_REFUSE_COUNT];
	metric_t *m_requests, *m_responses;
	metric_t *m_byes[2];  /* rm_byes_sent_total{to}, by enum dialog_side */
	metric_t *m_ended[SESSION_END_COUNT]; /* rm_calls_ended_total{ended_by} */

	/* cluster session replication (NULL post: off); post takes the line */
	void (*cluster_post)(void *arg, char *line);
	void *cluster_arg;
	/* keep: BYEs of dialogs no node here held, for a call adopted just after
	 * (proxy_cluster.c); a ring of hashes */
	struct { uint64_t cid, tag[2]; int64_t at_ms; } cluster_byes[2048];
	unsigned cluster_byes_next;
	int64_t cluster_ring_upto; /* calls started by then (UTC ms) and still ringing
				      were described (proxy_cluster_tick) */

	/* billing (NULL post: billing off). post takes ownership of the item. */
	void (*billing_post)(void *arg, struct billing_item *it);
	void *billing_arg;
	bool billing_events; /* billing.events: all (none: call events are not built) */

	uint8_t branch_key[16]; /* keys the branches rm recognises without state */
};

/* proxy.c */
int64_t proxy_now_ms(void);
bool proxy_url_is_self(const struct proxy *p, const url_t *u);
void proxy_strip_own_routes(struct proxy *p, msg_t *msg, sip_t *sip);
bool proxy_max_forwards_ok(msg_t *msg, sip_t *sip);
int proxy_reply(nta_incoming_t *irq, int status, int retry_after);

/* proxy_metrics.c: the proxy's series, through rm_metrics.h's handles.
 * proxy_metrics_init fills p->rmm and the m_* handles below: 0, or -1 on out of
 * memory. */
int proxy_metrics_init(struct proxy *p);
void proxy_sessions_changed(struct proxy *p);
void proxy_count_reject(struct proxy *p, enum rm_refuse r);
void proxy_mcp_metrics(struct proxy *p);
void proxy_usage_metrics(struct proxy *p);

/* proxy_call.c: calls, forwarding, responses, CANCEL, failover */
struct call *call_new(struct proxy *p, nta_incoming_t *irq, const sip_t *sip);
void call_unref(struct call *c);
/* Send a copy of c->req to `target` (a SIP URI string; NULL = next hop from the
 * Route set or request-URI). Flags: SEND_REWRITE_RURI replaces the request-URI
 * host/port with target's, SEND_STRIP_TENANT drops ;gvp-tenant-id from it,
 * SEND_ADD_RR adds our Record-Route. extra: one "Name: value" header or NULL.
 * Returns 0 (c->orq set), or -1 (nothing sent). */
#define SEND_REWRITE_RURI 1u
#define SEND_ADD_RR 2u
#define SEND_STRIP_TENANT 4u
int call_send(struct call *c, const char *target, unsigned flags, const char *extra);
void call_finish(struct call *c, int status, bool send_reply);
void call_list_remove(struct call_list *l, struct call *c);
void call_wait(struct call *c, enum call_wait w, int64_t deadline_ms);
void proxy_tick_calls(struct proxy *p, int64_t now);
/* The ACK for c's relayed 2xx came through rm: its transactions and INVITE copy are
 * let go now (a 2xx retransmission still in flight is relayed statelessly,
 * proxy_stateless.c); the session keeps the call (dialog state) until it ends. */
void call_acked(struct call *c);
/* Shared by proxy_call.c and proxy_loose.c: relay response msg (taken) upstream
 * without rm's Via (a 2xx statelessly once the server transaction is gone); the
 * first 2xx's bookkeeping; drop the server transaction after it; a final non-2xx
 * (msg taken): fail over, or relay it and finish the call. */
void call_relay_msg(struct call *c, msg_t *msg, int status);
void call_answered(struct call *c, const sip_t *sip);
void call_drop_irq(struct call *c);
void call_failed(struct call *c, msg_t *msg, int status, bool internal);

/* proxy_loose.c: loose INVITE branches (see the file's comment).
 * call_go_loose: let nta's transaction orq go (at a provisional answer) if c may;
 * call_unloose: forget c's loose branch (INVITE copy, next hop). */
#define LOOSE_ORPHAN_MS 32000 /* timer D */
void call_go_loose(struct call *c, nta_outgoing_t *orq);
void call_unloose(struct call *c);
/* Is c's current INVITE branch still waiting for a final answer (CANCEL-able)? */
bool call_branch_pending(const struct call *c);
/* CANCEL c's pending branch (nta's transaction, or a loose branch's own CANCEL);
 * answers to cb(magic) (NULL: nta's default). NULL (or NONE) when nothing was sent. */
nta_outgoing_t *call_cancel_branch(struct call *c, nta_response_f *cb, void *magic);
/* A stray response (rm's keyed INVITE branch on top, trusted source): when it
 * belongs to a loose branch it is handled as the transaction would (relayed, ACKed
 * if non-2xx, failover) and consumed: true. false: not a loose branch's. */
bool call_loose_response(struct proxy *p, msg_t *msg, sip_t *sip);
/* Shutdown: drop the transactions of every call still alive. */
void proxy_release_all_calls(struct proxy *p);
void proxy_session_end_hook(const struct session *s, void *arg);
/* Billing: hand a call event (enum cdr_event_type) for s, the CDR of finished s, or
 * the CDR of a refused INVITE to the service thread. No-ops with billing off. */
void proxy_bill_event(struct proxy *p, const struct session *s, int type);
void proxy_bill_cdr(struct proxy *p, const struct session *s);
/* proxy_cluster.c: replicate answered calls and, once a proxy tick, the calls ringing
 * for CLUSTER_RING_HOLD_MS (proxy_set_cluster, proxy_cluster_tick), adopt a dead
 * peer's calls (proxy_adopt), and the CDR item of a session with its deterministic
 * record id (cluster_record_id). */
void proxy_cluster_tick(struct proxy *p);
/* cluster.adopt "keep": an ACK or BYE routed here for a call this node does not hold,
 * told to the peers (rm/cluster/cluster_seen.c). */
void proxy_cluster_seen(struct proxy *p, const sip_t *sip);
void proxy_cluster_answered(struct proxy *p, const struct session *s,
			    const struct dialog *d);
void proxy_cluster_ended(struct proxy *p, const struct session *s);
struct billing_item *proxy_cdr_item(struct proxy *p, const struct session *s);
void proxy_bill_refused(struct proxy *p, const sip_t *sip, const char *tenant,
			const char *profile, const char *service_type, int status);

/* proxy_dialog.c: dialog state of a routed INVITE and rm's own BYEs.
 * dialog_new: from the INVITE as received (NULL: out of memory or no From/To);
 * owned by the caller, freed with dialog_free (NULL allowed).
 * dialog_answered: the first 2xx (To tag, MCP Contact, route sets); d may be NULL.
 * dialog_saw_request: an in-dialog request from `from` (CSeq, target refresh).
 * dialog_bye: BYE both sides of s's answered dialog (d: its state; reason: the
 * Reason header value). Answers are not waited for; nothing is returned.
 * dialog_cancel: CANCEL c's pending INVITE branch (call_cancel_branch) and track it
 * like a BYE.
 * dialog_release_own: drop the BYE/CANCEL transactions still open (shutdown). */
struct dialog *dialog_new(const sip_t *invite);
void dialog_free(struct dialog *d);
void dialog_answered(struct proxy *p, struct dialog *d, const sip_t *resp);
void dialog_saw_request(struct dialog *d, const sip_t *sip, enum dialog_side from);
/* True once the 2xx showed rm in the Record-Route (so the ACK passes rm). */
bool dialog_rm_in_path(const struct dialog *d);
void dialog_bye(struct proxy *p, const struct session *s, struct dialog *d,
		const char *reason);
void dialog_cancel(struct proxy *p, const struct session *s, struct call *c);
void dialog_release_own(struct proxy *p);
/* A dialog's state as plain strings (pointers into d, valid while d is), and a
 * dialog rebuilt from them (a peer's replicated call, proxy_cluster.c); NULL on out
 * of memory or without from/to. */
struct dialog_parts {
	uint32_t cseq[2];
	const char *from, *to, *target[2], *route[2];
};
void dialog_get_parts(const struct dialog *d, struct dialog_parts *out);
struct dialog *dialog_from_parts(const struct dialog_parts *in);
/* dialog_request: rm's own in-dialog request (OPTIONS for keepalive.c) toward `side`
 * of s's answered dialog, as the other side would send it, with that side's last
 * CSeq; answers go to cb(magic). Returns the client transaction (the caller owns it)
 * or NULL when nothing could be sent. */
nta_outgoing_t *dialog_request(struct proxy *p, const struct session *s, struct dialog *d,
			       enum dialog_side side, sip_method_t method, const char *name,
			       nta_response_f *cb, void *magic);

/* proxy_resolve.c: numeric next hops for nta (resolve.h).
 * proxy_next_hop: *out = next itself when numeric, else a copy in home with the
 * resolved address (maddr dropped); host gets the name looked up. On RESOLVE_FAIL
 * *status is the SIP status to answer.
 * proxy_resolve_uri: the same for a URI string, into out.
 * call_defer: wait for host's lookup, then call_send again with flags (and c->target
 * when has_target); 0, or -1 when c cannot wait (routed, or waited twice already).
 * call_unresolved: log, and answer status upstream unless c is routed.
 * proxy_dns_configure: create/configure p->dns and prefetch the configured names. */
enum resolve_rc proxy_next_hop(struct proxy *p, su_home_t *home, const url_t *next,
			       url_t **out, int *status, char *host, size_t hostlen);
enum resolve_rc proxy_resolve_uri(struct proxy *p, const char *uri, char *out, size_t outlen);
int call_defer(struct call *c, const char *host, unsigned flags, bool has_target);
void call_unresolved(struct call *c, const char *host, int status);
void proxy_dns_configure(struct proxy *p, const struct rm_config *cfg);

/* keepalive.c: in-dialog OPTIONS to both sides of answered calls (session.keepalive_s).
 * keepalive_new/free on the proxy's lifetime; keepalive_tick once a second. */
struct keepalive *keepalive_new(struct proxy *p);
void keepalive_free(struct keepalive *ka);
void keepalive_tick(struct keepalive *ka, int64_t now_ms);

/* proxy_overload.c: overload control (overload.h decides, this feeds it).
 * init: after the listen socket exists (sizes it; 0, or -1 out of memory);
 * gate: nta's message callback, before a transaction exists (sip_guard.c): a new
 *   INVITE over budget, or a retransmission of one refused, is answered statelessly
 *   (503 + Retry-After), the ACK of such an answer discarded; returns true (msg
 *   consumed); false = go on (msg still the caller's);
 * tick: once per proxy tick (period_ms apart): loop lag, socket queue and drops;
 * busy_since: rm itself was behind at or after since_ms (monitor.c);
 * setup_begin/end: a routed INVITE enters / leaves setup (idempotent). */
int proxy_overload_init(struct proxy *p);
void proxy_overload_free(struct proxy *p);
void proxy_overload_reload(struct proxy *p);
bool proxy_overload_gate(struct proxy *p, nta_agent_t *agent, msg_t *msg, const sip_t *sip);
void proxy_overload_tick(struct proxy *p, int64_t now, int64_t period_ms);
bool proxy_overload_busy_since(const struct proxy *p, int64_t since_ms);
void proxy_setup_begin(struct call *c);
void proxy_setup_end(struct call *c);

/* proxy_orphan.c: an INVITE branch rm gives up on (orq, ownership passes here):
 * CANCELled and kept until its final answer; a late 2xx gets ACK + BYE. A branch
 * already finally answered, or not an INVITE, is just destroyed.
 * release_all: drop them all (shutdown). */
void proxy_orphan_adopt(struct proxy *p, nta_outgoing_t *orq);
void proxy_orphan_release_all(struct proxy *p);

/* proxy_stateless.c: keyed branches and stray responses (see the file's comment).
 * proxy_branch_key_init: draw the key (proxy_create).
 * proxy_invite_branch: the branch of c's current attempt (a routed INVITE);
 * proxy_bye_branch: the branch of a BYE forwarded statelessly (bye as received).
 * Both write "z9hG4bKrm..." into out; false when the request lacks the fields.
 * proxy_stray_response: a response matching no transaction (msg is consumed). */
void proxy_branch_key_init(struct proxy *p);
bool proxy_invite_branch(const struct call *c, char *out, size_t len);
bool proxy_bye_branch(const struct proxy *p, const sip_t *bye, char *out, size_t len);
void proxy_stray_response(struct proxy *p, nta_agent_t *agent, msg_t *msg, sip_t *sip);

/* proxy_invite.c */
int proxy_new_invite(struct proxy *p, nta_incoming_t *irq, const sip_t *sip);
int proxy_try_next(struct call *c);

#include "monitor.h"

#endif
