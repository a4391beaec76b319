/*
 * metrics: counters, gauges and histograms rendered as Prometheus text (see
 * metrics.h).
 *
 * Values live in C11 atomics: counters and bucket counts as uint64_t, gauges and
 * histogram sums as the bit pattern of a double updated by compare-and-swap. The
 * registry itself (the lists of families and series) changes only under a mutex,
 * which render also takes, so a late registration cannot race a scrape.
 */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum metrics_type { MT_COUNTER, MT_GAUGE, MT_HISTOGRAM };

struct metrics_family {
	char *name;
	char *help;
	enum metrics_type type;
	struct metric *first, *last;
	struct metrics_family *next;
};

struct metric {
	struct metrics_family *fam;
	char *label;  /* as registered ("key=value"), NULL for none */
	char *lkey;   /* label name */
	char *lvalue; /* label value, unescaped */
	_Atomic uint64_t count; /* counter value */
	_Atomic uint64_t bits;  /* gauge value or histogram sum, as double bits */
	size_t nbounds;
	double *bounds;
	_Atomic uint64_t *buckets; /* nbounds + 1 (the last is +Inf), not cumulative */
	struct metric *next;
};

struct metrics {
	pthread_mutex_t lock;
	struct metrics_family *first, *last;
};

static uint64_t metrics_d2u(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static double metrics_u2d(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

metrics_t *metrics_new(void)
{
	metrics_t *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

static void metrics_series_free(struct metric *s)
{
	if (!s)
		return;
	free(s->label);
	free(s->lkey);
	free(s->lvalue);
	free(s->bounds);
	free((void *)s->buckets);
	free(s);
}

void metrics_free(metrics_t *m)
{
	struct metrics_family *f, *fn;
	struct metric *s, *sn;

	if (!m)
		return;
	for (f = m->first; f; f = fn) {
		fn = f->next;
		for (s = f->first; s; s = sn) {
			sn = s->next;
			metrics_series_free(s);
		}
		free(f->name);
		free(f->help);
		free(f);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static int metrics_same_label(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* A new series for family f (not yet linked). NULL on out of memory or when the
 * label has no '='. */
static struct metric *metrics_series_new(struct metrics_family *f, const char *label,
					 const double *bounds, size_t n)
{
	struct metric *s = calloc(1, sizeof(*s));
	const char *eq;

	if (!s)
		goto fail;
	s->fam = f;
	if (label) {
		eq = strchr(label, '=');
		if (!eq || eq == label)
			goto fail;
		s->label = strdup(label);
		s->lkey = strndup(label, (size_t)(eq - label));
		s->lvalue = strdup(eq + 1);
		if (!s->label || !s->lkey || !s->lvalue)
			goto fail;
	}
	if (f->type == MT_HISTOGRAM) {
		s->nbounds = n;
		s->bounds = malloc((n ? n : 1) * sizeof(double));
		s->buckets = calloc(n + 1, sizeof(*s->buckets));
		if (!s->bounds || !s->buckets)
			goto fail;
		if (n)
			memcpy(s->bounds, bounds, n * sizeof(double));
	}
	atomic_init(&s->count, 0);
	atomic_init(&s->bits, metrics_d2u(0.0));
	return s;
fail:
	metrics_series_free(s);
	return NULL;
}

/* Find or create the series (name, label) of the given type, under the lock. */
static metric_t *metrics_get(metrics_t *m, enum metrics_type type, const char *name,
			     const char *help, const char *label, const double *bounds,
			     size_t n)
{
	struct metrics_family *f;
	struct metric *s = NULL;

	if (!m || !name)
		return NULL;
	pthread_mutex_lock(&m->lock);
	for (f = m->first; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			break;
	if (f && f->type != type)
		goto fail;
	if (f) {
		for (s = f->first; s; s = s->next)
			if (metrics_same_label(s->label, label))
				goto out;
	} else {
		f = calloc(1, sizeof(*f));
		if (!f)
			goto fail;
		f->name = strdup(name);
		f->help = strdup(help ? help : "");
		f->type = type;
		if (!f->name || !f->help) {
			free(f->name);
			free(f->help);
			free(f);
			goto fail;
		}
		if (m->last)
			m->last->next = f;
		else
			m->first = f;
		m->last = f;
	}
	s = metrics_series_new(f, label, bounds, n);
	if (!s)
		goto fail;
	if (f->last)
		f->last->next = s;
	else
		f->first = s;
	f->last = s;
out:
	pthread_mutex_unlock(&m->lock);
	return s;
fail:
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

metric_t *metrics_find(metrics_t *m, const char *name, const char *label)
{
	struct metrics_family *f;
	struct metric *s = NULL;

	if (!m || !name)
		return NULL;
	pthread_mutex_lock(&m->lock);
	for (f = m->first; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			break;
	if (f)
		for (s = f->first; s; s = s->next)
			if (metrics_same_label(s->label, label))
				break;
	pthread_mutex_unlock(&m->lock);
	return s;
}

metric_t *metrics_counter(metrics_t *m, const char *name, const char *help,
			  const char *label)
{
	return metrics_get(m, MT_COUNTER, name, help, label, NULL, 0);
}

metric_t *metrics_gauge(metrics_t *m, const char *name, const char *help,
			const char *label)
{
	return metrics_get(m, MT_GAUGE, name, help, label, NULL, 0);
}

metric_t *metrics_histogram(metrics_t *m, const char *name, const char *help,
			    const double *bounds, size_t n)
{
	return metrics_get(m, MT_HISTOGRAM, name, help, NULL, bounds, n);
}

void metric_inc(metric_t *c)
{
	if (c)
		atomic_fetch_add_explicit(&c->count, 1, memory_order_relaxed);
}

void metric_add(metric_t *c, uint64_t n)
{
	if (c)
		atomic_fetch_add_explicit(&c->count, n, memory_order_relaxed);
}

void metric_set(metric_t *g, double v)
{
	if (g)
		atomic_store_explicit(&g->bits, metrics_d2u(v), memory_order_relaxed);
}

/* Add d to the double stored in *bits (compare-and-swap loop). */
static void metrics_add_double(_Atomic uint64_t *bits, double d)
{
	uint64_t old = atomic_load_explicit(bits, memory_order_relaxed);

	while (!atomic_compare_exchange_weak_explicit(bits, &old,
						      metrics_d2u(metrics_u2d(old) + d),
						      memory_order_relaxed,
						      memory_order_relaxed))
		;
}

void metric_gauge_add(metric_t *g, double d)
{
	if (g)
		metrics_add_double(&g->bits, d);
}

/* Count v in the first bucket whose upper bound is >= v (Prometheus "le"). Linear
 * in the number of buckets, which is small. */
void metric_observe(metric_t *h, double v)
{
	size_t i = 0;

	if (!h || !h->buckets)
		return;
	while (i < h->nbounds && !(v <= h->bounds[i]))
		i++;
	atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
	metrics_add_double(&h->bits, v);
}

static uint64_t metrics_hist_count(const struct metric *h)
{
	uint64_t n = 0;

	for (size_t i = 0; i <= h->nbounds; i++)
		n += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
	return n;
}

double metric_value(const metric_t *m)
{
	if (!m)
		return 0;
	switch (m->fam->type) {
	case MT_COUNTER:
		return (double)atomic_load_explicit(&m->count, memory_order_relaxed);
	case MT_GAUGE:
		return metrics_u2d(atomic_load_explicit(&m->bits, memory_order_relaxed));
	case MT_HISTOGRAM:
		return (double)metrics_hist_count(m);
	}
	return 0;
}

/* Growable output buffer for render; on out of memory it stays failed. */
struct metrics_buf {
	char *s;
	size_t len, cap;
	int oom;
};

static void metrics_reserve(struct metrics_buf *b, size_t n)
{
	size_t ncap;
	char *ns;

	if (b->oom || b->len + n + 1 <= b->cap)
		return;
	ncap = b->cap ? b->cap : 1024;
	while (ncap < b->len + n + 1)
		ncap *= 2;
	ns = realloc(b->s, ncap);
	if (!ns) {
		b->oom = 1;
		return;
	}
	b->s = ns;
	b->cap = ncap;
}

static void metrics_puts(struct metrics_buf *b, const char *s, size_t n)
{
	metrics_reserve(b, n);
	if (b->oom)
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		metrics_puts(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Escape for the exposition format: backslash and newline always, double quote
 * only inside label values. */
static void metrics_put_escaped(struct metrics_buf *b, const char *s, int quote)
{
	const char *run = s;

	for (; *s; s++) {
		const char *e = NULL;

		if (*s == '\\')
			e = "\\\\";
		else if (*s == '\n')
			e = "\\n";
		else if (*s == '"' && quote)
			e = "\\\"";
		if (!e)
			continue;
		metrics_puts(b, run, (size_t)(s - run));
		metrics_puts(b, e, 2);
		run = s + 1;
	}
	metrics_puts(b, run, (size_t)(s - run));
}

/* Shortest decimal that reads back as the same double; Prometheus spellings for
 * infinities and NaN. */
static void metrics_fmt_double(char *out, size_t len, double v)
{
	if (isnan(v)) {
		snprintf(out, len, "NaN");
	} else if (isinf(v)) {
		snprintf(out, len, "%s", v > 0 ? "+Inf" : "-Inf");
	} else if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(out, len, "%.0f", v); /* 400000, not 4e+05 */
	} else {
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(out, len, "%.*g", prec, v);
			if (strtod(out, NULL) == v)
				return;
		}
	}
}

/* name{key="value"} or name{key="value",le="x"} or name (no labels at all). */
static void metrics_put_series(struct metrics_buf *b, const char *name, const char *suffix,
			       const struct metric *s, const char *le)
{
	int any = s->lkey || le;

	metrics_puts(b, name, strlen(name));
	metrics_puts(b, suffix, strlen(suffix));
	if (!any)
		return;
	metrics_puts(b, "{", 1);
	if (s->lkey) {
		metrics_puts(b, s->lkey, strlen(s->lkey));
		metrics_puts(b, "=\"", 2);
		metrics_put_escaped(b, s->lvalue, 1);
		metrics_puts(b, "\"", 1);
	}
	if (le) {
		if (s->lkey)
			metrics_puts(b, ",", 1);
		metrics_printf(b, "le=\"%s\"", le);
	}
	metrics_puts(b, "}", 1);
}

static void metrics_render_series(struct metrics_buf *b, const struct metrics_family *f,
				  const struct metric *s)
{
	char num[64];
	uint64_t cum = 0;

	switch (f->type) {
	case MT_COUNTER:
		metrics_put_series(b, f->name, "", s, NULL);
		metrics_printf(b, " %llu\n", (unsigned long long)atomic_load(&s->count));
		break;
	case MT_GAUGE:
		metrics_put_series(b, f->name, "", s, NULL);
		metrics_fmt_double(num, sizeof(num), metrics_u2d(atomic_load(&s->bits)));
		metrics_printf(b, " %s\n", num);
		break;
	case MT_HISTOGRAM:
		/* The count is the sum of the buckets read here, so _count always equals
		 * the +Inf bucket even while observations race the scrape. */
		for (size_t i = 0; i <= s->nbounds; i++) {
			cum += atomic_load(&s->buckets[i]);
			if (i < s->nbounds)
				metrics_fmt_double(num, sizeof(num), s->bounds[i]);
			else
				snprintf(num, sizeof(num), "+Inf");
			metrics_put_series(b, f->name, "_bucket", s, num);
			metrics_printf(b, " %llu\n", (unsigned long long)cum);
		}
		metrics_put_series(b, f->name, "_sum", s, NULL);
		metrics_fmt_double(num, sizeof(num), metrics_u2d(atomic_load(&s->bits)));
		metrics_printf(b, " %s\n", num);
		metrics_put_series(b, f->name, "_count", s, NULL);
		metrics_printf(b, " %llu\n", (unsigned long long)cum);
		break;
	}
}

char *metrics_render(metrics_t *m, size_t *len)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };
	struct metrics_buf b = { 0 };

	metrics_reserve(&b, 0);
	if (b.oom)
		return NULL;
	b.s[0] = '\0';
	pthread_mutex_lock(&m->lock);
	for (const struct metrics_family *f = m->first; f; f = f->next) {
		metrics_puts(&b, "# HELP ", 7);
		metrics_puts(&b, f->name, strlen(f->name));
		metrics_puts(&b, " ", 1);
		metrics_put_escaped(&b, f->help, 0);
		metrics_printf(&b, "\n# TYPE %s %s\n", f->name, types[f->type]);
		for (const struct metric *s = f->first; s; s = s->next)
			metrics_render_series(&b, f, s);
	}
	pthread_mutex_unlock(&m->lock);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	if (len)
		*len = b.len;
	return b.s;
}
