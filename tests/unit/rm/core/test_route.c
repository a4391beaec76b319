/* Unit tests for rm/core/route.c: schemes, skipping, exclusion, admission levels, profile
 * selection precedence, health transitions and reload. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm_config.h"
#include "route.h"

struct fx {
	struct rm_config cfg;
	struct route_state *st;
};

static struct fx *fx_new(const char *json)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[512];
	assert_non_null(f);
	if (rm_config_parse(json, "test.json", &f->cfg, err, sizeof(err)) != 0)
		fail_msg("config: %s", err);
	f->st = route_state_new(&f->cfg, err, sizeof(err));
	assert_non_null(f->st);
	return f;
}

static void fx_free(struct fx *f)
{
	route_state_free(f->st);
	rm_config_free(&f->cfg);
	free(f);
}

static void fx_reload(struct fx *f, const char *json)
{
	char err[512];
	rm_config_free(&f->cfg);
	if (rm_config_parse(json, "test.json", &f->cfg, err, sizeof(err)) != 0)
		fail_msg("config: %s", err);
	assert_int_equal(route_state_reload(f->st, &f->cfg, err, sizeof(err)), 0);
}

/* One group "g" with the given scheme and members JSON; profile "p" on it. */
static struct fx *group(const char *scheme, const char *members)
{
	char js[2048];
	snprintf(js, sizeof(js),
		 "{\"lrgs\":[{\"name\":\"g\",\"scheme\":\"%s\",\"members\":[%s]}],"
		 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"g\"}],\"default_profile\":\"p\"}",
		 scheme, members);
	return fx_new(js);
}

static struct route_mcp *mcp(struct fx *f, const char *uri)
{
	struct route_mcp *m = route_mcp_find(f->st, uri);
	assert_non_null(m);
	return m;
}

/* Admit on p and pick; asserts success. */
static void call(struct fx *f, struct route_ticket *t)
{
	assert_int_equal(route_admit(f->st, route_profile_find(f->st, "p"), false, t),
			 RM_REFUSE_NONE);
	assert_int_equal(route_pick(f->st, t), RM_REFUSE_NONE);
}

static void test_round_robin_splits_evenly(void **state)
{
	(void)state;
	struct fx *f = group("round-robin", "{\"uri\":\"sip:a\"},{\"uri\":\"sip:b\"}");
	for (int i = 0; i < 1000; i++) {
		struct route_ticket t;
		call(f, &t);
		route_release(&t);
	}
	assert_int_equal(mcp(f, "sip:a")->picks, 500);
	assert_int_equal(mcp(f, "sip:b")->picks, 500);
	assert_int_equal(mcp(f, "sip:a")->active, 0);
	assert_int_equal(route_profile_find(f->st, "p")->active, 0);
	fx_free(f);
}

static void test_weighted_3_to_1_exact(void **state)
{
	(void)state;
	struct fx *f = group("weighted", "{\"uri\":\"sip:a\",\"weight\":3},"
					 "{\"uri\":\"sip:b\",\"weight\":1}");
	int run = 0, max_run = 0;
	for (int i = 0; i < 1000; i++) {
		struct route_ticket t;
		call(f, &t);
		/* Smooth: never more than 3 a's in a row, never two b's in a row. */
		run = strcmp(t.mcp->uri, "sip:a") == 0 ? run + 1 : 0;
		if (run > max_run)
			max_run = run;
		route_release(&t);
	}
	assert_int_equal(mcp(f, "sip:a")->picks, 750);
	assert_int_equal(mcp(f, "sip:b")->picks, 250);
	assert_true(max_run <= 3);
	fx_free(f);
}

static void test_least_used_within_one(void **state)
{
	(void)state;
	struct fx *f = group("least-used", "{\"uri\":\"sip:a\",\"max_ports\":1000},"
					   "{\"uri\":\"sip:b\",\"max_ports\":1000},"
					   "{\"uri\":\"sip:c\",\"max_ports\":1000}");
	static struct route_ticket t[301];
	struct route_mcp *a = mcp(f, "sip:a"), *b = mcp(f, "sip:b"), *c = mcp(f, "sip:c");
	for (int i = 0; i < 301; i++) {
		call(f, &t[i]);
		int mx = a->active > b->active ? a->active : b->active;
		mx = mx > c->active ? mx : c->active;
		int mn = a->active < b->active ? a->active : b->active;
		mn = mn < c->active ? mn : c->active;
		assert_true(mx - mn <= 1);
	}
	/* Twenty calls on a end: a is now 20 below the others, so the next 20 picks
	 * all refill a (ties at the end rotate) and the spread is back within 1. */
	int released = 0, slots[20];
	for (int i = 0; i < 301 && released < 20; i++)
		if (t[i].mcp == a) {
			route_release(&t[i]);
			slots[released++] = i;
		}
	int low = a->active;
	assert_int_equal(b->active - low >= 19, 1);
	for (int i = 0; i < 20; i++) {
		call(f, &t[slots[i]]);
		if (i < 19)
			assert_ptr_equal(t[slots[i]].mcp, a);
	}
	assert_true(abs(a->active - b->active) <= 1 && abs(b->active - c->active) <= 1 &&
		    abs(a->active - c->active) <= 1);
	for (int i = 0; i < 301; i++)
		route_release(&t[i]);
	assert_int_equal(a->active + b->active + c->active, 0);
	fx_free(f);
}

static void test_least_percent(void **state)
{
	(void)state;
	struct fx *f = group("least-percent", "{\"uri\":\"sip:a\",\"max_ports\":100},"
					      "{\"uri\":\"sip:b\",\"max_ports\":300}");
	static struct route_ticket t[200];
	for (int i = 0; i < 200; i++)
		call(f, &t[i]);
	assert_int_equal(mcp(f, "sip:a")->active, 50);
	assert_int_equal(mcp(f, "sip:b")->active, 150);
	for (int i = 0; i < 200; i++)
		route_release(&t[i]);
	fx_free(f);
}

static void test_down_and_full_skipped(void **state)
{
	(void)state;
	struct fx *f = group("round-robin", "{\"uri\":\"sip:a\",\"max_ports\":2},"
					    "{\"uri\":\"sip:b\",\"max_ports\":3}");
	struct route_mcp *a = mcp(f, "sip:a"), *b = mcp(f, "sip:b");
	struct route_ticket t[6];

	/* Fill: a takes 2, b takes 3, then capacity is exhausted. */
	for (int i = 0; i < 5; i++)
		call(f, &t[i]);
	assert_int_equal(a->active, 2);
	assert_int_equal(b->active, 3);
	assert_int_equal(route_admit(f->st, route_profile_find(f->st, "p"), false, &t[5]),
			 RM_REFUSE_NONE);
	assert_int_equal(route_pick(f->st, &t[5]), RM_REFUSE_MCP_CAPACITY);
	assert_null(t[5].mcp);
	route_release(&t[5]);
	for (int i = 0; i < 5; i++)
		route_release(&t[i]);

	/* New MCPs are unknown: picked above, but not counted up until a result. */
	assert_false(a->probed);
	assert_true(a->up);
	assert_int_equal(route_mcp_up_count(f->st), 0);
	assert_int_equal(route_health(a, true, 900, 3, 2), 1); /* the first result decides */
	assert_int_equal(route_mcp_up_count(f->st), 1);
	assert_int_equal(route_health(b, true, 900, 3, 2), 1);
	assert_int_equal(route_mcp_up_count(f->st), 2);

	/* a down after K=3 failures (reported once), everything goes to b. */
	assert_int_equal(route_health(a, false, 0, 3, 2), 0);
	assert_int_equal(route_health(a, false, 0, 3, 2), 0);
	assert_int_equal(route_health(a, false, 0, 3, 2), -1);
	assert_int_equal(route_health(a, false, 0, 3, 2), 0);
	assert_false(a->up);
	assert_int_equal(route_mcp_up_count(f->st), 1);
	uint64_t before = a->picks;
	for (int i = 0; i < 10; i++) {
		struct route_ticket x;
		call(f, &x);
		assert_ptr_equal(x.mcp, b);
		route_release(&x);
	}
	assert_int_equal(a->picks, before);

	/* Both down: no-mcp-up. */
	for (int i = 0; i < 3; i++)
		route_health(b, false, 0, 3, 2);
	struct route_ticket x;
	assert_int_equal(route_admit(f->st, route_profile_find(f->st, "p"), false, &x),
			 RM_REFUSE_NONE);
	assert_int_equal(route_pick(f->st, &x), RM_REFUSE_NO_MCP_UP);
	route_release(&x);

	/* a up after M=2 successes; a failure in between resets the streak. */
	assert_int_equal(route_health(a, true, 1500, 3, 2), 0);
	assert_int_equal(route_health(a, false, 0, 3, 2), 0);
	assert_int_equal(route_health(a, true, 1500, 3, 2), 0);
	assert_int_equal(route_health(a, true, 1200, 3, 2), 1);
	assert_true(a->up);
	assert_int_equal(a->last_rtt_us, 1200);
	call(f, &x);
	assert_ptr_equal(x.mcp, a);
	route_release(&x);
	fx_free(f);
}

/* An MCP nobody answers for is down from its first failed OPTIONS (no K grace for
 * what was never seen up), and then needs M successes like any down MCP. */
static void test_unknown_settled_by_first_result(void **state)
{
	(void)state;
	struct fx *f = group("round-robin", "{\"uri\":\"sip:a\"},{\"uri\":\"sip:b\"}");
	struct route_mcp *a = mcp(f, "sip:a"), *b = mcp(f, "sip:b");
	struct route_ticket x;

	assert_int_equal(route_mcp_up_count(f->st), 0);
	assert_int_equal(route_health(a, false, -1, 3, 2), -1);
	assert_true(a->probed);
	assert_false(a->up);
	assert_int_equal(route_mcp_up_count(f->st), 0);
	/* b still unknown: calls go there rather than being refused */
	for (int i = 0; i < 4; i++) {
		call(f, &x);
		assert_ptr_equal(x.mcp, b);
		route_release(&x);
	}
	assert_int_equal(route_health(a, true, 800, 3, 2), 0);
	assert_int_equal(route_health(a, true, 800, 3, 2), 1);
	assert_int_equal(route_mcp_up_count(f->st), 1);
	assert_int_equal(route_health(b, true, 700, 3, 2), 1);
	assert_int_equal(route_mcp_up_count(f->st), 2);
	fx_free(f);
}

static void test_failover_excludes_tried(void **state)
{
	(void)state;
	struct fx *f = group("round-robin",
			     "{\"uri\":\"sip:a\"},{\"uri\":\"sip:b\"},{\"uri\":\"sip:c\"}");
	struct route_ticket t;
	call(f, &t);
	struct route_mcp *first = t.mcp;
	assert_int_equal(route_pick(f->st, &t), RM_REFUSE_NONE);
	struct route_mcp *second = t.mcp;
	assert_ptr_not_equal(first, second);
	assert_int_equal(first->active, 0); /* the failed attempt was released */
	assert_int_equal(route_pick(f->st, &t), RM_REFUSE_NONE);
	assert_ptr_not_equal(t.mcp, first);
	assert_ptr_not_equal(t.mcp, second);
	assert_int_equal(t.attempts, 3);
	assert_int_equal(route_pick(f->st, &t), RM_REFUSE_NO_MCP_UP);
	assert_null(t.mcp);
	assert_int_equal(t.attempts, 3);
	route_release(&t);
	for (size_t i = 0; i < route_mcp_count(f->st); i++)
		assert_int_equal(route_mcp_at(f->st, i)->active, 0);
	assert_int_equal(route_profile_find(f->st, "p")->active, 0);
	route_release(&t); /* idempotent */
	fx_free(f);
}

/* A member that refuses every call must not capture the rotation: first picks keep
 * alternating, so only the calls that land on it first fail over (half, not all). */
static void test_failover_keeps_rotation(void **state)
{
	(void)state;
	const char *schemes[] = {"round-robin", "weighted"};
	for (size_t s = 0; s < 2; s++) {
		struct fx *f = group(schemes[s], "{\"uri\":\"sip:a\"},{\"uri\":\"sip:b\"}");
		struct route_mcp *a = mcp(f, "sip:a");
		int failovers = 0, on_b = 0;
		for (int i = 0; i < 400; i++) {
			struct route_ticket t;
			call(f, &t);
			if (t.mcp == a) { /* a answers 503: fail over */
				failovers++;
				assert_int_equal(route_pick(f->st, &t), RM_REFUSE_NONE);
			}
			assert_ptr_not_equal(t.mcp, a);
			on_b++;
			route_release(&t);
		}
		assert_int_equal(on_b, 400);
		assert_int_equal(failovers, 200);
		fx_free(f);
	}
}

#define LIMITS_CFG                                                                       \
	"{\"lrgs\":[{\"name\":\"g\",\"members\":[{\"uri\":\"sip:a\",\"max_ports\":1000}]}]," \
	"\"tenants\":[{\"name\":\"t\",\"limits\":{\"l1\":6,\"l2\":8,\"l3\":12}}],"        \
	"\"profiles\":[{\"name\":\"p\",\"tenant\":\"t\",\"lrg\":\"g\","                   \
	"\"limits\":{\"l1\":3,\"l2\":5,\"l3\":10}},"                                      \
	"{\"name\":\"q\",\"tenant\":\"t\",\"lrg\":\"g\"}]}"

static void test_admission_levels_and_limit(void **state)
{
	(void)state;
	struct fx *f = fx_new(LIMITS_CFG);
	struct route_profile *p = route_profile_find(f->st, "p");
	static struct route_ticket t[20];
	int admitted = 0, refused = 0, lv[4] = {0};
	for (int i = 0; i < 20; i++) {
		enum rm_refuse r = route_admit(f->st, p, false, &t[i]);
		if (r == RM_REFUSE_NONE) {
			admitted++;
			lv[t[i].profile_level]++;
		} else {
			assert_int_equal(r, RM_REFUSE_PROFILE_LIMIT);
			assert_null(t[i].profile);
			refused++;
		}
	}
	assert_int_equal(admitted, 10);
	assert_int_equal(refused, 10);
	assert_int_equal(lv[ROUTE_LEVEL_L1], 3);
	assert_int_equal(lv[ROUTE_LEVEL_L2], 2);
	assert_int_equal(lv[ROUTE_LEVEL_L3], 5);
	assert_int_equal(p->active, 10);
	assert_int_equal(p->refused, 10);
	assert_int_equal(p->tenant->active, 10);
	/* Tenant level is the worse one for calls 7..10 (tenant l1=6, l2=8). */
	assert_int_equal(t[9].tenant_level, ROUTE_LEVEL_L3);
	assert_int_equal(t[9].level, ROUTE_LEVEL_L3);
	assert_int_equal(t[0].level, ROUTE_LEVEL_L1);

	/* The tenant's hard limit (12) refuses q's third call. */
	struct route_profile *q = route_profile_find(f->st, "q");
	struct route_ticket u[3];
	assert_int_equal(route_admit(f->st, q, false, &u[0]), RM_REFUSE_NONE);
	assert_int_equal(route_admit(f->st, q, false, &u[1]), RM_REFUSE_NONE);
	assert_int_equal(route_admit(f->st, q, false, &u[2]), RM_REFUSE_TENANT_LIMIT);
	assert_int_equal(q->tenant->refused, 1);

	/* One call ends: exactly one more fits on p. */
	route_release(&t[0]);
	route_release(&u[0]);
	struct route_ticket x, y;
	assert_int_equal(route_admit(f->st, p, false, &x), RM_REFUSE_NONE);
	assert_int_equal(route_admit(f->st, p, false, &y), RM_REFUSE_PROFILE_LIMIT);
	assert_int_equal(route_admit(f->st, p, true, &y), RM_REFUSE_DRAINING);
	route_release(&x);
	route_release(&u[1]);
	for (int i = 0; i < 20; i++)
		route_release(&t[i]);
	assert_int_equal(p->active, 0);
	assert_int_equal(p->tenant->active, 0);
	fx_free(f);
}

#define SELECT_CFG                                                                       \
	"{\"lrgs\":[{\"name\":\"g\",\"members\":[{\"uri\":\"sip:a\"}]}],"                 \
	"\"tenants\":[{\"name\":\"acme\",\"profile\":\"acme-b\"}],"                        \
	"\"profiles\":[{\"name\":\"acme-a\",\"id\":\"11\",\"tenant\":\"acme\",\"lrg\":\"g\"}," \
	"{\"name\":\"acme-b\",\"id\":\"12\",\"tenant\":\"acme\",\"lrg\":\"g\"},"            \
	"{\"name\":\"glx\",\"id\":\"21\",\"tenant\":\"globex\",\"lrg\":\"g\"},"             \
	"{\"name\":\"byname\",\"tenant\":\"globex\",\"lrg\":\"g\"},"                        \
	"{\"name\":\"dn\",\"lrg\":\"g\"},{\"name\":\"def\",\"lrg\":\"g\"}],"                \
	"\"dnis\":{\"5551000\":\"dn\",\"5550001\":\"glx\"},\"default_profile\":\"def\"}"

static void expect(struct fx *f, const char *user, const char *tenant, const char *pid,
		   const char *pname, const char *want, enum route_by by)
{
	struct route_request rq = {user, tenant, pid, pname};
	struct route_match m;
	assert_int_equal(route_select(f->st, &rq, &m), 0);
	assert_string_equal(m.profile->name, want);
	assert_int_equal(m.by, by);
	assert_int_equal(m.strip_tenant_param, tenant != NULL);
}

struct edges {
	int n;
	char tenant[8], profile[8];
	int l3;
};
static void on_edge(void *arg, const char *tenant, const char *profile, int l3)
{
	struct edges *e = arg;
	e->n++;
	snprintf(e->tenant, sizeof e->tenant, "%s", tenant);
	snprintf(e->profile, sizeof e->profile, "%s", profile);
	e->l3 = l3;
}

/* The limit edge (rmL3LimitReached): once when the count reaches l3, not again on
 * refusals, again only after a release brought it below. */
static void test_limit_edge(void **state)
{
	(void)state;
	struct fx *f = fx_new(LIMITS_CFG);
	struct route_profile *p = route_profile_find(f->st, "p");
	struct edges e = { 0 };
	struct route_limit_hook h = { on_edge, &e };
	static struct route_ticket t[12];
	route_set_limit_hook(&h);
	for (int i = 0; i < 9; i++)
		assert_int_equal(route_admit(f->st, p, false, &t[i]), RM_REFUSE_NONE);
	assert_int_equal(e.n, 0);
	assert_int_equal(route_admit(f->st, p, false, &t[9]), RM_REFUSE_NONE); /* the 10th */
	assert_int_equal(e.n, 1);
	assert_string_equal(e.tenant, "t");
	assert_string_equal(e.profile, "p");
	assert_int_equal(e.l3, 10);
	assert_int_equal(route_admit(f->st, p, false, &t[10]), RM_REFUSE_PROFILE_LIMIT);
	assert_int_equal(e.n, 1); /* still the same reach */
	route_release(&t[9]);
	assert_int_equal(route_admit(f->st, p, false, &t[9]), RM_REFUSE_NONE);
	assert_int_equal(e.n, 2); /* reached again */
	for (int i = 0; i < 10; i++)
		route_release(&t[i]);
	route_set_limit_hook(NULL);
	fx_free(f);
}

static void test_profile_selection_precedence(void **state)
{
	(void)state;
	struct fx *f = fx_new(SELECT_CFG);
	/* All present: gvp-tenant-id wins (acme's configured profile). */
	expect(f, "5551000", "acme", "21", "byname", "acme-b", ROUTE_BY_TENANT_PARAM);
	/* A tenant without "profile" gets its first profile. */
	expect(f, "5551000", "globex", "11", "byname", "glx", ROUTE_BY_TENANT_PARAM);
	/* Unknown tenant falls through (still stripped), then profile id. */
	expect(f, "5551000", "nobody", "11", "byname", "acme-a", ROUTE_BY_PROFILE_ID);
	expect(f, "5551000", NULL, "21", "byname", "glx", ROUTE_BY_PROFILE_ID);
	expect(f, "5551000", NULL, "99", "byname", "byname", ROUTE_BY_PROFILE_NAME);
	expect(f, "5551000", NULL, NULL, "byname", "byname", ROUTE_BY_PROFILE_NAME);
	expect(f, "5551000", NULL, "", "nope", "dn", ROUTE_BY_DNIS);
	expect(f, "5550001", NULL, NULL, NULL, "glx", ROUTE_BY_DNIS);
	expect(f, "5559999", NULL, NULL, NULL, "def", ROUTE_BY_DEFAULT);
	expect(f, NULL, NULL, NULL, NULL, "def", ROUTE_BY_DEFAULT);
	expect(f, "", "", NULL, NULL, "def", ROUTE_BY_DEFAULT);
	assert_string_equal(route_by_name(ROUTE_BY_DNIS), "dnis");
	fx_free(f);

	/* No default: unmatched is -1 (no-profile), strip flag still reported. */
	f = group("round-robin", "{\"uri\":\"sip:a\"}");
	fx_reload(f, "{\"lrgs\":[{\"name\":\"g\",\"members\":[{\"uri\":\"sip:a\"}]}],"
		     "\"profiles\":[{\"name\":\"p\",\"lrg\":\"g\"}]}");
	struct route_request rq = {"123", "x", NULL, NULL};
	struct route_match m;
	assert_int_equal(route_select(f->st, &rq, &m), -1);
	assert_null(m.profile);
	assert_true(m.strip_tenant_param);
	fx_free(f);
}

#define RELOAD_A                                                                         \
	"{\"lrgs\":[{\"name\":\"g\",\"members\":[{\"uri\":\"sip:a\"},{\"uri\":\"sip:b\"}]}]," \
	"\"profiles\":[{\"name\":\"p\",\"lrg\":\"g\",\"limits\":{\"l3\":100}},"             \
	"{\"name\":\"q\",\"lrg\":\"g\"}]}"
#define RELOAD_B                                                                         \
	"{\"lrgs\":[{\"name\":\"h\",\"members\":[{\"uri\":\"sip:a\"},{\"uri\":\"sip:c\"}]}]," \
	"\"profiles\":[{\"name\":\"p\",\"lrg\":\"h\",\"limits\":{\"l3\":6}}]}"

static void test_reload_preserves_counts(void **state)
{
	(void)state;
	struct fx *f = fx_new(RELOAD_A);
	struct route_ticket t[4], tq;
	struct route_profile *p = route_profile_find(f->st, "p");
	for (int i = 0; i < 4; i++)
		call(f, &t[i]); /* a, b, a, b */
	assert_int_equal(route_admit(f->st, route_profile_find(f->st, "q"), false, &tq),
			 RM_REFUSE_NONE);
	assert_int_equal(route_pick(f->st, &tq), RM_REFUSE_NONE); /* a */
	struct route_mcp *a = mcp(f, "sip:a");
	unsigned a_id = a->id, b_id = mcp(f, "sip:b")->id;
	assert_int_equal(a->active, 3);
	for (int i = 0; i < 3; i++)
		route_health(a, false, 0, 3, 2); /* a down; must stay down */

	fx_reload(f, RELOAD_B);
	assert_ptr_equal(route_profile_find(f->st, "p"), p); /* same object */
	assert_int_equal(p->active, 4);
	assert_int_equal(p->limits.l3, 6);
	assert_string_equal(route_profile_lrg_name(p), "h");
	assert_null(route_profile_find(f->st, "q"));
	assert_ptr_equal(mcp(f, "sip:a"), a);
	assert_int_equal(a->id, a_id);
	assert_int_equal(a->active, 3);
	assert_false(a->up);
	assert_null(route_mcp_find(f->st, "sip:b"));
	assert_int_equal(route_mcp_count(f->st), 2);
	struct route_mcp *c = mcp(f, "sip:c");
	assert_true(c->id != a_id && c->id != b_id);
	assert_true(t[1].mcp->retired); /* b */

	/* New calls go to the new group (a is down: c), up to the new limit 6. */
	struct route_ticket n[3];
	call(f, &n[0]);
	assert_ptr_equal(n[0].mcp, c);
	call(f, &n[1]);
	assert_int_equal(route_admit(f->st, p, false, &n[2]), RM_REFUSE_PROFILE_LIMIT);

	/* Old calls release into the objects they were counted on, retired or not. */
	for (int i = 0; i < 4; i++)
		route_release(&t[i]);
	route_release(&tq); /* q and its hold on a: retired profile, freed now */
	assert_int_equal(a->active, 0);
	assert_int_equal(p->active, 2);
	route_release(&n[0]);
	route_release(&n[1]);
	assert_int_equal(p->active, 0);
	assert_int_equal(c->active, 0);
	fx_free(f);
}

static void test_state_free_with_live_tickets(void **state)
{
	(void)state;
	struct fx *f = fx_new(RELOAD_A);
	struct route_ticket t;
	call(f, &t);
	route_state_free(f->st);
	f->st = NULL;
	route_release(&t); /* objects outlive the state; ASan checks this */
	rm_config_free(&f->cfg);
	free(f);
}

/* route_hold (cluster.adopt "keep"): counts a live call whatever the limits and the
 * MCP's state say; an unknown profile counts nothing; route_release undoes it. */
static void test_hold_counts_without_checks(void **state)
{
	(void)state;
	struct fx *f = fx_new(LIMITS_CFG);
	struct route_profile *p = route_profile_find(f->st, "p");
	static struct route_ticket t[12];
	struct route_ticket none;
	for (int i = 0; i < 10; i++)
		call(f, &t[i]);
	struct route_mcp *m = t[0].mcp;
	route_health(m, false, 0, 1, 1); /* down: route_pick would skip it */
	assert_true(route_hold(f->st, "p", m->uri, &t[10]));
	assert_true(route_hold(f->st, "p", "sip:not-configured", &t[11]));
	assert_int_equal(p->active, 12); /* over l3 (10): kept calls exist */
	assert_int_equal(p->tenant->active, 12);
	assert_int_equal(m->active, 11);
	assert_ptr_equal(t[10].mcp, m);
	assert_null(t[11].mcp);
	assert_false(route_hold(f->st, "nope", m->uri, &none));
	assert_null(none.profile);
	for (int i = 0; i < 12; i++)
		route_release(&t[i]);
	assert_int_equal(p->active, 0);
	assert_int_equal(p->tenant->active, 0);
	assert_int_equal(m->active, 0);
	fx_free(f);
}

static void test_gvp_session_id(void **state)
{
	char buf[128];
	(void)state;
	int n = route_gvp_session_id(buf, sizeof(buf), "0f8e7c1a-1b2c-4d5e-8f90-a1b2c3d4e5f6",
				     "acme");
	assert_string_equal(buf, "0f8e7c1a-1b2c-4d5e-8f90-a1b2c3d4e5f6;gvp.rm.datanodes=1;"
				 "gvp.rm.tenant-id=acme");
	assert_int_equal(n, (int)strlen(buf));
	assert_int_equal(route_gvp_session_id(buf, 10, "0f8e7c1a-1b2c", "acme"), -1);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_robin_splits_evenly),
		cmocka_unit_test(test_weighted_3_to_1_exact),
		cmocka_unit_test(test_least_used_within_one),
		cmocka_unit_test(test_least_percent),
		cmocka_unit_test(test_down_and_full_skipped),
		cmocka_unit_test(test_unknown_settled_by_first_result),
		cmocka_unit_test(test_failover_excludes_tried),
		cmocka_unit_test(test_failover_keeps_rotation),
		cmocka_unit_test(test_admission_levels_and_limit),
		cmocka_unit_test(test_limit_edge),
		cmocka_unit_test(test_profile_selection_precedence),
		cmocka_unit_test(test_reload_preserves_counts),
		cmocka_unit_test(test_state_free_with_live_tickets),
		cmocka_unit_test(test_hold_counts_without_checks),
		cmocka_unit_test(test_gvp_session_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
