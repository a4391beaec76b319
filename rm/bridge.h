/*
 * bridge: the only meeting point of rm's two threads (ARCHITECTURE.md "Threads and
 * loops"). Two bounded FIFO queues of small messages, one each way, each with an
 * eventfd that wakes the receiving loop: a libevent event on the service side, a
 * su_root-registered wait object on the SIP side. The queues' mutex is the only
 * lock in rm.
 *
 * Messages carry a type, an integer and a pointer; ownership of what the pointer
 * points to passes to the receiver (document it per type where it is defined).
 *
 * Wake-ups (issue 12): a wake-up costs an eventfd write, a thread switch and a read,
 * more than the message itself. bridge_to_sip/bridge_to_service wake the receiver at
 * once (control messages). The SIP thread posts billing items with
 * bridge_to_service_batched: the service loop is woken once per batch, not per item:
 *   BRIDGE_WAKE_LOOP   before the SIP loop next waits for input (su_root prepoll):
 *                      every item posted while handling one batch of packets rides
 *                      one wake-up, and the item leaves the SIP thread before it reads
 *                      anything else (a CDR is out of its memory before the BYE's
 *                      answer is relayed, as with an immediate wake-up);
 *   BRIDGE_WAKE_LATER  within BRIDGE_BATCH_MS (a SIP-side timer), or with any earlier
 *                      wake-up (call events: a few ms late in rs is harmless).
 * Either wakes at once when the queue is a quarter full. FIFO order holds across all
 * kinds of post.
 */
#ifndef RM_BRIDGE_H
#define RM_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct su_root_s;

enum bridge_type {
	/* service -> SIP */
	BRIDGE_RELOAD = 1, /* ptr: struct rm_config * (malloc'd, loaded); receiver owns */
	BRIDGE_DRAIN,      /* SIGTERM */
	BRIDGE_STOP,       /* stop now */
	/* SIP -> service */
	BRIDGE_STARTED,    /* the proxy is listening */
	BRIDGE_FAILED,     /* ptr: malloc'd error sentence; receiver frees */
	BRIDGE_EXITED,     /* the SIP loop has ended (drained or stopped) */
	BRIDGE_BILLING,    /* ptr: struct billing_item * (malloc'd, billing.h); receiver
			      frees. Posted before BRIDGE_EXITED for every session the
			      SIP thread ends on its way out (FIFO order). */
	BRIDGE_CLUSTER_SESS, /* ptr: malloc'd cluster_sess.h line (an answered call
				started or ended); receiver frees */
	/* service -> SIP */
	BRIDGE_CLUSTER_ADOPT, /* ptr: struct cluster_adopt * (cluster.h, malloc'd): a dead
				 peer's call to end; receiver frees */
	/* SIP -> service */
	BRIDGE_LIMIT,      /* ptr: struct rm_snmp_limit_event * (rm_snmp.h, malloc'd): a
			      hard limit reached at admission (rmL3LimitReached); receiver
			      frees */
};

struct bridge_msg {
	enum bridge_type type;
	long num;
	void *ptr;
};

struct bridge;
typedef void (*bridge_fn)(const struct bridge_msg *m, void *arg);

/* cap: capacity of each queue (messages). NULL on failure (errno set). */
struct bridge *bridge_new(size_t cap);
/* Free queues and eventfds. Both loops must have detached (or be gone). Messages
 * still queued are dropped (their pointers leak by design: shutdown only). */
void bridge_free(struct bridge *b);

/* Service side: deliver messages for the service thread to fn on base. 0 / -1. */
int bridge_attach_service(struct bridge *b, struct event_base *base, bridge_fn fn, void *arg);
/* SIP side: deliver messages for the SIP thread to fn on root. 0 / -1. */
int bridge_attach_sip(struct bridge *b, struct su_root_s *root, bridge_fn fn, void *arg);
/* Detach the SIP side (call on the SIP thread before destroying root). */
void bridge_detach_sip(struct bridge *b);

/* Post a message. Returns 0, or -1 when the queue is full (the caller decides:
 * signals are retried by the next signal, results are logged). Any thread. */
int bridge_to_sip(struct bridge *b, enum bridge_type type, long num, void *ptr);
int bridge_to_service(struct bridge *b, enum bridge_type type, long num, void *ptr);

#define BRIDGE_BATCH_MS 10

enum bridge_wake { BRIDGE_WAKE_NOW = 0, BRIDGE_WAKE_LOOP, BRIDGE_WAKE_LATER };

/* SIP thread only, once bridge_attach_sip has succeeded (before that, or after
 * bridge_detach_sip, it wakes at once): post to the service thread and wake it as
 * wake says (above). 0, or -1 when the queue is full. */
int bridge_to_service_batched(struct bridge *b, enum bridge_type type, long num, void *ptr,
			      enum bridge_wake wake);

/* How many times the service loop has been woken for the bridge (deliveries of one
 * or more messages). Service thread. */
unsigned long bridge_service_wakeups(const struct bridge *b);

#endif
