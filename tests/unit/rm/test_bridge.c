/* bridge: batched posts from the SIP thread wake the service loop once per batch
 * (issue 12), in FIFO order, and nothing batched is left behind. A real su_root
 * runs in a thread of its own (the SIP side); the test's thread runs the libevent
 * loop (the service side). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#define SU_ROOT_MAGIC_T struct fixture
#define SU_TIMER_ARG_T struct fixture
#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include <event2/event.h>

#include "bridge.h"

#define N_LATER 100

struct fixture {
	struct bridge *b;
	struct event_base *base;
	su_root_t *root;
	pthread_t sip;
	int scenario;          /* 1: LATER x N then one LOOP; 2: LATER only */
	long got[2 * N_LATER]; /* nums delivered to the service side, in order */
	int ngot, want;
	struct event *deadline;
	int timed_out;
};

static void svc_fn(const struct bridge_msg *m, void *arg)
{
	struct fixture *f = arg;
	if (m->type == BRIDGE_BILLING && f->ngot < (int)(sizeof f->got / sizeof f->got[0]))
		f->got[f->ngot++] = m->num;
	if (f->ngot == f->want)
		event_base_loopbreak(f->base);
}

static void sip_fn(const struct bridge_msg *m, void *arg)
{
	struct fixture *f = arg;
	if (m->type == BRIDGE_STOP)
		su_root_break(f->root);
}

/* Runs inside the SIP loop: one "packet's worth" of posts. */
static void post_all(struct fixture *f, su_timer_t *t, struct fixture *arg)
{
	for (int i = 0; i < N_LATER; i++)
		assert_int_equal(bridge_to_service_batched(f->b, BRIDGE_BILLING, i, NULL,
							   BRIDGE_WAKE_LATER), 0);
	if (f->scenario == 1)
		assert_int_equal(bridge_to_service_batched(f->b, BRIDGE_BILLING, N_LATER, NULL,
							   BRIDGE_WAKE_LOOP), 0);
}

static void *sip_main(void *arg)
{
	struct fixture *f = arg;
	su_timer_t *t;

	su_init();
	f->root = su_root_create(f);
	assert_non_null(f->root);
	assert_int_equal(bridge_attach_sip(f->b, f->root, sip_fn, f), 0);
	t = su_timer_create(su_root_task(f->root), 1);
	su_timer_set(t, post_all, f);
	su_root_run(f->root);
	su_timer_destroy(t);
	bridge_detach_sip(f->b);
	su_root_destroy(f->root);
	su_deinit();
	return NULL;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct fixture *f = arg;
	f->timed_out = 1;
	event_base_loopbreak(f->base);
}

/* Run scenario s; the service loop stops when want messages arrived or after 2 s. */
static void run(struct fixture *f, int s, int want)
{
	struct timeval tv = { 2, 0 };

	memset(f, 0, sizeof *f);
	f->scenario = s;
	f->want = want;
	f->b = bridge_new(4096);
	f->base = event_base_new();
	assert_non_null(f->b);
	assert_non_null(f->base);
	assert_int_equal(bridge_attach_service(f->b, f->base, svc_fn, f), 0);
	f->deadline = evtimer_new(f->base, on_deadline, f);
	evtimer_add(f->deadline, &tv);
	assert_int_equal(pthread_create(&f->sip, NULL, sip_main, f), 0);
	event_base_dispatch(f->base);
	bridge_to_sip(f->b, BRIDGE_STOP, 0, NULL);
	pthread_join(f->sip, NULL);
}

static void done(struct fixture *f)
{
	event_free(f->deadline);
	bridge_free(f->b);
	event_base_free(f->base);
}

/* 100 events then a CDR posted while handling one packet: one wake-up, in order,
 * before the SIP loop waits again (long before BRIDGE_BATCH_MS). */
static void test_one_wakeup_per_batch(void **state)
{
	struct fixture f;

	run(&f, 1, N_LATER + 1);
	assert_false(f.timed_out);
	assert_int_equal(f.ngot, N_LATER + 1);
	for (int i = 0; i <= N_LATER; i++)
		assert_int_equal(f.got[i], i);
	assert_int_equal(bridge_service_wakeups(f.b), 1);
	done(&f);
}

/* Events alone are not left behind: the batch timer delivers them, still with one
 * wake-up. */
static void test_later_is_delivered(void **state)
{
	struct fixture f;

	run(&f, 2, N_LATER);
	assert_false(f.timed_out);
	assert_int_equal(f.ngot, N_LATER);
	for (int i = 0; i < N_LATER; i++)
		assert_int_equal(f.got[i], i);
	assert_int_equal(bridge_service_wakeups(f.b), 1);
	done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_wakeup_per_batch),
		cmocka_unit_test(test_later_is_delivered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
