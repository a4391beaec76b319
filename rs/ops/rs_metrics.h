/* rs_metrics: the Prometheus series rs exports, registered once at start-up. */
#ifndef RS_RS_METRICS_H
#define RS_RS_METRICS_H

#include "metrics.h"

typedef struct rs_metrics {
	metrics_t *reg;
	metric_t *received;       /* SENDs accepted for storage */
	metric_t *stored;         /* new rows committed to the database */
	metric_t *duplicates;     /* rows skipped because the id was already stored */
	metric_t *journaled;      /* records written to the journal */
	metric_t *replayed;       /* journal entries committed to the database */
	metric_t *quarantined;    /* refused by the database: dead-letter table/file */
	metric_t *rej_invalid;    /* rejected: record failed validation */
	metric_t *rej_dest;       /* rejected: unknown destination */
	metric_t *rej_full;       /* rejected: journal full and database down */
	metric_t *rej_protocol;   /* connections closed on a protocol error */
	metric_t *receipts;       /* RECEIPT frames sent */
	metric_t *conns;          /* open STOMP connections */
	metric_t *conns_refused;  /* connections refused (limit, auth) */
	metric_t *journal_depth;  /* entries waiting in the journal */
	metric_t *journal_bytes;
	metric_t *db_up;          /* 1 when the last database operation succeeded */
	metric_t *queue;          /* records accepted, not yet durable */
	metric_t *batch_seconds;  /* histogram: one batch commit */
	metric_t *batch_size;     /* histogram: records per batch */
	metric_t *batch_last;     /* gauge: seconds of the last committed batch */
	metric_t *journal_max;    /* gauge: journal.max_bytes (usage = bytes / max) */
	/* consume mode */
	metric_t *broker_up;      /* 1 while subscribed to a broker */
	metric_t *broker_connects;/* sessions opened (CONNECTED) */
	metric_t *broker_acks;    /* ACK frames sent */
	metric_t *broker_nacks;   /* NACK frames sent (invalid records) */
	/* Mean batch latency for SNMP (rsBatchLatencyAvgMs): the writer adds each
	 * committed batch here with the same duration it gives batch_seconds. Atomics. */
	uint64_t batch_us_sum, batch_n;
} rs_metrics_t;

/* Register every series on a new registry. 0, or -1 on out of memory. */
int rs_metrics_init(rs_metrics_t *m);
void rs_metrics_free(rs_metrics_t *m);

#endif
