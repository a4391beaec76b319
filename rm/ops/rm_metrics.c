/* rm_metrics: the one place rm's series are named (see rm_metrics.h). */
#include "rm_metrics.h"

#include "cluster_frame.h"

#include <stdio.h>
#include <string.h>

#define CTR(field, name, help) (m->field = metrics_counter(m->reg, name, help, NULL))
#define GAUGE(field, name, help) (m->field = metrics_gauge(m->reg, name, help, NULL))
#define HIST(field, name, help, b) \
	(m->field = metrics_histogram(m->reg, name, help, b, sizeof(b) / sizeof((b)[0])))

static const char BAD_REQ[] = "rm_bad_requests_total";
static const char BAD_REQ_HELP[] = "Requests refused (answered 4xx/5xx or dropped) "
				   "before routing, by reason";

/* Call setup: INVITE received -> first final response relayed (answer or end). */
static const double setup_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
				       1, 2.5, 5, 10, 30 };
static const double rtt_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				     0.1, 0.25, 0.5, 1 };
static const double delivery_bounds[] = { 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5,
					  0.75, 1, 2, 5, 10, 30 };

/* A counter or gauge of a family with one label "key=value". */
static metric_t *labelled(metrics_t *reg, bool gauge, const char *name, const char *help,
			  const char *key, const char *value)
{
	char label[RM_URI_MAX + 32];

	snprintf(label, sizeof label, "%s=%s", key, value);
	return gauge ? metrics_gauge(reg, name, help, label)
		     : metrics_counter(reg, name, help, label);
}

static metric_t *found(metrics_t *reg, const char *name, const char *key, const char *value)
{
	char label[RM_URI_MAX + 32];

	snprintf(label, sizeof label, "%s=%s", key, value);
	return metrics_find(reg, name, label);
}

static bool sip_series(rm_metrics_t *m)
{
	static const char *const bye_to[2] = { "caller", "mcp" };
	bool ok = true;

	ok &= !!GAUGE(calls_active, "rm_calls_active", "Live dialogs in the session table");
	ok &= !!CTR(failovers, "rm_failovers_total", "INVITE attempts retried on another MCP");
	ok &= !!CTR(attempts, "rm_attempts_total", "INVITE attempts sent to MCPs");
	ok &= !!GAUGE(mcps_up, "rm_mcps_up", "MCPs currently up");
	ok &= !!GAUGE(draining, "rm_draining", "1 while draining on SIGTERM");
	ok &= !!CTR(sip_requests, "rm_sip_requests_total", "SIP requests received");
	ok &= !!HIST(call_setup, "rm_call_setup_seconds",
		     "Time from INVITE to the first final response, per routed call (observed "
		     "when the call ends)", setup_bounds);
	for (int d = 0; d < RM_METRICS_DISP; d++)
		ok &= !!(m->calls[d] = labelled(m->reg, false, "rm_calls_total",
						"Finished calls by disposition", "disposition",
						record_disposition_name((enum record_disposition)d)));
	for (int e = SESSION_END_CALLER; e < SESSION_END_COUNT; e++)
		ok &= !!(m->ended[e] = labelled(m->reg, false, "rm_calls_ended_total",
						"Finished calls by who ended them (the record's "
						"ended_by)", "ended_by",
						session_ender_name((enum session_ender)e)));
	for (int s = 0; s < 2; s++)
		ok &= !!(m->byes_sent[s] = labelled(m->reg, false, "rm_byes_sent_total",
						    "BYEs rm sent itself to end an answered call "
						    "(max duration, drain timeout)", "to",
						    bye_to[s]));
	for (int r = 1; r < RM_REFUSE_COUNT; r++)
		ok &= !!(m->rejects[r] = labelled(m->reg, false, "rm_rejects_total",
						  "INVITEs refused by rm, by reason", "reason",
						  rm_refuse_name((enum rm_refuse)r)));
	ok &= !!HIST(options_rtt, "rm_options_rtt_seconds",
		     "Round trip of answered OPTIONS pings to MCPs", rtt_bounds);
	ok &= !!CTR(options_skipped, "rm_options_timeouts_skipped_total",
		    "OPTIONS timeouts not counted against the MCP because rm itself was behind");
	ok &= !!CTR(keepalive_sent, "rm_keepalive_sent_total",
		    "In-dialog OPTIONS rm sent (session.keepalive_s)");
	ok &= !!CTR(keepalive_failed, "rm_keepalive_failed_total",
		    "Calls ended because a side failed the in-dialog OPTIONS");
	return ok;
}

static bool overload_series(rm_metrics_t *m)
{
	bool ok = true;

	ok &= !!GAUGE(udp_rcvbuf, "rm_udp_rcvbuf_bytes",
		      "Receive buffer of the SIP UDP socket (kernel view)");
	ok &= !!CTR(udp_drops, "rm_udp_drops_total",
		    "Datagrams the kernel dropped on the SIP UDP socket (receive buffer full)");
	ok &= !!GAUGE(overload_cps_limit, "rm_overload_cps_limit",
		      "New INVITEs per second rm admits now (0 = no limit)");
	ok &= !!GAUGE(calls_in_setup, "rm_calls_in_setup",
		      "Routed INVITEs not yet finally answered");
	ok &= !!GAUGE(udp_queued, "rm_udp_queued_bytes",
		      "Bytes waiting in the SIP UDP socket's receive queue");
	ok &= !!GAUGE(loop_lag, "rm_loop_lag_seconds", "How late the SIP thread's last tick ran");
	ok &= !!CTR(overload_filter, "rm_overload_filter_total",
		    "Times the kernel was told to drop INVITEs (rm could not even refuse them "
		    "as fast as they came)");
	ok &= !!GAUGE(tcp_connections, "rm_tcp_connections",
		      "SIP TCP connections accepted and open (last census)");
	ok &= !!GAUGE(tcp_queued, "rm_tcp_queued_bytes",
		      "Bytes the SIP TCP connections hold unread (last census)");
	ok &= !!CTR(tcp_refused, "rm_tcp_refused_total",
		    "SIP TCP connections closed because overload.max_tcp_connections were open");
	return ok;
}

static bool billing_series(rm_metrics_t *m)
{
	bool ok = true;

	ok &= !!GAUGE(spool_depth, "rm_spool_depth", "Unreleased spool entries");
	ok &= !!GAUGE(spool_usage_percent, "rm_spool_usage_percent",
		      "Spool disk usage, percent of billing.spool_max_bytes");
	ok &= !!GAUGE(spool_high_water, "rm_spool_high_water",
		      "1 while the spool is at or above its high-water mark");
	ok &= !!GAUGE(spool_bytes, "rm_spool_bytes", "Spool segment bytes on disk");
	ok &= !!CTR(billing_records, "rm_billing_records_total",
		    "Billing records built (one per finished call)");
	ok &= !!CTR(billing_lost, "rm_billing_lost_total",
		    "Billing records that could not be kept (spool full or I/O error)");
	ok &= !!CTR(billing_published, "rm_billing_published_total",
		    "Billing records receipted by the STOMP peer");
	ok &= !!CTR(billing_rejected, "rm_billing_rejected_total",
		    "Spool entries refused for good by the STOMP peer (ERROR retryable:false)");
	ok &= !!CTR(billing_dead_letter, "rm_billing_dead_letter_total",
		    "Spool entries moved to the dead-letter file (refused for good)");
	ok &= !!CTR(billing_events, "rm_billing_events_total", "Call events spooled");
	ok &= !!CTR(billing_events_lost, "rm_billing_events_lost_total",
		    "Call events that could not be kept");
	ok &= !!GAUGE(billing_connected, "rm_billing_publisher_connected",
		      "1 while the STOMP publisher has a session");
	ok &= !!HIST(billing_delivery, "rm_billing_delivery_seconds",
		     "From a call's end to the RECEIPT of its record", delivery_bounds);
	return ok;
}

static bool cluster_series(rm_metrics_t *m)
{
	bool ok = true;

	_Static_assert(RM_METRICS_CLUSTER_DROPS == CLUSTER_DROP_COUNT, "cluster drop reasons");
	ok &= !!GAUGE(cluster_peers_up, "rm_cluster_peers_up", "Cluster peer nodes up");
	ok &= !!CTR(cluster_frames_sent, "rm_cluster_frames_sent_total",
		    "Cluster frames sent to peers");
	ok &= !!CTR(cluster_bytes_sent, "rm_cluster_bytes_sent_total",
		    "Bytes of the cluster frames sent to peers");
	ok &= !!CTR(cluster_frames_received, "rm_cluster_frames_received_total",
		    "Cluster frames received and accepted (authenticated, in sequence)");
	for (int d = 1; d < CLUSTER_DROP_COUNT; d++)
		ok &= !!(m->cluster_dropped[d] =
				 labelled(m->reg, false, "rm_cluster_frames_dropped_total",
					  "Cluster frames dropped, by reason", "reason",
					  cluster_drop_name((enum cluster_drop)d)));
	ok &= !!CTR(cluster_deaths, "rm_cluster_peer_deaths_total",
		    "Peers declared down after cluster.dead_after_ms of silence");
	ok &= !!CTR(cluster_resyncs, "rm_cluster_resyncs_total",
		    "Full states asked of peers (a sequence gap, or their state was dropped)");
	ok &= !!GAUGE(cluster_sessions_remote, "rm_cluster_sessions_remote",
		      "Answered calls the peers carry, as replicated to this node");
	ok &= !!CTR(cluster_adopted, "rm_cluster_sessions_adopted_total",
		    "Calls of dead peers this node adopted and ended (ended_by rm-peer-lost)");
	ok &= !!CTR(cluster_sessions_lost, "rm_cluster_sessions_lost_total",
		    "Session changes not replicated to peers (SIP to service queue full)");
	return ok;
}

static bool log_series(rm_metrics_t *m)
{
	static const char *const level[RM_METRICS_LOG_LEVELS] = { "error", "warn", "info",
								  "debug" };
	bool ok = true;

	for (int i = 0; i < RM_METRICS_LOG_LEVELS; i++)
		ok &= !!(m->log_messages[i] = labelled(m->reg, false, "rm_log_messages_total",
						       "Log messages by level (rate-limited ones "
						       "included)", "level", level[i]));
	ok &= !!CTR(log_suppressed, "rm_log_suppressed_total",
		    "Log lines not written by the per-message rate limit (logging.rate_per_s)");
	return ok;
}

int rm_metrics_init(rm_metrics_t *m, metrics_t *reg)
{
	bool ok;

	memset(m, 0, sizeof *m);
	m->reg = reg;
	if (!reg)
		return -1;
	ok = sip_series(m);
	ok &= overload_series(m);
	ok &= billing_series(m);
	ok &= log_series(m);
	ok &= cluster_series(m);
	return ok ? 0 : -1;
}

metric_t *rm_metrics_bad_request(rm_metrics_t *m, const char *reason)
{
	return labelled(m->reg, false, BAD_REQ, BAD_REQ_HELP, "reason", reason);
}

static const char MCP_UP[] = "rm_mcp_up";
static const char MCP_ACTIVE[] = "rm_mcp_active";
static const char MCP_MAX[] = "rm_mcp_max_ports";
static const char MCP_RTT[] = "rm_mcp_options_rtt_seconds";
static const char MCP_ATT[] = "rm_mcp_attempts_total";

int rm_metrics_mcp(rm_metrics_t *m, const char *uri, bool up, struct rm_metrics_mcp *out)
{
	out->up = up ? labelled(m->reg, true, MCP_UP, "1 if the MCP answers OPTIONS", "mcp", uri)
		     : found(m->reg, MCP_UP, "mcp", uri);
	out->active = labelled(m->reg, true, MCP_ACTIVE, "Calls currently placed on the MCP",
			       "mcp", uri);
	out->max_ports = labelled(m->reg, true, MCP_MAX, "Configured MCP capacity", "mcp", uri);
	out->rtt = labelled(m->reg, true, MCP_RTT,
			    "Round trip of the last answered OPTIONS (0 = none yet)", "mcp", uri);
	out->attempts = labelled(m->reg, false, MCP_ATT,
				 "INVITE attempts sent to the MCP since start", "mcp", uri);
	return (up && !out->up) || !out->active || !out->max_ports || !out->rtt || !out->attempts
		       ? -1 : 0;
}

void rm_metrics_mcp_find(rm_metrics_t *m, const char *uri, struct rm_metrics_mcp *out)
{
	out->up = found(m->reg, MCP_UP, "mcp", uri);
	out->active = found(m->reg, MCP_ACTIVE, "mcp", uri);
	out->max_ports = found(m->reg, MCP_MAX, "mcp", uri);
	out->rtt = found(m->reg, MCP_RTT, "mcp", uri);
	out->attempts = found(m->reg, MCP_ATT, "mcp", uri);
}

static metric_t *usage(rm_metrics_t *m, const char *name, const char *help, const char *key,
		       const char *value, bool create)
{
	return create ? labelled(m->reg, true, name, help, key, value)
		      : found(m->reg, name, key, value);
}

metric_t *rm_metrics_profile_active(rm_metrics_t *m, const char *profile, bool create)
{
	return usage(m, "rm_profile_calls_active", "Admitted calls of the profile", "profile",
		     profile, create);
}

metric_t *rm_metrics_tenant_active(rm_metrics_t *m, const char *tenant, bool create)
{
	return usage(m, "rm_tenant_calls_active", "Admitted calls of the tenant", "tenant",
		     tenant, create);
}

metric_t *rm_metrics_lrg_active(rm_metrics_t *m, const char *lrg, bool create)
{
	return usage(m, "rm_lrg_calls_active",
		     "Admitted calls of the profiles routed to the group", "lrg", lrg, create);
}
