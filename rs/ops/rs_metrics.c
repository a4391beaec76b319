/* rs_metrics: registration of rs's series (names carry the rs_ prefix). */
#include "rs_metrics.h"

#include <string.h>

int rs_metrics_init(rs_metrics_t *m)
{
	static const double secs[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
				       0.05,   0.1,   0.25,   0.5,   1,    2.5 };
	static const double sizes[] = { 1, 10, 100, 500, 1000, 2000, 5000, 10000 };
	const char *rej = "rs_records_rejected_total";
	const char *rejh = "Records refused with a STOMP ERROR, by reason";

	memset(m, 0, sizeof(*m));
	m->reg = metrics_new();
	if (!m->reg)
		return -1;
	m->received = metrics_counter(m->reg, "rs_records_received_total",
				      "Records accepted from producers", NULL);
	m->stored = metrics_counter(m->reg, "rs_records_stored_total",
				    "New rows committed to the database", NULL);
	m->duplicates = metrics_counter(m->reg, "rs_records_duplicates_total",
					"Records whose id was already stored", NULL);
	m->journaled = metrics_counter(m->reg, "rs_records_journaled_total",
				       "Records written to the local journal", NULL);
	m->replayed = metrics_counter(m->reg, "rs_journal_replayed_total",
				      "Journal entries committed to the database", NULL);
	m->quarantined = metrics_counter(m->reg, "rs_records_quarantined_total",
					 "Records the database refused, kept in the dead-letter"
					 " table or file",
					 NULL);
	m->rej_invalid = metrics_counter(m->reg, rej, rejh, "reason=invalid");
	m->rej_dest = metrics_counter(m->reg, rej, rejh, "reason=destination");
	m->rej_full = metrics_counter(m->reg, rej, rejh, "reason=journal_full");
	m->rej_protocol = metrics_counter(m->reg, rej, rejh, "reason=protocol");
	m->receipts = metrics_counter(m->reg, "rs_receipts_total", "RECEIPT frames sent",
				      NULL);
	m->conns = metrics_gauge(m->reg, "rs_connections", "Open STOMP connections", NULL);
	m->conns_refused = metrics_counter(m->reg, "rs_connections_refused_total",
					   "STOMP connections refused", NULL);
	m->journal_depth = metrics_gauge(m->reg, "rs_journal_depth",
					 "Records in the journal waiting for the database",
					 NULL);
	m->journal_bytes = metrics_gauge(m->reg, "rs_journal_bytes",
					 "Size of the journal file", NULL);
	m->db_up = metrics_gauge(m->reg, "rs_db_up", "1 when the database is reachable",
				 NULL);
	m->queue = metrics_gauge(m->reg, "rs_queue_records",
				 "Records accepted and not yet durable", NULL);
	m->batch_seconds = metrics_histogram(m->reg, "rs_batch_seconds",
					     "Time to commit one batch", secs,
					     sizeof(secs) / sizeof(secs[0]));
	m->batch_size = metrics_histogram(m->reg, "rs_batch_records", "Records per batch",
					  sizes, sizeof(sizes) / sizeof(sizes[0]));
	m->batch_last = metrics_gauge(m->reg, "rs_batch_last_seconds",
				      "Time to commit the last batch", NULL);
	m->journal_max = metrics_gauge(m->reg, "rs_journal_max_bytes",
				       "Journal size limit (journal.max_bytes)", NULL);
	m->broker_up = metrics_gauge(m->reg, "rs_broker_up",
				     "1 while subscribed to an external broker (consume mode)",
				     NULL);
	m->broker_connects = metrics_counter(m->reg, "rs_broker_connects_total",
					     "Broker sessions established (consume mode)", NULL);
	m->broker_acks = metrics_counter(m->reg, "rs_broker_acks_total",
					 "Messages acknowledged to the broker once durable",
					 NULL);
	m->broker_nacks = metrics_counter(m->reg, "rs_broker_nacks_total",
					  "Invalid messages refused to the broker (NACK)", NULL);
	if (!m->quarantined || !m->batch_last || !m->journal_max || !m->broker_up || !m->broker_connects ||
	    !m->broker_acks || !m->broker_nacks || !m->received || !m->stored || !m->duplicates || !m->journaled || !m->replayed ||
	    !m->rej_invalid || !m->rej_dest || !m->rej_full || !m->rej_protocol ||
	    !m->receipts || !m->conns || !m->conns_refused || !m->journal_depth ||
	    !m->journal_bytes || !m->db_up || !m->queue || !m->batch_seconds ||
	    !m->batch_size) {
		rs_metrics_free(m);
		return -1;
	}
	return 0;
}

void rs_metrics_free(rs_metrics_t *m)
{
	metrics_free(m->reg);
	m->reg = NULL;
}
