/* rs_snmp: see rs_snmp.h. */
#include "rs_snmp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

enum { DB_UP = 1, DB_DOWN = 2 };
enum { NOTIF_DB_DOWN = 1, NOTIF_DB_UP = 2, NOTIF_JOURNAL_HIGH = 3 };

struct rs_snmp {
	const rs_config_t *cfg;
	rs_metrics_t *m;
	rs_writer_t *w;
	snmpsub_t *ax;
	struct event *tick;
	int last_db;     /* DB_UP / DB_DOWN as last notified */
	int above_mark;  /* journal above the high-water mark */
};

static int64_t count(const metric_t *m)
{
	double v = metric_value(m);
	return v < 0 ? 0 : (int64_t)llround(v);
}

static int64_t journal_percent(rs_metrics_t *m)
{
	double max = metric_value(m->journal_max), b = metric_value(m->journal_bytes);
	if (max <= 0)
		return 0;
	double p = b * 100.0 / max;
	return p > 100 ? 100 : (int64_t)p;
}

static void scalar(snmpsub_value_t *v, uint32_t n, enum snmpsub_type t, int64_t num)
{
	memset(v, 0, sizeof(*v));
	v->oid[0] = 1;
	v->oid[1] = n;
	v->oid[2] = 0;
	v->oid_len = 3;
	v->type = t;
	v->num = num;
}

size_t rs_snmp_collect(const rs_config_t *cfg, rs_metrics_t *m, snmpsub_value_t *out,
		       size_t cap)
{
	snmpsub_value_t v[9];
	uint64_t n = __atomic_load_n(&m->batch_n, __ATOMIC_RELAXED);
	uint64_t us = __atomic_load_n(&m->batch_us_sum, __ATOMIC_RELAXED);
	/* GVP-RS-MIB: rsRejected counts malformed records (invalid body, unknown
	 * destination); rsReceived every record that arrived, valid or not. */
	int64_t rej = count(m->rej_invalid) + count(m->rej_dest);
	int64_t recv = count(m->received) + rej + count(m->rej_full);

	(void)cfg;
	scalar(&v[0], 1, SNMPSUB_COUNTER64, recv);
	scalar(&v[1], 2, SNMPSUB_COUNTER64, count(m->stored));
	scalar(&v[2], 3, SNMPSUB_COUNTER64, count(m->duplicates));
	scalar(&v[3], 4, SNMPSUB_COUNTER64, rej);
	scalar(&v[4], 5, SNMPSUB_GAUGE32, count(m->journal_depth));
	scalar(&v[5], 6, SNMPSUB_INTEGER, metric_value(m->db_up) > 0.5 ? DB_UP : DB_DOWN);
	scalar(&v[6], 7, SNMPSUB_GAUGE32, llround(metric_value(m->batch_last) * 1000.0));
	scalar(&v[7], 8, SNMPSUB_GAUGE32, n ? (int64_t)llround(us / 1000.0 / (double)n) : 0);
	scalar(&v[8], 9, SNMPSUB_GAUGE32, journal_percent(m));
	for (size_t i = 0; i < 9 && i < cap; i++)
		out[i] = v[i];
	return 9;
}

static size_t collect_cb(void *arg, snmpsub_value_t *out, size_t cap)
{
	rs_snmp_t *s = arg;
	return rs_snmp_collect(s->cfg, s->m, out, cap);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	rs_snmp_t *s = arg;
	snmpsub_value_t all[9], vb[3];
	int db = writer_db_up(s->w) ? DB_UP : DB_DOWN;

	rs_snmp_collect(s->cfg, s->m, all, 9);
	if (db != s->last_db) {
		vb[0] = all[5];
		vb[0].num = db;
		vb[1] = all[4];
		if (db == DB_DOWN) {
			memset(&vb[2], 0, sizeof(vb[2]));
			vb[2].oid[0] = 4;
			vb[2].oid[1] = 1;
			vb[2].oid[2] = 0;
			vb[2].oid_len = 3;
			vb[2].type = SNMPSUB_STRING;
			writer_last_error(s->w, vb[2].str, sizeof(vb[2].str));
		}
		log_info("snmp: sending %s", db == DB_DOWN ? "rsDbDown" : "rsDbUp");
		snmpsub_notify(s->ax, db == DB_DOWN ? NOTIF_DB_DOWN : NOTIF_DB_UP, vb,
			       db == DB_DOWN ? 3 : 2);
		s->last_db = db;
	}
	int above = all[8].num >= s->cfg->journal_high_water_percent;
	if (above && !s->above_mark) {
		vb[0] = all[4];
		vb[1] = all[8];
		log_info("snmp: sending rsJournalHighWater (%lld%%)", (long long)all[8].num);
		snmpsub_notify(s->ax, NOTIF_JOURNAL_HIGH, vb, 2);
	}
	s->above_mark = above;
}

rs_snmp_t *rs_snmp_start(struct event_base *base, const rs_config_t *cfg,
			 rs_metrics_t *m, rs_writer_t *w, char *err, size_t errlen)
{
	char root[160];
	rs_snmp_t *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = cfg;
	s->m = m;
	s->w = w;
	/* The first tick reports a database that is already down. */
	s->last_db = DB_UP;
	snprintf(root, sizeof(root), "%s.2", cfg->snmp_base_oid);
	s->ax = snmpsub_start(base, "rs", cfg->snmp_master, root, collect_cb, s, err, errlen);
	s->tick = event_new(base, -1, EV_PERSIST, tick_cb, s);
	if (!s->ax || !s->tick) {
		if (!s->ax && !err[0])
			snprintf(err, errlen, "snmp: cannot start the subagent");
		rs_snmp_stop(s);
		return NULL;
	}
	struct timeval tv = { 0, 250000 };
	event_add(s->tick, &tv);
	return s;
}

void rs_snmp_stop(rs_snmp_t *s)
{
	if (!s)
		return;
	if (s->tick)
		event_free(s->tick);
	snmpsub_stop(s->ax);
	free(s);
}
