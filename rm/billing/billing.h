/*
 * billing: rm's end of the billing pipeline (ARCHITECTURE.md "Data flow of one
 * call", steps 4-5). Two halves, one per thread:
 *
 * SIP thread (proxy): billing_item_cdr() / billing_item_event() build one encoded
 * record or event body from a finished session (or a refused INVITE) into a
 * malloc'd struct billing_item, which is posted to the service thread through the
 * bridge (BRIDGE_BILLING; ownership passes with it).
 *
 * Why the record is built on the SIP thread: the session is freed right after the
 * end hook returns, so its fields would have to be copied across anyway; building
 * and encoding there (a few microseconds) means the record and its id are made
 * exactly ONCE per call, and only an immutable byte string crosses the threads. The
 * service thread never rebuilds it, so every resend carries the same id and rs's
 * idempotent store keeps one row.
 *
 * Service thread: billing_new() opens the spool and (mode stomp) starts the STOMP
 * publisher (sending billing.login / billing.passcode in CONNECT when set); billing_take() appends an item to the spool (SPOOL_FULL: the record is
 * lost and counted; calls keep flowing) and submits it; a timer flushes the spool
 * by its policy and refreshes the gauges. billing_shutdown() flushes and gives the
 * publisher a bounded grace period; what is not receipted stays in the spool and is
 * replayed on the next start. Every CDR rm does not deliver is counted in
 * rm_billing_lost_total or has a line in the dead-letter file (publisher.h).
 *
 * Metrics (names are a contract: SNMP reads these gauges from the registry):
 *   rm_spool_depth              gauge    unreleased spool entries (records + events)
 *   rm_spool_usage_percent      gauge    spool disk bytes, percent of spool_max_bytes
 *   rm_spool_high_water         gauge    1 at or above the high-water mark
 *   rm_spool_bytes              gauge    segment bytes on disk
 *   rm_billing_records_total    counter  CDRs built (one per finished call)
 *   rm_billing_lost_total       counter  CDRs not kept (spool full, I/O error, bridge,
 *                                        unreadable from the spool)
 *   rm_billing_published_total  counter  CDRs receipted by rs (released)
 *   rm_billing_rejected_total   counter  entries refused for good (ERROR retryable:false)
 *   rm_billing_dead_letter_total counter entries moved to the dead-letter file
 *                                        (the same refusals: each has a line there)
 *   rm_billing_events_total     counter  call events spooled
 *   rm_billing_events_lost_total counter call events not kept
 *   rm_billing_publisher_connected gauge 1 while a STOMP session is up
 *   rm_billing_delivery_seconds histogram call end (record end_ms) to RECEIPT
 */
#ifndef RM_BILLING_H
#define RM_BILLING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

struct event_base;
struct rm_config;
struct session;
struct cdr_input;

enum billing_kind { BILLING_CDR = 0, BILLING_EVENT = 1 };

/* One encoded body on its way to the spool. malloc'd as one block; whoever holds
 * it frees it with free(). */
struct billing_item {
	enum billing_kind kind;
	int64_t end_ms; /* the call's end (CDRs), for the delivery latency; 0 = none */
	size_t len;     /* body bytes, excluding the NUL */
	char body[];    /* NUL-terminated JSON */
};

/* ---- SIP thread (pure: no I/O) ---- */

/* The CDR for a finished session / a call described by in (a refused INVITE),
 * produced by node. NULL when the call has no Call-ID or on out of memory. */
struct billing_item *billing_item_cdr(const struct session *s, const char *node);
struct billing_item *billing_item_cdr_input(const struct cdr_input *in, const char *node);
/* A call event (enum cdr_event_type) for session s. NULL on failure. */
struct billing_item *billing_item_event(const struct session *s, const char *node, int type);

/* ---- service thread ---- */

struct billing;

/* Open the spool (modes stomp and spool-only) and start the publisher (stomp) on
 * base, per cfg's billing section (read now, not kept). Mode off returns a billing
 * that counts and drops. Registers the metrics above on m. NULL with a sentence in
 * err when the spool cannot be opened or an endpoint is unusable. */
struct billing *billing_new(struct event_base *base, const struct rm_config *cfg,
			    metrics_t *m, char *err, size_t errlen);

/* Take ownership of it: spool and publish it (or drop it in mode off). */
void billing_take(struct billing *b, struct billing_item *it);

/* The counter of CDRs (k = BILLING_CDR) or events lost, for the SIP thread to count
 * an item the bridge refused (queue full). The handle is valid until metrics_free. */
metric_t *billing_lost_metric(metrics_t *m, enum billing_kind k);

/* Flush the spool now and call done(arg) once every entry is receipted or grace_ms
 * has passed (at once in modes spool-only and off). */
void billing_shutdown(struct billing *b, unsigned grace_ms, void (*done)(void *arg),
		      void *arg);

/* Stop the publisher, flush and close the spool, free b. NULL is allowed. */
void billing_free(struct billing *b);

#endif
