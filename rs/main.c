/*
 * rs, the Reporting Server: a STOMP 1.2 billing sink that stores call records in
 * SQLite or PostgreSQL and never loses one it has receipted.
 *
 * Threads: this (the libevent loop: STOMP, HTTP, signals) and the writer (writer.c).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "config.h"
#include "consumer.h"
#include "fdlimit.h"
#include "http.h"
#include "journal.h"
#include "log.h"
#include "report.h"
#include "rs_metrics.h"
#include "rs_preflight.h"
#include "rs_snmp.h"
#include "api_auth.h"
#include "rt.h"
#include "rt_http.h"
#include "rt_web.h"
#include "server.h"
#include "store.h"
#include "store_schema.h"
#include "writer.h"

#ifndef PROJECT_VERSION
#define PROJECT_VERSION "0"
#endif

static const char usage[] =
	"usage: rs [-c FILE] [--init]\n"
	"       rs --check-config FILE\n"
	"       rs --help | --version\n"
	"\n"
	"The Reporting Server: accepts call records over STOMP 1.2 (SEND to\n"
	"/queue/gvp.cdr, /queue/gvp.events, /queue/gvp.metrics) and stores them in\n"
	"SQLite or PostgreSQL, receipting each once it is durable.\n"
	"\n"
	"  -c, --config FILE     configuration (JSON; see etc/rs.json). Without it the\n"
	"                        defaults apply: SQLite file rs.db, STOMP 127.0.0.1:61616,\n"
	"                        HTTP 127.0.0.1:8080 (/healthz, /readyz, /metrics, the\n"
	"                        /ems-rs API and the dashboard at /).\n"
	"      --init            create or migrate the database schema, then exit\n"
	"      --check-config FILE  validate FILE (with env RS_PG_URL applied) and exit\n"
	"                        (0 valid, 2 invalid)\n"
	"  -h, --help            this text\n"
	"  -V, --version         print the version\n"
	"\n"
	"Modes (config key broker.mode):\n"
	"  listen   (default) producers (rm, media servers) connect to rs's STOMP\n"
	"           listener and get a RECEIPT once their record is durable.\n"
	"  consume  rs also connects to an external STOMP broker (ActiveMQ), one of\n"
	"           broker.endpoints [\"host:port\", ...], SUBSCRIBEs to\n"
	"           broker.destinations with ack:client-individual (prefetch\n"
	"           broker.prefetch) and ACKs each message only once the batch holding\n"
	"           it is committed (or journaled while the database is down).\n"
	"           Reconnects with backoff. Several rs may consume one queue into one\n"
	"           PostgreSQL: records are stored once (idempotent on id). See\n"
	"           etc/rs-consumer.json.\n"
	"SNMP (config key snmp): with snmp.enabled, rs is an AgentX subagent of the\n"
	"  master at snmp.master (default tcp:127.0.0.1:1705) serving BASE.2 of\n"
	"  etc/mibs/GVP-RS-MIB.txt, BASE = snmp.base_oid (default 1.3.6.1.4.1.99999.1),\n"
	"  and sends rsDbDown/rsDbUp/rsJournalHighWater notifications.\n"
	"\n"
	"Environment:\n"
	"  RS_PG_URL   when set and non-empty, replaces storage.postgresql.conninfo\n"
	"              (a libpq URL or key=value string; the helm chart sets it from a\n"
	"              Secret).\n"
	"  RS_API_TOKENS  when set and non-empty, replaces api.tokens: \"tenant:token,...\"\n"
	"              (tenant * = admin).\n"
	"\n"
	"Signals: SIGTERM/SIGINT finish the batch in flight, send its receipts (and, in\n"
	"consume mode, its ACKs) and exit 0; SIGHUP reopens the log file.\n";

typedef struct rs_app {
	rs_config_t cfg;
	struct event_base *base;
	rs_metrics_t metrics;
	rs_store_t *store;
	journal_t *journal;
	rs_writer_t *writer;
	rs_server_t *server;
	rs_http_t *http;
	rs_consumer_t *consumer; /* broker.mode consume only */
	rs_snmp_t *snmp;         /* snmp.enabled only */
	rt_t *rt;                /* real-time usage */
	api_auth_t *auth;        /* who may read /ems-rs */
	rt_http_t *rt_http;      /* /ems-rs/RT/... (HTTP on only) */
	report_t *report;        /* report.enabled with HTTP on */
	struct event *done_ev, *sig_term, *sig_int, *sig_hup, *stop_tick, *deadline;
	int stopping;
} rs_app_t;

/* Writer thread: finished items are waiting. */
static void notify_done(void *arg)
{
	rs_app_t *a = arg;
	event_active(a->done_ev, EV_READ, 0);
}

static void maybe_exit(rs_app_t *a)
{
	if (!a->stopping || !writer_finished(a->writer))
		return;
	server_close_all(a->server);
	if (a->consumer)
		consumer_close(a->consumer);
	if (server_connections(a->server) == 0 && consumer_closed(a->consumer))
		event_base_loopexit(a->base, NULL);
}

/* The writer's finished items go back to whoever submitted them (a listener
 * connection or the broker session): RECEIPT or ACK. */
static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	rs_app_t *a = arg;
	rs_item_t *l = writer_take_done(a->writer), *next;
	for (; l; l = next) {
		next = l->next;
		if (l->durable)
			rt_feed(a->rt, &l->row);
		l->on_done(l);
	}
	server_on_done(a->server);
	if (a->consumer)
		consumer_on_done(a->consumer);
	maybe_exit(a);
}

static void stop_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	maybe_exit(arg);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	rs_app_t *a = arg;
	log_warn("shutdown: peers did not take their last frames in time; exiting");
	event_base_loopexit(a->base, NULL);
}

static void term_cb(evutil_socket_t sig, short what, void *arg)
{
	rs_app_t *a = arg;
	struct timeval tick = { 0, 50000 }, limit = { 15, 0 };
	if (a->stopping)
		return;
	a->stopping = 1;
	log_info("signal %d: finishing the batch in flight, then exiting", (int)sig);
	server_quiesce(a->server);
	if (a->consumer)
		consumer_quiesce(a->consumer);
	writer_stop(a->writer);
	a->stop_tick = event_new(a->base, -1, EV_PERSIST, stop_tick_cb, a);
	a->deadline = evtimer_new(a->base, deadline_cb, a);
	if (a->stop_tick)
		event_add(a->stop_tick, &tick);
	if (a->deadline)
		event_add(a->deadline, &limit);
}

static void hup_cb(evutil_socket_t sig, short what, void *arg)
{
	if (log_reopen())
		log_error("SIGHUP: cannot reopen the log file");
	else
		log_info("SIGHUP: log reopened");
}

static int start_logging(const rs_config_t *cfg)
{
	enum log_level lvl = LOGL_INFO;
	char err[512];
	log_level_parse(cfg->log_level, &lvl);
	if (log_init("rs", cfg->log_file, lvl, cfg->log_json, err, sizeof(err))) {
		fprintf(stderr, "rs: %s\n", err);
		return -1;
	}
	return 0;
}

/* Raise the open-file limit to the hard one and size the connection caps from it
 * (fdlimit.h); the effective caps replace 0 ("automatic") in cfg. 0 or -1 (logged). */
static int plan_fds(rs_config_t *cfg)
{
	long before, after;
	fdlimit_plan_t plan;
	char err[512];

	if (fdlimit_raise(&before, &after, err, sizeof(err)) ||
	    fdlimit_plan(after, cfg->stomp_max_connections, cfg->http_max_connections,
			 cfg->http_port != 0, &plan, err, sizeof(err))) {
		log_error("%s", err);
		return -1;
	}
	cfg->stomp_max_connections = plan.stomp;
	cfg->http_max_connections = plan.http;
	log_info("open-file limit %ld (was %ld): up to %d STOMP connections (%d per source),"
		 " %d HTTP, %d descriptors kept for rs's own files",
		 after, before, plan.stomp, cfg->stomp_max_connections_per_source, plan.http,
		 plan.reserve);
	return 0;
}

static int run_init(rs_config_t *cfg)
{
	char err[1024];
	rs_store_t *st = store_open(cfg, err, sizeof(err));
	if (!st || store_migrate(st, err, sizeof(err))) {
		log_error("--init: %s", err);
		store_close(st);
		return 1;
	}
	store_close(st);
	log_info("database schema is current (version %d)", STORE_SCHEMA_VERSION);
	return 0;
}

static void app_free(rs_app_t *a)
{
	rs_snmp_stop(a->snmp);
	report_stop(a->report); /* before the HTTP server: it holds requests of ours */
	http_free(a->http);
	rt_http_free(a->rt_http);
	api_auth_free(a->auth);
	rt_free(a->rt);
	server_free(a->server);
	consumer_free(a->consumer);
	writer_free(a->writer);
	journal_close(a->journal);
	store_close(a->store);
	struct event *evs[] = { a->done_ev, a->sig_term,  a->sig_int,
				a->sig_hup, a->stop_tick, a->deadline };
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i])
			event_free(evs[i]);
	if (a->base)
		event_base_free(a->base);
	if (a->metrics.reg)
		rs_metrics_free(&a->metrics);
}

/* Event base, metrics, the store (SQLite migrated; PostgreSQL left to the probe and
 * the writer), the journal and the writer (not started). 0, or -1 (logged); what was made
 * is in a for app_free. */
static int setup_storage(rs_app_t *a)
{
	char err[1024] = "";
	rs_config_t *cfg = &a->cfg;

	if (evthread_use_pthreads()) {
		log_error("libevent: no pthreads support");
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (rs_metrics_init(&a->metrics) || !(a->base = event_base_new())) {
		log_error("out of memory");
		return -1;
	}
	a->store = store_open(cfg, err, sizeof(err));
	if (!a->store)
		goto fail;
	/* PostgreSQL is not contacted here: down or hung, it must not hold up the
	 * listeners. The database probe migrates on contact (store_ping), the writer
	 * journals until then. */
	if (cfg->backend == RS_BACKEND_SQLITE && store_migrate(a->store, err, sizeof(err)))
		goto fail;
	a->rt = rt_new(a->base, cfg);
	if (!a->rt) {
		log_error("out of memory");
		return -1;
	}
	a->journal = journal_open(cfg->journal_dir, err, sizeof(err));
	if (!a->journal)
		goto fail;
	a->done_ev = event_new(a->base, -1, 0, done_cb, a);
	a->writer = writer_new(cfg, a->store, a->journal, &a->metrics, notify_done, a);
	if (!a->done_ev || !a->writer) {
		log_error("out of memory");
		return -1;
	}
	return 0;
fail:
	log_error("%s", err);
	return -1;
}

/* The STOMP listener, HTTP (unless http.port is 0) and the signal events. 0, or -1
 * (logged). */
static int setup_listeners(rs_app_t *a)
{
	char err[1024] = "";
	rs_config_t *cfg = &a->cfg;

	if (plan_fds(cfg))
		return -1;
	a->server = server_new(a->base, cfg, a->writer, &a->metrics, err, sizeof(err));
	if (!a->server)
		goto fail;
	if (cfg->http_port) {
		a->http = http_new(a->base, cfg, a->writer, &a->metrics, err, sizeof(err));
		if (!a->http)
			goto fail;
		/* Routes, first match wins: the real-time paths (/ems-rs/RT/...), the
		 * reports (/ems-rs/operations/, /ems-rs/HIST/), then the dashboard's "/",
		 * a prefix that takes every other path. */
		a->auth = api_auth_new(cfg, a->metrics.reg);
		a->rt_http = a->auth ? rt_http_new(a->base, a->rt, a->auth, cfg) : NULL;
		if (!a->rt_http || rt_http_register(a->rt_http, http_server(a->http))) {
			log_error("cannot set up the /ems-rs/RT endpoints");
			return -1;
		}
		/* The /ems-rs/ report API: its own thread and database connection. */
		if (cfg->report_enabled &&
		    !(a->report = report_start(a->base, cfg, a->auth, err, sizeof(err))))
			goto fail;
		if (a->report && report_routes(a->report, http_server(a->http))) {
			snprintf(err, sizeof(err), "http: no room for the report routes");
			goto fail;
		}
		if (rt_web_register(http_server(a->http))) {
			log_error("cannot set up the dashboard");
			return -1;
		}
		if (!api_auth_loopback(cfg->http_listen) && cfg->api_ntokens == 0)
			log_warn("http.listen %s is not loopback and api.tokens is empty: the"
				 " /ems-rs API answers 401 to every request", cfg->http_listen);
	}
	a->sig_term = evsignal_new(a->base, SIGTERM, term_cb, a);
	a->sig_int = evsignal_new(a->base, SIGINT, term_cb, a);
	a->sig_hup = evsignal_new(a->base, SIGHUP, hup_cb, a);
	if (!a->sig_term || !a->sig_int || !a->sig_hup || event_add(a->sig_term, NULL) ||
	    event_add(a->sig_int, NULL) || event_add(a->sig_hup, NULL)) {
		log_error("cannot install signal handlers");
		return -1;
	}
	return 0;
fail:
	log_error("%s", err);
	return -1;
}

/* The writer thread, the broker consumer (broker.mode consume) and the SNMP subagent
 * (snmp.enabled). 0, or -1 (logged). */
static int start_workers(rs_app_t *a)
{
	char err[1024] = "";
	rs_config_t *cfg = &a->cfg;

	metric_set(a->metrics.journal_max, (double)cfg->journal_max_bytes);
	if (writer_start(a->writer, err, sizeof(err)))
		goto fail;
	if (cfg->broker_mode == RS_BROKER_CONSUME) {
		a->consumer = consumer_new(a->base, cfg, a->writer, &a->metrics, err,
					   sizeof(err));
		if (!a->consumer)
			goto fail;
	}
	if (cfg->snmp_enabled) {
		a->snmp = rs_snmp_start(a->base, cfg, &a->metrics, a->writer, err, sizeof(err));
		if (!a->snmp)
			goto fail;
	}
	return 0;
fail:
	log_error("%s", err);
	return -1;
}

/* Start everything, serve until the writer has ended (or the stop deadline passed).
 * The exit code; the caller frees a (app_free) either way. */
static int run(rs_app_t *a)
{
	rs_config_t *cfg = &a->cfg;

	if (setup_storage(a) || setup_listeners(a) || start_workers(a))
		return 1;
	log_info("rs %s: STOMP on %s:%d, HTTP on %s:%d, storage %s%s%s", PROJECT_VERSION,
		 cfg->stomp_listen, cfg->stomp_port, cfg->http_listen, cfg->http_port,
		 cfg->backend == RS_BACKEND_SQLITE ? cfg->sqlite_path : "postgresql",
		 cfg->broker_mode == RS_BROKER_CONSUME ? ", consuming from " : "",
		 cfg->broker_mode == RS_BROKER_CONSUME ? cfg->broker_endpoints[0] : "");
	event_base_dispatch(a->base);
	/* The writer has ended (or the deadline passed): make sure it is told to. */
	writer_stop(a->writer);
	log_info("exiting");
	return 0;
}

/* The config as start uses it: the file (or the defaults) with env RS_PG_URL,
 * validated, then checked on this host (rs_preflight.h). --check-config runs exactly
 * this, so "ok" means rs starts. 0, or -1 with err. */
static int load_checked(rs_config_t *cfg, const char *path, char *err, size_t errlen)
{
	const char *url = getenv("RS_PG_URL");

	if (path ? rs_config_load(cfg, path, err, errlen)
		 : rs_config_apply_env(cfg, url, err, errlen))
		return -1;
	if (rs_config_api_env(cfg, getenv("RS_API_TOKENS"), err, errlen))
		return -1;
	return rs_preflight(cfg, path, url && url[0], err, errlen);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 'k' },
		{ "init", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *check = NULL;
	int init = 0, o;
	char err[1024];
	static rs_app_t app;

	while ((o = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'c': config = optarg; break;
		case 'k': check = optarg; break;
		case 'i': init = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': printf("rs %s\n", PROJECT_VERSION); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rs: unexpected argument: %s\n%s", argv[optind], usage);
		return 2;
	}
	rs_config_defaults(&app.cfg);
	if (check) {
		if (load_checked(&app.cfg, check, err, sizeof(err))) {
			fprintf(stderr, "rs: %s\n", err);
			return 2;
		}
		printf("%s: ok\n", check);
		return 0;
	}
	if (load_checked(&app.cfg, config, err, sizeof(err))) {
		fprintf(stderr, "rs: %s\n", err);
		return 2;
	}
	if (start_logging(&app.cfg))
		return 2;
	int rc = init ? run_init(&app.cfg) : run(&app);
	app_free(&app);
	log_close();
	return rc;
}
