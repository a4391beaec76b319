/*
 * bridge: the only meeting point of rm's two threads (ARCHITECTURE.md "Threads and
 * loops"). Two bounded FIFO queues of small messages, one each way, each with an
 * eventfd that wakes the receiving loop: a libevent event on the service side, a
 * su_root-registered wait object on the SIP side. The queues' mutex is the only
 * lock in rm.
 *
 * Messages carry a type, an integer and a pointer; ownership of what the pointer
 * points to passes to the receiver (document it per type where it is defined).
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

#endif
