/*
 * rs_snmp: rs's AgentX subagent (GVP-RS-MIB, BASE.2; see etc/mibs/README.md), built on
 * common/snmpsub.
 *
 * Values are read from the same metrics as /metrics at the moment of each request:
 *   1.1 rsReceived        rs_records_received_total (accepted) + rejected_total of
 *                         reasons invalid, destination and journal_full: every
 *                         record that arrived, valid or not, as the MIB defines
 *   1.2 rsStored          rs_records_stored_total
 *   1.3 rsDuplicates      rs_records_duplicates_total
 *   1.4 rsRejected        rs_records_rejected_total{reason="invalid"} +
 *                         {reason="destination"}: malformed records (frames that
 *                         break the protocol are not records and not counted here)
 *   1.5 rsJournalDepth    rs_journal_depth
 *   1.6 rsDbState         rs_db_up (1 -> up(1), 0 -> down(2))
 *   1.7 rsBatchLatencyLastMs  rs_batch_last_seconds * 1000, rounded
 *   1.8 rsBatchLatencyAvgMs   rs_batch_seconds_sum / _count * 1000, rounded
 *   1.9 rsJournalUsagePercent rs_journal_bytes * 100 / rs_journal_max_bytes
 * Notifications: a 250 ms timer on the loop compares the writer's state with what
 * it last saw: rsDbDown / rsDbUp on each transition of the database state (rsDbDown
 * carries the writer's last error as rsNotifReason), rsJournalHighWater when journal
 * usage crosses journal.high_water_percent upward (again only after it fell below).
 */
#ifndef RS_RS_SNMP_H
#define RS_RS_SNMP_H

#include <stddef.h>

#include <event2/event.h>

#include "config.h"
#include "rs_metrics.h"
#include "snmpsub.h"
#include "writer.h"

typedef struct rs_snmp rs_snmp_t;

/* Start the subagent (a master that is down is not an error). NULL with err. */
rs_snmp_t *rs_snmp_start(struct event_base *base, const rs_config_t *cfg,
			 rs_metrics_t *m, rs_writer_t *w, char *err, size_t errlen);
void rs_snmp_stop(rs_snmp_t *s);

/* Fill the scalars (pure given the metrics; exposed for tests). Returns how many
 * values there are (9); writes at most cap. */
size_t rs_snmp_collect(const rs_config_t *cfg, rs_metrics_t *m, snmpsub_value_t *out,
		       size_t cap);

#endif
