/*
 * rm_metrics: every Prometheus series rm exports, named in one place (rm_metrics.c).
 *
 * rm_metrics_init registers the unlabelled series and the families with a fixed set of
 * labels (dispositions, refusal reasons, log levels...) on a registry and fills a
 * struct of typed handles; code that counts or reads a series goes through a handle,
 * never through its name, so that a renamed series is one edit here and a removed
 * one fails to compile (rm_snmp.c reads the same handles /metrics renders).
 * Series with a label taken from the configuration (one per MCP, profile, tenant or
 * LRG) are reached through the accessors below, which take the label value and
 * return handles: nothing outside rm_metrics.c spells a series name.
 *
 * Registration is idempotent (common/metrics.h: the same name and label give the same
 * handle), so each module handed the registry may call rm_metrics_init on its own
 * copy of the struct and gets the same handles as every other module; the first call
 * registers. Handles stay valid until metrics_free(reg). Thread: any (the registry
 * locks; updates are atomics). Lookups through the accessors are linear in the number
 * of series: cache what a hot path needs.
 */
#ifndef RM_OPS_RM_METRICS_H
#define RM_OPS_RM_METRICS_H

#include <stdbool.h>

#include "metrics.h"
#include "record.h"
#include "rm_config.h"
#include "session.h"

#define RM_METRICS_DISP 5 /* enum record_disposition: REC_ANSWERED .. REC_TIMED_OUT */
#define RM_METRICS_LOG_LEVELS 4
#define RM_METRICS_CLUSTER_DROPS 8 /* enum cluster_drop: CLUSTER_DROP_COUNT */ /* error, warn, info, debug (log.h order) */

typedef struct rm_metrics {
	metrics_t *reg;
	/* SIP proxy (rm/sip/proxy*.c) */
	metric_t *calls_active;   /* gauge: live dialogs in the session table */
	metric_t *failovers;      /* INVITE attempts retried on another MCP */
	metric_t *attempts;       /* INVITE attempts sent to MCPs */
	metric_t *mcps_up;        /* gauge: MCPs currently up (also /readyz) */
	metric_t *draining;       /* gauge: 1 while draining (also /readyz) */
	metric_t *sip_requests;   /* SIP requests received */
	metric_t *call_setup;     /* histogram: INVITE -> first final response */
	metric_t *calls[RM_METRICS_DISP];          /* by enum record_disposition */
	metric_t *ended[SESSION_END_COUNT];       /* by enum session_ender (0: NULL) */
	metric_t *byes_sent[2];   /* rm's own BYEs, [0] to the caller, [1] to the MCP */
	metric_t *rejects[RM_REFUSE_COUNT];        /* by enum rm_refuse (0: NULL) */
	/* OPTIONS monitor (rm/sip/monitor.c) and keep-alives (rm/sip/keepalive.c) */
	metric_t *options_rtt;    /* histogram: OPTIONS round trips */
	metric_t *options_skipped;/* OPTIONS timeouts not counted (rm was late) */
	metric_t *keepalive_sent, *keepalive_failed;
	/* overload control (rm/sip/proxy_overload.c) */
	metric_t *udp_rcvbuf, *udp_drops, *overload_cps_limit, *calls_in_setup,
		*udp_queued, *loop_lag, *overload_filter, *tcp_connections, *tcp_queued,
		*tcp_refused;
	/* billing (rm/billing/billing.c) */
	metric_t *spool_depth, *spool_usage_percent, *spool_high_water, *spool_bytes;
	metric_t *billing_records, *billing_lost, *billing_published, *billing_rejected,
		*billing_dead_letter, *billing_events, *billing_events_lost,
		*billing_connected;
	metric_t *billing_delivery; /* histogram: call end -> RECEIPT */
	/* cluster on 9801 (rm/cluster/) */
	metric_t *cluster_peers_up;        /* gauge: peer nodes up (state applied, heard) */
	metric_t *cluster_frames_sent, *cluster_frames_received; /* received = accepted */
	metric_t *cluster_bytes_sent;      /* bytes of those frames */
	metric_t *cluster_dropped[RM_METRICS_CLUSTER_DROPS]; /* by enum cluster_drop (0: NULL) */
	metric_t *cluster_deaths;          /* peers declared down after dead_after_ms */
	metric_t *cluster_resyncs;         /* state requests sent (gap, or state lost) */
	metric_t *cluster_sessions_remote; /* gauge: live sessions known from peers */
	metric_t *cluster_adopted;         /* dead peers' sessions this node ended */
	metric_t *cluster_sessions_lost;   /* session changes not replicated (bridge full) */
	/* logging (rm/main.c) */
	metric_t *log_messages[RM_METRICS_LOG_LEVELS];
	metric_t *log_suppressed;
} rm_metrics_t;

/* Register rm's series on reg (not owned) and fill m. Returns 0, or -1 on out of
 * memory (m is then unusable). Calling it again on the same reg gives the same
 * handles. */
int rm_metrics_init(rm_metrics_t *m, metrics_t *reg);

/* rm_bad_requests_total{reason}: reason is a sip_check.h name (sip_bad_name).
 * Creates the series; NULL only on out of memory. */
metric_t *rm_metrics_bad_request(rm_metrics_t *m, const char *reason);

/* The series of one MCP (label mcp=URI). */
struct rm_metrics_mcp {
	metric_t *up;        /* gauge 1/0; NULL while unknown (see below) */
	metric_t *active;    /* gauge: calls placed on it */
	metric_t *max_ports; /* gauge: configured capacity */
	metric_t *rtt;       /* gauge: seconds of the last answered OPTIONS (0: none) */
	metric_t *attempts;  /* counter: INVITE attempts sent to it */
};

/* The writer's side (the SIP thread): create the MCP's series. With up false,
 * out->up is only looked up (rm_mcp_up exists from the MCP's first OPTIONS result
 * on: no series while unknown); with up true it is created. 0, or -1 on out of
 * memory. */
int rm_metrics_mcp(rm_metrics_t *m, const char *uri, bool up, struct rm_metrics_mcp *out);

/* The readers' side (SNMP): look the MCP's series up without creating any; the
 * handles of series not registered yet are NULL (metric_value reads NULL as 0: test
 * the handle where "not yet" differs from 0, as rm_mcp_up's does). */
void rm_metrics_mcp_find(rm_metrics_t *m, const char *uri, struct rm_metrics_mcp *out);

/* Live calls of one profile / tenant / LRG (rm_{profile,tenant,lrg}_calls_active).
 * create false: look up only (NULL when not published yet). */
metric_t *rm_metrics_profile_active(rm_metrics_t *m, const char *profile, bool create);
metric_t *rm_metrics_tenant_active(rm_metrics_t *m, const char *tenant, bool create);
metric_t *rm_metrics_lrg_active(rm_metrics_t *m, const char *lrg, bool create);

#endif
