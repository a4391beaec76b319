/* overload: token bucket and in-flight guard for new INVITEs (contract in overload.h). */
#include "overload.h"

#include <string.h>

static double burst_of(double rate)
{
	double b = rate / 5;
	return b < OVERLOAD_MIN_BURST ? OVERLOAD_MIN_BURST : b;
}

static void set_rate(struct overload *o, double rate)
{
	o->rate = rate;
	if (rate > 0 && o->tokens > burst_of(rate))
		o->tokens = burst_of(rate);
}

void overload_set_params(struct overload *o, const struct overload_params *prm,
			 int64_t now_ms)
{
	o->prm = *prm;
	o->refill_ms = now_ms;
	if (prm->max_cps > 0) {
		o->rate = prm->max_cps;
		o->tokens = burst_of(o->rate);
	} else {
		o->rate = 0;
		o->tokens = 0;
	}
}

void overload_init(struct overload *o, const struct overload_params *prm, int64_t now_ms)
{
	memset(o, 0, sizeof *o);
	o->win_ms = now_ms;
	overload_set_params(o, prm, now_ms);
}

/* Roll the one-second admission window forward to now_ms. */
static void roll_window(struct overload *o, int64_t now_ms)
{
	if (now_ms - o->win_ms < 1000)
		return;
	/* a window that ended more than a second ago saw no admissions after it */
	o->last_admitted = now_ms - o->win_ms < 2000 ? o->win_admitted : 0;
	o->win_admitted = 0;
	o->win_ms = now_ms;
}

static void refill(struct overload *o, int64_t now_ms)
{
	if (o->rate <= 0)
		return;
	if (now_ms > o->refill_ms) {
		o->tokens += o->rate * (double)(now_ms - o->refill_ms) / 1000.0;
		if (o->tokens > burst_of(o->rate))
			o->tokens = burst_of(o->rate);
	}
	o->refill_ms = now_ms;
}

enum overload_verdict overload_admit(struct overload *o, size_t pending, uint32_t queued,
				     int64_t now_ms)
{
	enum overload_verdict v = OVERLOAD_ADMIT;

	roll_window(o, now_ms);
	refill(o, now_ms);
	if (o->prm.max_queue > 0 && queued > o->prm.max_queue)
		v = OVERLOAD_QUEUE;
	else if (o->prm.max_pending > 0 && pending >= (size_t)o->prm.max_pending)
		v = OVERLOAD_PENDING;
	else if (o->rate > 0 && o->tokens < 1.0)
		v = OVERLOAD_RATE;
	if (v != OVERLOAD_ADMIT) {
		o->shed++;
		o->last_shed_ms = now_ms;
		return v;
	}
	if (o->rate > 0)
		o->tokens -= 1.0;
	o->win_admitted++;
	return OVERLOAD_ADMIT;
}

/* Admissions per second measured now: the last full second, or the current one so
 * far when it is busier (at the start of a burst the last second may have been idle). */
static double admitted_rate(const struct overload *o, int64_t now_ms)
{
	int64_t el = now_ms - o->win_ms;
	double cur = el >= 200 ? (double)o->win_admitted * 1000.0 / (double)el : 0;
	return cur > o->last_admitted ? cur : (double)o->last_admitted;
}

void overload_signal(struct overload *o, bool congested, int64_t now_ms)
{
	roll_window(o, now_ms);
	if (congested)
		o->last_busy_ms = now_ms;
	else if (now_ms - o->last_busy_ms >= 2000 && o->last_admitted > o->calm_peak)
		o->calm_peak = o->last_admitted; /* a whole second admitted without trouble */
	if (o->prm.max_cps != 0)
		return; /* fixed or off: nothing adapts */
	refill(o, now_ms);
	if (congested) {
		if (o->rate > 0 && now_ms - o->last_cut_ms < 1000)
			return;
		/* never below half the limit in force: one bad second must not collapse it */
		double r = admitted_rate(o, now_ms) * 0.9;
		if (o->rate > 0 && r < o->rate * 0.5)
			r = o->rate * 0.5;
		else if (o->rate > 0 && r > o->rate * 0.9)
			r = o->rate * 0.9;
		if (r < o->calm_peak * 0.7)
			r = o->calm_peak * 0.7;
		set_rate(o, r < OVERLOAD_MIN_CPS ? OVERLOAD_MIN_CPS : r);
		o->last_cut_ms = o->last_raise_ms = now_ms;
		return;
	}
	if (o->rate <= 0)
		return;
	if (now_ms - o->last_busy_ms >= OVERLOAD_CALM_MS &&
	    now_ms - o->last_shed_ms >= OVERLOAD_CALM_MS) {
		set_rate(o, 0); /* calm for long, nothing shed: lift the limit */
		return;
	}
	if (now_ms - o->last_raise_ms >= 1000 && now_ms - o->last_cut_ms >= 1000) {
		double step = o->rate * 0.1;
		set_rate(o, o->rate + (step < OVERLOAD_MIN_STEP ? OVERLOAD_MIN_STEP : step));
		o->last_raise_ms = now_ms;
	}
}

bool overload_busy_since(const struct overload *o, int64_t since_ms)
{
	return o->last_busy_ms != 0 && o->last_busy_ms >= since_ms;
}

double overload_rate(const struct overload *o)
{
	return o->rate;
}

int64_t overload_lag_ms(int64_t prev_ms, int64_t now_ms, int64_t period_ms)
{
	if (prev_ms == 0)
		return 0;
	int64_t lag = now_ms - prev_ms - period_ms;
	return lag > 0 ? lag : 0;
}

const char *overload_verdict_name(enum overload_verdict v)
{
	switch (v) {
	case OVERLOAD_ADMIT:
		return "admit";
	case OVERLOAD_RATE:
		return "rate";
	case OVERLOAD_PENDING:
		return "pending";
	case OVERLOAD_QUEUE:
		return "queue";
	}
	return "?";
}

uint32_t overload_queue_limit(uint32_t rcvbuf)
{
	uint32_t q = rcvbuf / 8;
	return q < 65536 ? 65536 : q;
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; s && *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t overload_key(const char *call_id, const char *branch)
{
	uint64_t h = fnv1a(0xcbf29ce484222325ULL, call_id);
	h = fnv1a(h ^ 0xff, branch); /* "ab"+"c" and "a"+"bc" differ */
	return h ? h : 1;            /* 0 marks an empty slot */
}

void overload_remember(struct overload_memory *m, uint64_t key, int64_t now_ms)
{
	size_t i = (size_t)(key % OVERLOAD_MEMORY_SLOTS);
	m->key[i] = key;
	m->at_ms[i] = now_ms;
}

bool overload_recall(const struct overload_memory *m, uint64_t key, int64_t now_ms)
{
	size_t i = (size_t)(key % OVERLOAD_MEMORY_SLOTS);
	return key && m->key[i] == key && now_ms - m->at_ms[i] <= OVERLOAD_MEMORY_MS;
}

uint32_t overload_filter_next(struct overload_filter *f, uint32_t queued, uint32_t max_queue,
			      bool tick)
{
	uint32_t a = f->accept;

	if (max_queue == 0)
		return f->accept = OVERLOAD_FILTER_OFF;
	if (a >= OVERLOAD_FILTER_OFF) {
		if ((uint64_t)queued <= (uint64_t)max_queue * OVERLOAD_FILTER_ENGAGE)
			return a;
		a = f->last ? f->last * 2 : OVERLOAD_FILTER_OFF / 2;
		return f->accept = a < OVERLOAD_FILTER_OFF / 2 ? a : OVERLOAD_FILTER_OFF / 2;
	}
	if (!tick)
		return a;
	if ((uint64_t)queued > (uint64_t)max_queue * OVERLOAD_FILTER_HALVE)
		a = a / 2 > OVERLOAD_FILTER_MIN ? a / 2 : OVERLOAD_FILTER_MIN;
	else if (queued <= max_queue)
		a = OVERLOAD_FILTER_OFF;
	else
		a = a + a / 4 + OVERLOAD_FILTER_MIN;
	if (a >= OVERLOAD_FILTER_OFF) {
		f->last = f->accept;
		a = OVERLOAD_FILTER_OFF;
	}
	return f->accept = a;
}
