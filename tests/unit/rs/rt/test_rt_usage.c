/* Unit tests for rs/rt/rt_usage.c: real-time usage from call events and CDRs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rt_usage.h"

/* 2026-01-01T00:00:00Z */
#define DAY0 1767225600000LL
#define H (3600LL * 1000)

static int ev(rt_usage_t *u, const char *id, const char *type, const char *call,
	      const char *tenant, const char *mcp, long long start, long long now)
{
	char b[512], err[128];
	int n = snprintf(b, sizeof b,
			 "{\"id\":\"%s\",\"schema\":1,\"type\":\"%s\",\"node\":\"rm-1\","
			 "\"call_id\":\"%s\",\"tenant\":\"%s\"%s%s%s,\"start_ms\":%lld}",
			 id, type, call, tenant, mcp ? ",\"mcp\":\"" : "", mcp ? mcp : "",
			 mcp ? "\"" : "", start);
	return rt_usage_event(u, b, (size_t)n, now, err, sizeof err);
}

static rt_stat_t one(rt_usage_t *u, enum rt_scope s, const char *name, long long now)
{
	rt_stat_t *v, r;
	size_t n = rt_usage_snapshot(u, s, name, now, NULL, &v);
	assert_int_equal(n, 1);
	r = v[0];
	free(v);
	return r;
}

static void test_lifecycle_and_duplicates(void **state)
{
	rt_usage_t *u = rt_usage_new();
	long long t = DAY0 + 10 * H;

	assert_int_equal(ev(u, "e1", "call.start", "c1", "acme", NULL, t, t), 1);
	assert_int_equal(ev(u, "e2", "call.start", "c2", "acme", NULL, t + 1000, t + 1000), 1);
	/* the same event again changes nothing */
	assert_int_equal(ev(u, "e1", "call.start", "c1", "acme", NULL, t, t + 2000), 0);
	rt_stat_t s = one(u, RT_TENANT, "acme", t + 2000);
	assert_int_equal(s.in_progress, 2);
	assert_int_equal(s.arrivals_today, 2);
	assert_int_equal(s.arrivals_this_hour, 2);
	assert_int_equal(s.peak_today, 2);
	assert_int_equal(s.peak_today_at, t + 1000);
	/* the answer names the MCP: the call counts there from now on */
	assert_int_equal(ev(u, "e3", "call.answer", "c1", "acme", "sip:mcp1", t, t + 3000), 1);
	assert_int_equal(ev(u, "e3", "call.answer", "c1", "acme", "sip:mcp1", t, t + 3000), 0);
	assert_int_equal(one(u, RT_MCP, "sip:mcp1", t + 3000).in_progress, 1);
	assert_int_equal(one(u, RT_RM, "rm-1", t + 3000).in_progress, 2);
	/* end, then its duplicate, then its CDR: one end */
	assert_int_equal(ev(u, "e4", "call.end", "c1", "acme", "sip:mcp1", t, t + 4000), 1);
	assert_int_equal(ev(u, "e4", "call.end", "c1", "acme", "sip:mcp1", t, t + 4000), 0);
	record_t r = { 0 };
	strcpy(r.node, "rm-1");
	strcpy(r.call_id, "c1");
	strcpy(r.tenant, "acme");
	strcpy(r.mcp, "sip:mcp1");
	r.start_ms = t;
	assert_int_equal(rt_usage_cdr(u, &r, t + 5000), 0);
	s = one(u, RT_TENANT, "acme", t + 5000);
	assert_int_equal(s.in_progress, 1);
	assert_int_equal(s.arrivals_today, 2);
	assert_int_equal(s.peak_today, 2);
	assert_int_equal(one(u, RT_MCP, "sip:mcp1", t + 5000).in_progress, 0);
	assert_int_equal(one(u, RT_MCP, "sip:mcp1", t + 5000).arrivals_today, 1);
	/* c2's call.end was lost: its CDR ends it */
	strcpy(r.call_id, "c2");
	r.start_ms = t + 1000;
	assert_int_equal(rt_usage_cdr(u, &r, t + 6000), 1);
	s = one(u, RT_TENANT, "acme", t + 6000);
	assert_int_equal(s.in_progress, 0);
	assert_int_equal(s.arrivals_today, 2);
	/* a CDR of a call no event told about is an arrival, never in progress */
	strcpy(r.call_id, "c3");
	strcpy(r.tenant, "beta");
	r.start_ms = t + 7000;
	assert_int_equal(rt_usage_cdr(u, &r, t + 8000), 1);
	s = one(u, RT_TENANT, "beta", t + 8000);
	assert_int_equal(s.in_progress, 0);
	assert_int_equal(s.arrivals_today, 1);
	assert_int_equal(s.peak_today, 0);
	rt_usage_free(u);
}

static void test_hour_day_and_forgetting(void **state)
{
	rt_usage_t *u = rt_usage_new();
	long long t = DAY0 + 23 * H + 30 * 60000; /* 23:30 */

	ev(u, "a", "call.start", "c1", "acme", NULL, t, t);
	ev(u, "b", "call.start", "c2", "acme", NULL, t + 1, t + 1);
	ev(u, "c", "call.end", "c2", "acme", NULL, t + 1, t + 2);
	/* next hour, next day: arrivals restart, the peak restarts from the 1 call up */
	long long n = DAY0 + 24 * H + 60000;
	assert_int_equal(rt_usage_tick(u, n, 1), 1);
	rt_stat_t s = one(u, RT_TENANT, "acme", n);
	assert_int_equal(s.in_progress, 1);
	assert_int_equal(s.arrivals_today, 0);
	assert_int_equal(s.arrivals_this_hour, 0);
	assert_int_equal(s.peak_today, 1);
	assert_int_equal(s.peak_today_at, DAY0 + 24 * H);
	/* a late start of yesterday's call: not an arrival today */
	ev(u, "d", "call.start", "c9", "acme", NULL, t + 5, n + 1);
	s = one(u, RT_TENANT, "acme", n + 1);
	assert_int_equal(s.arrivals_today, 0);
	assert_int_equal(s.in_progress, 2);
	assert_int_equal(s.peak_today, 2);
	assert_int_equal(s.peak_today_at, DAY0 + 24 * H);
	/* ended calls are forgotten after RT_KEEP_ENDED_MS; stale ones end after
	 * RT_MAX_CALL_MS */
	assert_int_equal(rt_usage_calls(u), 3);
	/* in parts: forgotten once the sweep has passed every part */
	for (int i = 0; i < 4; i++)
		rt_usage_tick(u, t + 2 + RT_KEEP_ENDED_MS + 1, 4);
	assert_int_equal(rt_usage_calls(u), 2);
	assert_int_equal(rt_usage_tick(u, t + 5 + RT_MAX_CALL_MS + 1, 1), 1);
	assert_int_equal(one(u, RT_TENANT, "acme", t + 5 + RT_MAX_CALL_MS + 1).in_progress, 0);
	rt_usage_free(u);
}

static void test_bad_events(void **state)
{
	rt_usage_t *u = rt_usage_new();
	char err[128];
	const char *other = "{\"id\":\"x\",\"schema\":1,\"type\":\"mcp.up\"}";
	const char *nocall = "{\"id\":\"x\",\"schema\":1,\"type\":\"call.start\",\"node\":\"r\","
			     "\"start_ms\":5}";
	const char *nostart = "{\"id\":\"x\",\"schema\":1,\"type\":\"call.end\",\"node\":\"r\","
			      "\"call_id\":\"c\"}";
	assert_int_equal(rt_usage_event(u, other, strlen(other), DAY0, err, sizeof err), 0);
	assert_int_equal(rt_usage_event(u, nocall, strlen(nocall), DAY0, err, sizeof err), -1);
	assert_non_null(strstr(err, "call_id"));
	assert_int_equal(rt_usage_event(u, nostart, strlen(nostart), DAY0, err, sizeof err), -1);
	assert_non_null(strstr(err, "start_ms"));
	assert_int_equal(rt_usage_event(u, "[1]", 3, DAY0, err, sizeof err), -1);
	rt_stat_t *v;
	assert_int_equal(rt_usage_snapshot(u, RT_TENANT, NULL, DAY0, NULL, &v), 0);
	free(v);
	rt_usage_free(u);
}

/* Many calls: the table grows and every number still adds up. */
static void test_many(void **state)
{
	rt_usage_t *u = rt_usage_new();
	long long t = DAY0 + 5 * H;
	char id[32], call[32];

	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof id, "s%d", i);
		snprintf(call, sizeof call, "c%d", i);
		ev(u, id, "call.start", call, i % 2 ? "odd" : "even", NULL, t + i, t + i);
	}
	for (int i = 0; i < 5000; i += 3) {
		snprintf(id, sizeof id, "e%d", i);
		snprintf(call, sizeof call, "c%d", i);
		ev(u, id, "call.end", call, i % 2 ? "odd" : "even", NULL, t + i, t + 6000);
	}
	rt_stat_t *v;
	size_t n = rt_usage_snapshot(u, RT_TENANT, NULL, t + 7000, NULL, &v);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "even");
	assert_int_equal(v[0].arrivals_today + v[1].arrivals_today, 5000);
	assert_int_equal(v[0].in_progress + v[1].in_progress, 5000 - 1667);
	assert_int_equal(v[0].peak_today, 2500);
	free(v);
	rt_usage_free(u);
}

/* Random calls (some ended, some not, some with their end only in a CDR), their
 * events delivered in time order with duplicates: every number equals a brute-force
 * count over the calls, the peak the most calls in progress at any instant (a call
 * is in progress from start, inclusive, to end, exclusive). */
struct pcall { long long start, end; int tenant, ended, cdr_only; };
struct pev { long long ts; int call, kind; }; /* kind 0 start, 1 end (event), 2 CDR */

static int by_ts(const void *a, const void *b)
{
	const struct pev *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (y->kind != 0) - (x->kind != 0); /* ends before starts at the same instant */
}

static void test_random_against_brute_force(void **state)
{
	enum { N = 400 };
	struct pcall c[N];
	struct pev ev_[3 * N];
	long long base = DAY0 + 8 * H, now = DAY0 + 12 * H;
	int ne = 0;
	unsigned seed = 12345;

	for (int round = 0; round < 20; round++) {
		rt_usage_t *u = rt_usage_new();
		ne = 0;
		for (int i = 0; i < N; i++) {
			seed = seed * 1103515245 + 12345;
			c[i].start = base + (seed >> 8) % (3 * H);
			seed = seed * 1103515245 + 12345;
			c[i].end = c[i].start + (seed >> 8) % (20 * 60000);
			c[i].tenant = (seed >> 4) % 3;
			c[i].ended = (seed >> 12) % 4 != 0;
			c[i].cdr_only = c[i].ended && (seed >> 16) % 5 == 0;
			ev_[ne++] = (struct pev){ c[i].start, i, 0 };
			if (c[i].ended)
				ev_[ne++] = (struct pev){ c[i].end, i, c[i].cdr_only ? 2 : 1 };
		}
		qsort(ev_, (size_t)ne, sizeof(ev_[0]), by_ts);
		for (int k = 0; k < ne; k++) {
			struct pcall *p = &c[ev_[k].call];
			char id[64], call[32], tn[16];
			snprintf(call, sizeof call, "r%d-%d", round, ev_[k].call);
			snprintf(tn, sizeof tn, "t%d", p->tenant);
			snprintf(id, sizeof id, "%s-%d", call, ev_[k].kind);
			for (int dup = 0; dup < 1 + (k % 7 == 0); dup++) {
				if (ev_[k].kind == 2) {
					record_t r = { 0 };
					strcpy(r.node, "rm-1");
					strcpy(r.call_id, call);
					strcpy(r.tenant, tn);
					r.start_ms = p->start;
					rt_usage_cdr(u, &r, now);
				} else {
					ev(u, id, ev_[k].kind ? "call.end" : "call.start", call, tn,
					   NULL, p->start, now);
				}
			}
		}
		for (int t = 0; t < 3; t++) {
			long long ip = 0, arr = 0, arr_hour = 0, peak = 0;
			char tn[16];
			snprintf(tn, sizeof tn, "t%d", t);
			for (int i = 0; i < N; i++) {
				if (c[i].tenant != t)
					continue;
				arr++;
				arr_hour += c[i].start / H == now / H;
				ip += !c[i].ended;
				long long at = 0;
				for (int j = 0; j < N; j++) /* calls in progress at c[i].start */
					at += c[j].tenant == t && c[j].start <= c[i].start &&
					      (!c[j].ended || c[j].end > c[i].start);
				if (at > peak)
					peak = at;
			}
			rt_stat_t s = one(u, RT_TENANT, tn, now);
			assert_int_equal(s.in_progress, ip);
			assert_int_equal(s.arrivals_today, arr);
			assert_int_equal(s.arrivals_this_hour, arr_hour);
			assert_int_equal(s.peak_today, peak);
		}
		rt_usage_free(u);
	}
}

/* The same kind of random calls, fed as the rebuild does (in time order, the clock at
 * each record's time), asked for a day and an hour that start off the UTC edges (a
 * +05:30 zone's midnight and hour): every number equals a brute-force count over the
 * calls inside that window, the peak the most calls in progress at any instant from
 * the window's start to now (the calls carried in over its start included). */
static void test_random_window(void **state)
{
	enum { N = 300 };
	struct pcall c[N];
	struct pev ev_[2 * N];
	/* local midnight of a +05:30 zone: 18:30Z; now 21:10Z; the local hour from 20:30Z */
	long long ds = DAY0 + 18 * H + 30 * 60000, now = DAY0 + 21 * H + 10 * 60000;
	rt_window_t w = { .day_start = ds, .hour_start = DAY0 + 20 * H + 30 * 60000 };
	unsigned seed = 777;

	for (int round = 0; round < 20; round++) {
		rt_usage_t *u = rt_usage_new();
		int ne = 0;
		for (int i = 0; i < N; i++) {
			seed = seed * 1103515245 + 12345;
			c[i].start = ds - 2 * H + (seed >> 8) % (4 * H + 10 * 60000);
			seed = seed * 1103515245 + 12345;
			c[i].end = c[i].start + (seed >> 8) % (40 * 60000);
			c[i].tenant = (seed >> 4) % 2;
			c[i].ended = (seed >> 12) % 4 != 0 && c[i].end <= now;
			c[i].cdr_only = 0;
			if (i < 30 + round) { /* a burst carried over the window's start */
				c[i].start = ds - 1 - (seed >> 8) % (10 * 60000);
				c[i].end = ds + 1 + (seed >> 8) % (5 * 60000);
				c[i].ended = 1;
			}
			ev_[ne++] = (struct pev){ c[i].start, i, 0 };
			if (c[i].ended)
				ev_[ne++] = (struct pev){ c[i].end, i, 1 };
		}
		qsort(ev_, (size_t)ne, sizeof(ev_[0]), by_ts);
		for (int k = 0; k < ne; k++) {
			struct pcall *p = &c[ev_[k].call];
			char id[64], call[32], tn[16];
			snprintf(call, sizeof call, "w%d-%d", round, ev_[k].call);
			snprintf(tn, sizeof tn, "t%d", p->tenant);
			snprintf(id, sizeof id, "%s-%d", call, ev_[k].kind);
			ev(u, id, ev_[k].kind ? "call.end" : "call.start", call, tn, NULL, p->start,
			   ev_[k].ts);
		}
		for (int t = 0; t < 2; t++) {
			long long arr = 0, arr_hour = 0, peak = 0, at;
			char tn[16];
			snprintf(tn, sizeof tn, "t%d", t);
			for (int i = -1; i < N; i++) {
				/* instants: the window's start, then each start inside it */
				long long x = i < 0 ? ds : c[i].start;
				if (i >= 0 && (c[i].tenant != t || x < ds))
					continue;
				if (i >= 0) {
					arr++;
					arr_hour += x >= w.hour_start;
				}
				at = 0;
				for (int j = 0; j < N; j++)
					at += c[j].tenant == t && c[j].start <= x &&
					      (!c[j].ended || c[j].end > x);
				if (at > peak)
					peak = at;
			}
			rt_stat_t *v;
			assert_int_equal(rt_usage_snapshot(u, RT_TENANT, tn, now, &w, &v), 1);
			assert_int_equal(v[0].arrivals_today, arr);
			assert_int_equal(v[0].arrivals_this_hour, arr_hour);
			assert_int_equal(v[0].peak_today, peak);
			assert_true(v[0].peak_today_at >= ds && v[0].peak_today_at <= now);
			free(v);
		}
		rt_usage_free(u);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle_and_duplicates),
		cmocka_unit_test(test_hour_day_and_forgetting),
		cmocka_unit_test(test_bad_events),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_random_against_brute_force),
		cmocka_unit_test(test_random_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
