/*
 * rm: the Resource Manager. Command line, the two threads (ARCHITECTURE.md
 * "Threads and loops") and the signal plan:
 *   main thread   = service thread: libevent loop with HTTP, signals (evsignal), the
 *                   bridge's service end, billing (spool + STOMP publisher, billing.h);
 *   SIP thread    = su_root with the proxy (nta), session table, route state, monitor.
 * SIGHUP  re-reads the config file here and hands the new struct to the SIP thread.
 * SIGTERM drains (new INVITEs 503, live calls finish); a second SIGTERM, or SIGINT,
 *         stops at once.
 * Signals act even when the SIP thread is stuck: the SIP thread stamps a heartbeat
 * (watchdog.h); the service thread, once a signal asked it to stop, exits by itself
 * (with a log line) when the heartbeat is older than http.watchdog_s or the stop
 * takes longer than its bound (svc_tick).
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#define SU_ROOT_MAGIC_T void
#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include "billing.h"
#include "bridge.h"
#include "cluster.h"
#include "cluster_board.h"
#include "fdlimit.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "proxy.h"
#include "rm_config.h"
#include "rm_metrics.h"
#include "rm_preflight.h"
#include "rm_snmp.h"
#include "route.h"
#include "sofia_log.h"
#include "watchdog.h"

#ifndef PROJECT_VERSION
#define PROJECT_VERSION "0.0.0"
#endif

struct rm_main {
	const char *config_path;
	struct bridge *bridge;
	metrics_t *metrics;
	struct event_base *base;
	struct rm_http *http;
	struct rm_snmp *snmp; /* AgentX subagent (idle unless snmp.enabled) */
	/* cluster (cluster.h): NULL when off; the board is shared with the SIP thread's
	 * admission through route.h's usage hook, and freed after the SIP thread ends */
	struct cluster *cluster;
	struct cluster_board *board;
	int exit_code;
	bool draining;
	int exit_waits; /* billing and cluster flushes still running on the way out */
	/* billing: the spool and publisher live on this (service) thread; the SIP
	 * thread only posts items through the bridge (billing.h explains why) */
	struct billing *billing;
	bool billing_on;
	bool billing_events; /* billing.events: all */
	metric_t *m_lost_cdr, *m_lost_ev; /* items the bridge refused (queue full) */
	/* SIP thread only */
	su_root_t *root;
	struct proxy *proxy;
	struct rm_config *cfg; /* handed to the SIP thread at start */
	su_timer_t *beat;      /* stamps wd */
	/* liveness (watchdog.h) and the stop bound; service thread */
	struct watchdog wd;
	int drain_timeout_s;
	int64_t stop_deadline_ms; /* 0: no stop asked */
	struct event *svc_tick;
	metric_t *m_log[4], *m_log_supp;
	unsigned long long log_seen[4], supp_seen;
	/* start-up state teardown() undoes: what is non-NULL/true was set up */
	bool log_on;
	struct event *sev[3]; /* SIGHUP, SIGTERM, SIGINT */
	pthread_t sip_tid;
	char http_at[RM_HOST_MAX + 16]; /* for the start line: cfg goes to the SIP thread */
};

/* Past the drain (or stop) a signal asked for, how long the service thread waits
 * for the SIP thread to end before it exits without it. */
#define STOP_GRACE_MS 10000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rm -c FILE          run the Resource Manager with config FILE\n"
		"       rm --check-config FILE   validate FILE (\"-\" = stdin) and exit\n"
		"       rm --help | --version\n"
		"\n"
		"Signals: SIGHUP reloads groups, profiles and limits; SIGTERM drains (new\n"
		"calls get 503, live calls finish, exit when none is left or at\n"
		"session.drain_timeout_s); a second SIGTERM or SIGINT exits at once.\n"
		"Endpoints: SIP on sip.listen:sip.port (UDP+TCP), HTTP /healthz /readyz\n"
		"/metrics on http.listen:http.port.\n");
}

static struct rm_config *load_config(const char *path, char *err, size_t errlen)
{
	struct rm_config *cfg = calloc(1, sizeof *cfg);
	if (!cfg) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (strcmp(path, "-") == 0) {
		size_t cap = 1 << 16, len = 0;
		char *buf = malloc(cap + 1);
		size_t r;
		while (buf && (r = fread(buf + len, 1, cap - len, stdin)) > 0) {
			len += r;
			if (len == cap) {
				char *nb = realloc(buf, cap * 2 + 1);
				if (!nb) {
					free(buf);
					buf = NULL;
					break;
				}
				buf = nb;
				cap *= 2;
			}
		}
		if (!buf) {
			snprintf(err, errlen, "out of memory reading stdin");
			free(cfg);
			return NULL;
		}
		buf[len] = '\0';
		int rc = rm_config_parse(buf, "<stdin>", cfg, err, errlen);
		free(buf);
		if (rc < 0) {
			free(cfg);
			return NULL;
		}
		return cfg;
	}
	if (rm_config_load(path, cfg, err, errlen) < 0) {
		free(cfg);
		return NULL;
	}
	return cfg;
}

static void free_config(struct rm_config *cfg)
{
	if (cfg) {
		rm_config_free(cfg);
		free(cfg);
	}
}

/* The config as start uses it: loaded, validated, then checked on this host
 * (rm_preflight.h). --check-config runs exactly this, so "OK" means rm starts. */
static struct rm_config *load_checked_config(const char *path, char *err, size_t errlen)
{
	struct rm_config *cfg = load_config(path, err, errlen);

	if (cfg && rm_preflight(cfg, err, errlen) < 0) {
		free_config(cfg);
		return NULL;
	}
	return cfg;
}

/* ---- SIP thread ------------------------------------------------------------------- */

/* SIP thread: a CDR or call event goes to the service thread, one wake-up per batch
 * (bridge.h): a CDR before the SIP loop reads anything else, an event within
 * BRIDGE_BATCH_MS. If the bridge is full the item is lost (counted): calls keep
 * flowing whatever billing does. */
static void billing_post(void *arg, struct billing_item *it)
{
	struct rm_main *rm = arg;

	if (bridge_to_service_batched(rm->bridge, BRIDGE_BILLING, 0, it,
				      it->kind == BILLING_CDR ? BRIDGE_WAKE_LOOP
							      : BRIDGE_WAKE_LATER) < 0) {
		metric_inc(it->kind == BILLING_CDR ? rm->m_lost_cdr : rm->m_lost_ev);
		if (it->kind == BILLING_CDR)
			log_warn("billing: bridge full, record lost: %.200s", it->body);
		free(it);
	}
}

/* SIP thread: an answered call started or ended (cluster_sess.h line) goes to the
 * cluster on the service thread; a full bridge drops it (counted, never waited). */
static void cluster_post(void *arg, char *line)
{
	struct rm_main *rm = arg;

	/* The cluster sends lines only at its tick (publish_ms): waking the service
	 * loop per line bought nothing and cost a thread switch per line (+16% CPU per
	 * call at 1,000 calls/s, bench_cluster.sh); they ride the next wake-up, within
	 * BRIDGE_BATCH_MS (test_rm_cluster_wakeups.sh). */
	int rc = bridge_to_service_batched(rm->bridge, BRIDGE_CLUSTER_SESS, 0, line,
					   BRIDGE_WAKE_LATER);
	if (rc < 0) {
		cluster_sess_lost(rm->cluster);
		free(line);
	}
}

/* SIP thread, route.h's limit hook: a hard limit was reached at admission; the SNMP
 * subagent tells it (rmL3LimitReached) within BRIDGE_BATCH_MS. A full bridge drops
 * it (logged): calls never wait on a notification. */
static void limit_post(void *arg, const char *tenant, const char *profile, int l3)
{
	struct rm_main *rm = arg;
	struct rm_snmp_limit_event *ev = malloc(sizeof *ev);

	if (!ev)
		return;
	snprintf(ev->tenant, sizeof ev->tenant, "%s", tenant);
	snprintf(ev->profile, sizeof ev->profile, "%s", profile);
	ev->l3 = l3;
	if (bridge_to_service_batched(rm->bridge, BRIDGE_LIMIT, 0, ev, BRIDGE_WAKE_LATER) < 0) {
		log_warn("snmp: bridge full, rmL3LimitReached for tenant %s not sent", tenant);
		free(ev);
	}
}

static void on_drained(void *arg)
{
	struct rm_main *rm = arg;
	log_info("drain complete");
	su_root_break(rm->root);
}

static void sip_bridge_cb(const struct bridge_msg *m, void *arg)
{
	struct rm_main *rm = arg;

	switch (m->type) {
	case BRIDGE_RELOAD:
		proxy_reload(rm->proxy, m->ptr);
		break;
	case BRIDGE_DRAIN:
		proxy_drain(rm->proxy, on_drained, rm);
		break;
	case BRIDGE_STOP:
		su_root_break(rm->root);
		break;
	case BRIDGE_CLUSTER_ADOPT: {
		struct cluster_adopt *a = m->ptr;
		proxy_adopt(rm->proxy, a->owner, a->line);
		free(a);
		break;
	}
	default:
		break;
	}
}

static void sip_beat(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	watchdog_beat(&((struct rm_main *)arg)->wd);
}

static void *sip_thread(void *arg)
{
	struct rm_main *rm = arg;
	char err[512];

	pthread_setname_np(pthread_self(), "rm-sip"); /* top -H, tests */
	if (su_init() != 0) {
		bridge_to_service(rm->bridge, BRIDGE_FAILED, 0, strdup("su_init failed"));
		return NULL;
	}
	rm->root = su_root_create(NULL);
	if (!rm->root) {
		bridge_to_service(rm->bridge, BRIDGE_FAILED, 0, strdup("cannot create su_root"));
		su_deinit();
		return NULL;
	}
	rm->proxy = proxy_create(rm->root, rm->cfg, rm->metrics, err, sizeof err);
	if (!rm->proxy) {
		free_config(rm->cfg);
		rm->cfg = NULL;
		bridge_to_service(rm->bridge, BRIDGE_FAILED, 0, strdup(err));
		su_root_destroy(rm->root);
		su_deinit();
		return NULL;
	}
	rm->cfg = NULL; /* the proxy owns it now */
	sofia_log_redirect();
	rm->beat = su_timer_create(su_root_task(rm->root), WATCHDOG_BEAT_MS);
	if (!rm->beat || su_timer_set_for_ever(rm->beat, sip_beat, rm) < 0)
		log_error("cannot start the SIP thread heartbeat: /healthz will fail");
	if (rm->billing_on)
		proxy_set_billing(rm->proxy, billing_post, rm, rm->billing_events);
	if (rm->cluster)
		proxy_set_cluster(rm->proxy, cluster_post, rm);
	if (bridge_attach_sip(rm->bridge, rm->root, sip_bridge_cb, rm) < 0) {
		proxy_destroy(rm->proxy);
		bridge_to_service(rm->bridge, BRIDGE_FAILED, 0, strdup("cannot attach the bridge"));
		su_root_destroy(rm->root);
		su_deinit();
		return NULL;
	}
	bridge_to_service(rm->bridge, BRIDGE_STARTED, 0, NULL);
	su_root_run(rm->root);

	su_timer_destroy(rm->beat);
	rm->beat = NULL;
	proxy_destroy(rm->proxy);
	rm->proxy = NULL;
	bridge_detach_sip(rm->bridge);
	su_root_destroy(rm->root);
	rm->root = NULL;
	su_deinit();
	bridge_to_service(rm->bridge, BRIDGE_EXITED, 0, NULL);
	return NULL;
}

/* ---- service thread ------------------------------------------------------------------ */

/* How long a drained rm waits for receipts before exiting; what is not receipted
 * stays in the spool and is replayed by the next start. */
#define BILLING_GRACE_MS 2000

/* Billing's (and the cluster's) flush on the way out is over: the loop ends with
 * the last one. */
static void billing_done(void *arg)
{
	struct rm_main *rm = arg;
	if (--rm->exit_waits <= 0)
		event_base_loopbreak(rm->base);
}

static void svc_bridge_cb(const struct bridge_msg *m, void *arg)
{
	struct rm_main *rm = arg;

	switch (m->type) {
	case BRIDGE_STARTED:
		rm_http_set_listening(rm->http, true);
		break;
	case BRIDGE_FAILED:
		log_error("%s", m->ptr ? (char *)m->ptr : "SIP thread failed");
		free(m->ptr);
		rm->exit_code = 1;
		event_base_loopbreak(rm->base);
		break;
	case BRIDGE_EXITED:
		/* every record of the calls the SIP thread ended is spooled by now (FIFO);
		 * give the publisher a short bounded chance to deliver them */
		rm_http_set_listening(rm->http, false);
		/* the calls it ended (peers must not adopt them) and, strict, its share
		 * handed over: written out before the loop ends (bounded) */
		rm->exit_waits = rm->cluster ? 2 : 1;
		if (rm->cluster)
			cluster_shutdown(rm->cluster, billing_done, rm);
		billing_shutdown(rm->billing, rm->draining ? BILLING_GRACE_MS : 0,
				 billing_done, rm);
		break;
	case BRIDGE_BILLING:
		billing_take(rm->billing, m->ptr);
		break;
	case BRIDGE_LIMIT:
		rm_snmp_limit_notify(rm->snmp, m->ptr);
		free(m->ptr);
		break;
	case BRIDGE_CLUSTER_SESS:
		if (rm->cluster)
			cluster_local_sess(rm->cluster, m->ptr);
		else
			free(m->ptr);
		break;
	default:
		break;
	}
}

/* A stop was asked for (signal): give it until deadline_ms, sooner if earlier. */
static void stop_bound(struct rm_main *rm, int64_t deadline_ms)
{
	if (!rm->stop_deadline_ms || deadline_ms < rm->stop_deadline_ms)
		rm->stop_deadline_ms = deadline_ms;
}

/* The service thread's second: log metrics, suppressed-line reports, and the check
 * that a stop asked for by a signal happens even if the SIP thread is stuck. */
static void svc_tick(evutil_socket_t fd, short what, void *arg)
{
	struct rm_main *rm = arg;
	int64_t now = watchdog_now_ms();
	char why[160];

	log_flush_suppressed();
	for (int i = 0; i < 4; i++) {
		unsigned long long n = log_count((enum log_level)i);
		metric_add(rm->m_log[i], n - rm->log_seen[i]);
		rm->log_seen[i] = n;
	}
	unsigned long long k = log_suppressed();
	metric_add(rm->m_log_supp, k - rm->supp_seen);
	rm->supp_seen = k;
	if (!rm->stop_deadline_ms)
		return;
	int limit = rm->wd.limit_s > 0 ? rm->wd.limit_s : 5;
	if (watchdog_stalled(watchdog_age_ms(&rm->wd, now), limit, why, sizeof why)) {
		log_error("stop requested but the %s: exiting without it", why);
		_exit(1);
	}
	if (now > rm->stop_deadline_ms) {
		log_error("stop requested but the SIP thread has not ended within its bound: "
			  "exiting without it");
		_exit(1);
	}
}

/* Service thread, at start: /healthz asks the watchdog, the log metrics exist and
 * svc_tick runs every second. 0, or -1 when out of memory. */
static int svc_start(struct rm_main *rm)
{
	struct timeval one_s = { 1, 0 };
	rm_metrics_t mm;

	rm_http_set_watchdog(rm->http, &rm->wd);
	if (rm_metrics_init(&mm, rm->metrics) < 0)
		return -1;
	for (int i = 0; i < 4; i++)
		rm->m_log[i] = mm.log_messages[i];
	rm->m_log_supp = mm.log_suppressed;
	rm->svc_tick = event_new(rm->base, -1, EV_PERSIST, svc_tick, rm);
	if (!rm->svc_tick || event_add(rm->svc_tick, &one_s) < 0)
		return -1;
	return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct rm_main *rm = arg;
	char err[512];

	if (sig == SIGHUP) {
		log_reopen();
		struct rm_config *cfg = load_config(rm->config_path, err, sizeof err);
		if (!cfg) {
			log_error("SIGHUP: reload refused, keeping the running config: %s", err);
			return;
		}
		if (rm_snmp_configure(rm->snmp, cfg, err, sizeof err) < 0)
			log_error("SIGHUP: %s", err);
		enum log_level lvl;
		if (log_level_parse(cfg->log_level, &lvl) == 0)
			log_set_level(lvl);
		log_set_rate(cfg->log_rate_per_s);
		rm->wd.limit_s = cfg->watchdog_s;
		rm->drain_timeout_s = cfg->drain_timeout_s;
		if (bridge_to_sip(rm->bridge, BRIDGE_RELOAD, 0, cfg) < 0) {
			log_error("SIGHUP: bridge full, reload dropped");
			free_config(cfg);
		}
		log_info("SIGHUP: reloading %s", rm->config_path);
	} else if (sig == SIGTERM && !rm->draining) {
		rm->draining = true;
		log_info("SIGTERM: draining");
		bridge_to_sip(rm->bridge, BRIDGE_DRAIN, 0, NULL);
		stop_bound(rm, watchdog_now_ms() + (int64_t)rm->drain_timeout_s * 1000 +
				       STOP_GRACE_MS);
		svc_tick(-1, 0, rm); /* a stuck SIP thread: exit now */
	} else {
		log_info("signal %d: stopping now", (int)sig);
		bridge_to_sip(rm->bridge, BRIDGE_STOP, 0, NULL);
		stop_bound(rm, watchdog_now_ms() + STOP_GRACE_MS);
		svc_tick(-1, 0, rm);
	}
}

/* Command line into rm and *check. Returns -1 to go on, or the exit code when the
 * command line is done (--help, --version) or wrong. */
static int parse_args(int argc, char **argv, struct rm_main *rm, const char **check)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "check-config", required_argument, NULL, 'k' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "hVc:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("rm %s\n", PROJECT_VERSION);
			return 0;
		case 'k':
			*check = optarg;
			break;
		case 'c':
			rm->config_path = optarg;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rm: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!*check && !rm->config_path) {
		fprintf(stderr, "rm: no configuration file (use -c FILE)\n");
		usage(stderr);
		return 2;
	}
	return -1;
}

/* rm --check-config FILE: the exit code. */
static int check_config(const char *path)
{
	char err[512];
	struct rm_config *cfg = load_checked_config(path, err, sizeof err);

	if (!cfg) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%s: OK (%zu groups, %zu profiles)\n", path, cfg->n_lrgs, cfg->n_profiles);
	free_config(cfg);
	return 0;
}

/* Load rm->config_path into rm->cfg and start logging as it says. 0, or -1 with the
 * reason on stderr. */
static int setup_config(struct rm_main *rm)
{
	char err[512];
	enum log_level lvl = LOGL_INFO;

	rm->cfg = load_checked_config(rm->config_path, err, sizeof err);
	if (!rm->cfg) {
		fprintf(stderr, "rm: %s\n", err);
		return -1;
	}
	if (log_level_parse(rm->cfg->log_level, &lvl) < 0)
		lvl = LOGL_INFO;
	if (log_init("rm", rm->cfg->log_file, lvl, rm->cfg->log_json, err, sizeof err) < 0) {
		fprintf(stderr, "rm: %s\n", err);
		return -1;
	}
	rm->log_on = true;
	log_set_rate(rm->cfg->log_rate_per_s);
	watchdog_init(&rm->wd, rm->cfg->watchdog_s);
	rm->drain_timeout_s = rm->cfg->drain_timeout_s;
	if (rm_config_is_wildcard(rm->cfg->sip_advertise))
		log_warn("sip.listen is %s and neither sip.advertise nor POD_IP is set: "
			 "Record-Route will carry an address nobody can reach",
			 rm->cfg->sip_listen);
	if (rm->cfg->cluster_present && !rm->cfg->cluster_enabled)
		log_warn("cluster: no key (cluster.key or RM_CLUSTER_KEY): this node runs "
			 "standalone");
	return 0;
}

/* Service thread: a dead peer's call for the SIP thread to end (proxy_adopt). */
static int adopt_post(void *arg, struct cluster_adopt *a)
{
	struct rm_main *rm = arg;

	if (bridge_to_sip(rm->bridge, BRIDGE_CLUSTER_ADOPT, 0, a) < 0) {
		free(a);
		return -1;
	}
	return 0;
}

/* The cluster on the service thread, and the usage hook admission calls on the SIP
 * thread (set before that thread starts). 0, or -1 with err. */
static int setup_cluster(struct rm_main *rm, char *err, size_t errlen)
{
	struct route_usage_hook hook;

	if (!rm->cfg->cluster_enabled)
		return 0;
	rm->board = cluster_board_new();
	if (!rm->board) {
		snprintf(err, errlen, "out of memory at start-up");
		return -1;
	}
	rm->board->strict_nodes = rm->cfg->cluster_strict ? rm->cfg->cluster_nodes : 0;
	rm->cluster = cluster_new(rm->base, rm->cfg, rm->board, rm->metrics, err, errlen);
	if (!rm->cluster)
		return -1;
	if (rm_http_route(rm->http, "/cluster", cluster_http, rm->cluster) < 0) {
		snprintf(err, errlen, "cannot add the /cluster page");
		return -1;
	}
	rm_http_set_ready_check(rm->http, cluster_ready, rm->cluster);
	cluster_set_adopt(rm->cluster, adopt_post, rm);
	rm_snmp_set_peers(rm->snmp, cluster_snmp_peers, rm->cluster);
	cluster_board_hook(rm->board, &hook);
	route_set_usage_hook(&hook);
	return 0;
}

/* The service thread's parts: metrics, event base, bridge, HTTP, SNMP, billing.
 * 0, or -1 (logged); what was made is left in rm for teardown(). */
static int setup_services(struct rm_main *rm)
{
	char err[512];
	long nofile_was, nofile;
	const struct rm_config *cfg = rm->cfg;

	signal(SIGPIPE, SIG_IGN);
	rm->metrics = metrics_new();
	rm->base = event_base_new();
	/* room for bursts of billing items while the service thread fsyncs */
	rm->bridge = bridge_new(65536);
	if (!rm->metrics || !rm->base || !rm->bridge)
		goto oom;
	if (fdlimit_raise(&nofile_was, &nofile, err, sizeof err) == 0)
		log_info("open-file limit %ld (was %ld): up to %d HTTP connections", nofile,
			 nofile_was, fdlimit_http_default(nofile));
	rm->http = rm_http_start(rm->base, cfg->http_listen, cfg->http_port, rm->metrics, err,
				 sizeof err);
	if (!rm->http)
		goto fail;
	snprintf(rm->http_at, sizeof rm->http_at, "%s:%d", cfg->http_listen, cfg->http_port);
	bridge_attach_service(rm->bridge, rm->base, svc_bridge_cb, rm);
	if (svc_start(rm) < 0)
		goto oom;
	rm->snmp = rm_snmp_new(rm->base, rm->metrics);
	if (!rm->snmp)
		goto oom;
	if (rm_snmp_configure(rm->snmp, cfg, err, sizeof err) < 0)
		goto fail;
	rm->billing = billing_new(rm->base, cfg, rm->metrics, err, sizeof err);
	if (!rm->billing)
		goto fail;
	rm->billing_on = cfg->billing_mode != RM_BILLING_OFF;
	rm->billing_events = cfg->billing_events;
	if (setup_cluster(rm, err, sizeof err) < 0)
		goto fail;
	rm->m_lost_cdr = billing_lost_metric(rm->metrics, BILLING_CDR);
	rm->m_lost_ev = billing_lost_metric(rm->metrics, BILLING_EVENT);
	return 0;
oom:
	snprintf(err, sizeof err, "out of memory at start-up");
fail:
	log_error("%s", err);
	return -1;
}

/* Signals become events of the service loop, and the SIP thread starts with them
 * blocked (it inherits the mask), so that they reach only this thread. 0, or -1
 * (logged). */
static int start_sip(struct rm_main *rm)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT };
	sigset_t set, old;
	int rc = 0;

	sigemptyset(&set);
	for (int i = 0; i < 3; i++)
		sigaddset(&set, sigs[i]);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (int i = 0; i < 3; i++) {
		rm->sev[i] = evsignal_new(rm->base, sigs[i], on_signal, rm);
		if (!rm->sev[i] || evsignal_add(rm->sev[i], NULL) < 0) {
			log_error("out of memory at start-up");
			rc = -1;
			goto out;
		}
	}
	struct route_limit_hook lh = { limit_post, rm };
	route_set_limit_hook(&lh); /* before the SIP thread's first admission */
	if (pthread_create(&rm->sip_tid, NULL, sip_thread, rm) != 0) {
		log_error("cannot start the SIP thread: %s", strerror(errno));
		rc = -1;
		goto out;
	}
out:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* The service loop, until a signal or the SIP thread ends it; then the SIP thread is
 * stopped and joined. */
static void run(struct rm_main *rm)
{
	log_info("rm %s started (config %s, HTTP %s)", PROJECT_VERSION, rm->config_path,
		 rm->http_at);
	event_base_dispatch(rm->base);
	if (rm->exit_code == 0 && !rm->draining)
		bridge_to_sip(rm->bridge, BRIDGE_STOP, 0, NULL);
	pthread_join(rm->sip_tid, NULL);
}

/* Undo whatever start-up made, in reverse order; safe on a partial start. */
static void teardown(struct rm_main *rm)
{
	for (int i = 0; i < 3; i++)
		if (rm->sev[i])
			event_free(rm->sev[i]);
	if (rm->svc_tick)
		event_free(rm->svc_tick);
	if (rm->snmp)
		rm_snmp_set_peers(rm->snmp, NULL, NULL);
	cluster_free(rm->cluster);
	rm_http_stop(rm->http);
	rm_snmp_free(rm->snmp);
	billing_free(rm->billing);
	bridge_free(rm->bridge);
	if (rm->base)
		event_base_free(rm->base);
	metrics_free(rm->metrics);
	route_set_usage_hook(NULL); /* the SIP thread has ended (joined in run) */
	route_set_limit_hook(NULL);
	free(rm->board);
	free_config(rm->cfg); /* NULL once the SIP thread's proxy took it */
	rm->cfg = NULL;
	if (rm->log_on)
		log_close();
}

int main(int argc, char **argv)
{
	struct rm_main rm = { 0 };
	const char *check = NULL;
	/* One malloc arena (issue 12): glibc grows a thread's own arena one page at a
	 * time, an mprotect(2) each (~8 per call on the SIP thread, which allocates
	 * nearly everything), where the main arena grows by brk with 128 KB of padding.
	 * The service thread allocates little, so sharing the arena costs no contention
	 * worth measuring. */
	mallopt(M_ARENA_MAX, 1);
	int rc = parse_args(argc, argv, &rm, &check);

	if (rc >= 0)
		return rc;
	if (check)
		return check_config(check);
	rm.exit_code = 1;
	if (setup_config(&rm) < 0 || setup_services(&rm) < 0 || start_sip(&rm) < 0)
		goto out;
	rm.exit_code = 0;
	run(&rm);
	log_info("rm exiting (%d)", rm.exit_code);
out:
	teardown(&rm);
	return rm.exit_code;
}
