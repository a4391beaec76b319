/*
 * bridge: two bounded queues + eventfds between the SIP thread (sofia su_root) and
 * the service thread (libevent). See bridge.h.
 */
#define SU_ROOT_MAGIC_T void
#define SU_WAKEUP_ARG_T void
#define SU_PREPOLL_MAGIC_T struct bridge
#define SU_TIMER_ARG_T struct bridge
#include <sofia-sip/su_wait.h>

#include "bridge.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

struct queue {
	pthread_mutex_t lock;
	struct bridge_msg *ring;
	size_t cap, head, n;
	int efd;
	bridge_fn fn;
	void *arg;
};

struct bridge {
	struct queue to_sip, to_svc;
	struct event *ev;      /* service side */
	unsigned long svc_wakeups;
	su_root_t *root;       /* SIP side */
	int sip_index;         /* su_root_register index */
	/* batched posts to the service side (SIP thread only) */
	bool prepoll;          /* our prepoll is installed on root */
	su_timer_t *batch;     /* BRIDGE_WAKE_LATER deadline */
	bool wake_loop;        /* posted with BRIDGE_WAKE_LOOP since the last wake-up */
	bool batch_armed;      /* batch timer running */
	bool unsignalled;      /* to_svc holds messages nobody has woken it for */
};

static int queue_init(struct queue *q, size_t cap)
{
	q->ring = calloc(cap, sizeof *q->ring);
	if (!q->ring)
		return -1;
	q->cap = cap;
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0) {
		free(q->ring);
		return -1;
	}
	pthread_mutex_init(&q->lock, NULL);
	return 0;
}

static void queue_fini(struct queue *q)
{
	if (!q->ring)
		return;
	close(q->efd);
	free(q->ring);
	pthread_mutex_destroy(&q->lock);
}

static void queue_signal(struct queue *q)
{
	uint64_t one = 1;
	ssize_t w = write(q->efd, &one, sizeof one);
	(void)w;
}

/* Append; wake the receiver if signal, or if the queue is a quarter full (*woke
 * tells). 0, or -1 when full. */
static int queue_push(struct queue *q, enum bridge_type type, long num, void *ptr, bool signal,
		      bool *woke)
{
	int rc = -1;

	pthread_mutex_lock(&q->lock);
	if (q->n < q->cap) {
		struct bridge_msg *m = &q->ring[(q->head + q->n) % q->cap];
		m->type = type;
		m->num = num;
		m->ptr = ptr;
		q->n++;
		rc = 0;
		if (q->n >= q->cap / 4)
			signal = true;
	}
	pthread_mutex_unlock(&q->lock);
	if (rc == 0 && signal)
		queue_signal(q);
	if (woke)
		*woke = rc == 0 && signal;
	return rc;
}

/* Deliver everything queued now (messages posted during delivery wake us again). */
static void queue_drain(struct queue *q)
{
	uint64_t v;
	struct bridge_msg m;
	ssize_t r = read(q->efd, &v, sizeof v);
	(void)r;

	for (;;) {
		pthread_mutex_lock(&q->lock);
		if (q->n == 0) {
			pthread_mutex_unlock(&q->lock);
			return;
		}
		m = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->n--;
		pthread_mutex_unlock(&q->lock);
		if (q->fn)
			q->fn(&m, q->arg);
	}
}

struct bridge *bridge_new(size_t cap)
{
	struct bridge *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->sip_index = -1;
	if (queue_init(&b->to_sip, cap) < 0 || queue_init(&b->to_svc, cap) < 0) {
		int e = errno;
		queue_fini(&b->to_sip);
		free(b);
		errno = e;
		return NULL;
	}
	return b;
}

void bridge_free(struct bridge *b)
{
	if (!b)
		return;
	if (b->ev)
		event_free(b->ev);
	queue_fini(&b->to_sip);
	queue_fini(&b->to_svc);
	free(b);
}

static void svc_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bridge *b = arg;
	b->svc_wakeups++;
	queue_drain(&b->to_svc);
}

unsigned long bridge_service_wakeups(const struct bridge *b)
{
	return b->svc_wakeups;
}

int bridge_attach_service(struct bridge *b, struct event_base *base, bridge_fn fn, void *arg)
{
	b->to_svc.fn = fn;
	b->to_svc.arg = arg;
	b->ev = event_new(base, b->to_svc.efd, EV_READ | EV_PERSIST, svc_cb, b);
	if (!b->ev || event_add(b->ev, NULL) < 0)
		return -1;
	return 0;
}

static void sip_prepoll(struct bridge *b, su_root_t *root);

static int sip_cb(void *magic, su_wait_t *w, void *arg)
{
	struct bridge *b = arg;
	queue_drain(&b->to_sip);
	return 0;
}

int bridge_attach_sip(struct bridge *b, su_root_t *root, bridge_fn fn, void *arg)
{
	su_wait_t w[1];

	b->to_sip.fn = fn;
	b->to_sip.arg = arg;
	if (su_wait_create(w, b->to_sip.efd, SU_WAIT_IN) < 0)
		return -1;
	b->sip_index = su_root_register(root, w, sip_cb, b, 0);
	if (b->sip_index < 0) {
		su_wait_destroy(w);
		return -1;
	}
	b->root = root;
	/* Batching needs both; without them every post wakes at once. */
	b->batch = su_timer_create(su_root_task(root), BRIDGE_BATCH_MS);
	b->prepoll = b->batch && su_root_add_prepoll(root, sip_prepoll, b) == 0;
	return 0;
}

/* Wake the service loop for what batched posts left unsignalled. SIP thread. */
static void flush_batched(struct bridge *b)
{
	if (b->unsignalled)
		queue_signal(&b->to_svc);
	b->unsignalled = b->wake_loop = false;
	if (b->batch_armed) {
		su_timer_reset(b->batch);
		b->batch_armed = false;
	}
}

/* su_root: the SIP loop is about to wait for input. */
static void sip_prepoll(struct bridge *b, su_root_t *root)
{
	if (b->wake_loop)
		flush_batched(b);
}

static void batch_expired(su_root_magic_t *m, su_timer_t *t, struct bridge *b)
{
	b->batch_armed = false;
	flush_batched(b);
}

void bridge_detach_sip(struct bridge *b)
{
	if (b->root) {
		flush_batched(b);
		if (b->prepoll)
			su_root_remove_prepoll(b->root);
		su_timer_destroy(b->batch);
	}
	b->batch = NULL;
	b->prepoll = false;
	if (b->root && b->sip_index >= 0)
		su_root_deregister(b->root, b->sip_index);
	b->root = NULL;
	b->sip_index = -1;
}

int bridge_to_sip(struct bridge *b, enum bridge_type type, long num, void *ptr)
{
	return queue_push(&b->to_sip, type, num, ptr, true, NULL);
}

int bridge_to_service(struct bridge *b, enum bridge_type type, long num, void *ptr)
{
	return queue_push(&b->to_svc, type, num, ptr, true, NULL);
}

int bridge_to_service_batched(struct bridge *b, enum bridge_type type, long num, void *ptr,
			      enum bridge_wake wake)
{
	bool woke;

	if (!b->prepoll)
		wake = BRIDGE_WAKE_NOW;
	if (queue_push(&b->to_svc, type, num, ptr, wake == BRIDGE_WAKE_NOW, &woke) < 0)
		return -1;
	if (woke) { /* everything before it rides this wake-up */
		flush_batched(b);
		return 0;
	}
	b->unsignalled = true;
	if (wake == BRIDGE_WAKE_LOOP)
		b->wake_loop = true;
	else if (!b->batch_armed && su_timer_set(b->batch, batch_expired, b) == 0)
		b->batch_armed = true;
	else if (!b->batch_armed)
		b->wake_loop = true; /* no timer: fall back to the loop's end */
	return 0;
}
