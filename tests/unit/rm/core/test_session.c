/* Unit tests for rm/core/session.c: keyed lookup in both directions, the end hook,
 * expiry, iteration with removal, growth. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

struct ended {
	int n;
	char call_id[64];
	int status;
	enum session_ender who;
	int64_t start, answer, end;
	char profile[64];
	void *user;
};

static void on_end(const struct session *s, void *arg)
{
	struct ended *e = arg;
	e->n++;
	snprintf(e->call_id, sizeof(e->call_id), "%s", s->call_id);
	e->status = s->final_status;
	e->who = s->ended_by;
	e->start = s->start_ms;
	e->answer = s->answer_ms;
	e->end = s->end_ms;
	snprintf(e->profile, sizeof(e->profile), "%s", s->profile);
	e->user = s->user;
}

static void test_insert_lookup_end(void **state)
{
	struct ended e = {0};
	int token;
	(void)state;
	struct session_table *t = session_table_new(60000, on_end, &e);
	assert_non_null(t);
	struct session *s = session_insert(t, "abc@host", "ftag1", 1000);
	assert_non_null(s);
	assert_int_equal(s->start_ms, 1000);
	assert_int_equal(s->deadline_ms, 61000);
	assert_int_equal(strlen(s->gvp_session_id), 36);
	assert_null(session_insert(t, "abc@host", "ftag1", 1001)); /* duplicate */
	struct session *s2 = session_insert(t, "abc@host", "other", 1002); /* other dialog */
	assert_non_null(s2);
	assert_ptr_not_equal(s, s2);
	assert_null(session_insert(t, "", "x", 1));
	assert_null(session_insert(t, NULL, "x", 1));
	assert_int_equal(session_count(t), 2);

	snprintf(s->to_tag, sizeof(s->to_tag), "mcptag");
	snprintf(s->profile, sizeof(s->profile), "acme-ivr");
	s->user = &token;
	/* Caller's request: its tag in From. The MCP's BYE: the caller's tag in To. */
	assert_ptr_equal(session_lookup(t, "abc@host", "ftag1", "mcptag"), s);
	assert_ptr_equal(session_lookup(t, "abc@host", "mcptag", "ftag1"), s);
	assert_ptr_equal(session_lookup(t, "abc@host", "other", NULL), s2);
	assert_ptr_equal(session_lookup(t, "abc@host", NULL, NULL), s); /* oldest */
	assert_null(session_lookup(t, "abc@host", "zzz", "yyy"));
	assert_null(session_lookup(t, "nope", "ftag1", NULL));

	s->answer_ms = 1500;
	s->final_status = 200;
	session_end(t, s, 0, SESSION_END_CALLER, 9000);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.call_id, "abc@host");
	assert_int_equal(e.status, 200); /* the INVITE's status was kept */
	assert_int_equal(e.who, SESSION_END_CALLER);
	assert_int_equal(e.start, 1000);
	assert_int_equal(e.answer, 1500);
	assert_int_equal(e.end, 9000);
	assert_string_equal(e.profile, "acme-ivr");
	assert_ptr_equal(e.user, &token);
	assert_int_equal(session_count(t), 1);
	assert_null(session_lookup(t, "abc@host", "ftag1", NULL));

	/* Remove: no hook. */
	session_remove(t, s2);
	assert_int_equal(e.n, 1);
	assert_int_equal(session_count(t), 0);
	session_table_free(t);
}

static void test_expire_and_end_all(void **state)
{
	struct ended e = {0};
	char id[32];
	(void)state;
	struct session_table *t = session_table_new(1000, on_end, &e);
	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "c%d", i);
		assert_non_null(session_insert(t, id, "f", 100 * i)); /* deadline 1000+100i */
	}
	session_table_set_max_duration(t, 0);
	assert_non_null(session_insert(t, "forever", "f", 0)); /* no deadline */

	struct session *v[16];
	assert_int_equal(session_expire(t, 999, v, 16), 0);
	size_t n = session_expire(t, 1450, v, 16); /* c0..c4 */
	assert_int_equal(n, 5);
	assert_string_equal(v[0]->call_id, "c0");
	assert_string_equal(v[4]->call_id, "c4");
	assert_int_equal(session_expire(t, 1450, v, 2), 2); /* cap */
	n = session_expire(t, 1450, v, 16);
	for (size_t i = 0; i < n; i++)
		session_end(t, v[i], 408, SESSION_END_RM_TIMEOUT, 1450);
	assert_int_equal(e.n, 5);
	assert_int_equal(e.who, SESSION_END_RM_TIMEOUT);
	assert_int_equal(e.status, 408);
	assert_int_equal(session_count(t), 6);
	assert_int_equal(session_expire(t, 1000000, v, 16), 5); /* "forever" never */

	session_end_all(t, 503, SESSION_END_RM_DRAIN, 2000);
	assert_int_equal(e.n, 11);
	assert_int_equal(e.who, SESSION_END_RM_DRAIN);
	assert_int_equal(session_count(t), 0);
	assert_null(session_first(t));
	session_table_free(t);
}

static void test_iterate_remove_and_grow(void **state)
{
	char id[32];
	(void)state;
	struct session_table *t = session_table_new(0, NULL, NULL);
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "call-%d@x", i);
		struct session *s = session_insert(t, id, "tag", i);
		assert_non_null(s);
		s->attempts = i;
	}
	assert_int_equal(session_count(t), 5000);
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "call-%d@x", i);
		struct session *s = session_lookup(t, id, "tag", NULL);
		assert_non_null(s);
		assert_int_equal(s->attempts, i);
	}
	/* Remove every even one while iterating; order is insertion order. */
	int seen = 0;
	struct session *s, *nx;
	for (s = session_first(t); s; s = nx) {
		nx = session_next(s);
		assert_int_equal(s->attempts, seen);
		if (seen % 2 == 0)
			session_end(t, s, 200, SESSION_END_MCP, 1); /* NULL hook is fine */
		seen++;
	}
	assert_int_equal(seen, 5000);
	assert_int_equal(session_count(t), 2500);
	assert_null(session_lookup(t, "call-0@x", "tag", NULL));
	assert_non_null(session_lookup(t, "call-1@x", "tag", NULL));
	session_table_free(t); /* frees the rest without a hook */
}

static void test_gvp_header_and_names(void **state)
{
	char buf[160], want[160];
	(void)state;
	struct session_table *t = session_table_new(0, NULL, NULL);
	struct session *s = session_insert(t, "x", NULL, 1);
	assert_string_equal(s->from_tag, "");
	assert_ptr_equal(session_lookup(t, "x", "", NULL), s);
	snprintf(s->tenant, sizeof(s->tenant), "acme");
	assert_true(session_gvp_header(s, buf, sizeof(buf)) > 0);
	snprintf(want, sizeof(want), "%s;gvp.rm.datanodes=1;gvp.rm.tenant-id=acme",
		 s->gvp_session_id);
	assert_string_equal(buf, want);
	assert_string_equal(session_ender_name(SESSION_END_CALLER), "caller");
	assert_string_equal(session_ender_name(SESSION_END_MCP), "mcp");
	assert_string_equal(session_ender_name(SESSION_END_RM_TIMEOUT), "rm-timeout");
	assert_string_equal(session_ender_name(SESSION_END_RM_DRAIN), "rm-drain");
	assert_string_equal(session_ender_name(SESSION_END_RM), "rm");
	session_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_lookup_end),
		cmocka_unit_test(test_expire_and_end_all),
		cmocka_unit_test(test_iterate_remove_and_grow),
		cmocka_unit_test(test_gvp_header_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
