/* dbprobe: see dbprobe.h. */
#include "dbprobe.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "store.h"
#include "util.h"

struct dbprobe {
	rs_store_t *store;
	int up_ms, down_ms;
	void (*report)(void *, int, const char *, int64_t);
	void *arg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop; /* (mu) */
};

static void *probe_main(void *arg)
{
	dbprobe_t *p = arg;
	char why[512];

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		pthread_mutex_unlock(&p->mu);
		int64_t t0 = util_mono_us();
		why[0] = '\0';
		int ok = store_ping(p->store, why, sizeof(why)) == 0;
		if (ok)
			why[0] = '\0';
		p->report(p->arg, ok, why, t0);
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		long ms = ok ? p->up_ms : p->down_ms;
		ts.tv_sec += ms / 1000;
		ts.tv_nsec += (ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&p->mu);
		if (!p->stop)
			pthread_cond_timedwait(&p->cv, &p->mu, &ts);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

dbprobe_t *dbprobe_start(const rs_config_t *cfg, int up_ms, int down_ms,
			 void (*report)(void *arg, int ok, const char *why, int64_t started_us),
			 void *arg,
			 char *err, size_t errlen)
{
	dbprobe_t *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;

	if (!p) {
		snprintf(err, errlen, "database probe: out of memory");
		return NULL;
	}
	p->store = store_open(cfg, err, errlen);
	if (!p->store) {
		free(p);
		return NULL;
	}
	p->up_ms = up_ms;
	p->down_ms = down_ms;
	p->report = report;
	p->arg = arg;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&p->thread, NULL, probe_main, p)) {
		snprintf(err, errlen, "database probe: cannot start thread");
		store_close(p->store);
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
		free(p);
		return NULL;
	}
	return p;
}

void dbprobe_stop(dbprobe_t *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	store_close(p->store);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}
