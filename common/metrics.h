/*
 * metrics: a registry of counters, gauges and histograms rendered as Prometheus text
 * (exposition format 0.0.4).
 *
 * Registration (metrics_counter/gauge/histogram) may happen at any time from any
 * thread: the lists of families and series change only under the registry's mutex,
 * which metrics_find and metrics_render take too. A handle stays valid until
 * metrics_free() (series are never removed). Updates through a handle are lock-free
 * atomics and may come from any thread; metrics_render may run concurrently with
 * updates and registrations. A lookup (registration of an existing series,
 * metrics_find) is linear in the number of families and series: keep handles on
 * hot paths. Series of one family (same name, different label value)
 * are rendered under one HELP/TYPE block.
 *
 * Names follow Prometheus conventions; the caller passes the full name
 * ("rs_records_received_total"). label may be NULL, or "key=value" (the value is
 * escaped on output).
 */
#ifndef COMMON_METRICS_H
#define COMMON_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct metrics metrics_t;
typedef struct metric metric_t;

metrics_t *metrics_new(void);
void metrics_free(metrics_t *m);

/* Return the series for (name, label), creating it on first use; the same
 * (name, label) returns the same handle. NULL only on out of memory, when name is
 * already registered with another type, or when label has no "key=". The update
 * functions below accept a NULL handle and do nothing. */
metric_t *metrics_counter(metrics_t *m, const char *name, const char *help,
			  const char *label);
metric_t *metrics_gauge(metrics_t *m, const char *name, const char *help,
			const char *label);
/* bounds: ascending upper bounds (seconds, say), n of them; +Inf is implicit. */
metric_t *metrics_histogram(metrics_t *m, const char *name, const char *help,
			    const double *bounds, size_t n);

/* Look up an existing series without creating it: NULL when (name, label) has not
 * been registered (by any thread). For readers such as an SNMP agent that must not
 * invent series another module owns. */
metric_t *metrics_find(metrics_t *m, const char *name, const char *label);

void metric_inc(metric_t *c);                /* counter += 1 */
void metric_add(metric_t *c, uint64_t n);    /* counter += n */
void metric_set(metric_t *g, double v);      /* gauge = v */
void metric_gauge_add(metric_t *g, double d); /* gauge += d (may be negative) */
void metric_observe(metric_t *h, double v);  /* histogram sample */
double metric_value(const metric_t *m);      /* counter or gauge value; histogram count */

/* Render every series. Returns a malloc'd NUL-terminated string (caller frees) and
 * its length in *len (len may be NULL); NULL on out of memory. */
char *metrics_render(metrics_t *m, size_t *len);

#endif
