/* Unit tests for rm/cluster/cluster_sess.c: a "+" line carries every field through
 * escaping, "-" removes by (call_id, from_tag), a full body replaces a set, bad lines
 * are refused, record ids are the same for the same call on any node and differ
 * otherwise, and exactly one node (the lowest live id) adopts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_sess.h"

static struct cluster_sess sample(const char *call_id, const char *from_tag)
{
	struct cluster_sess s = { 0 };

	s.call_id = call_id;
	s.from_tag = from_tag;
	s.to_tag = "mcp-tag";
	s.session_id = "0b7e1c54-0000-4000-8000-000000000001";
	s.tenant = "acme";
	s.profile = "ivr";
	s.service_type = "voicexml";
	s.lrg = "lrg1";
	s.mcp = "sip:mcp@127.0.0.1:5070";
	s.caller = "alice";
	s.dnis = "1000";
	s.attempts = 2;
	s.usage_level = 3;
	s.start_ms = 1700000000000;
	s.answer_ms = 1700000000500;
	s.cseq[0] = 1;
	s.cseq[1] = 7;
	s.from = "\"Al\tice%\" <sip:alice@127.0.0.1>;tag=abc";
	s.to = "<sip:1000@127.0.0.1>;tag=mcp-tag";
	s.target[0] = "sip:alice@127.0.0.1:5060;transport=tcp";
	s.target[1] = "sip:mcp@127.0.0.1:5070";
	s.route[0] = NULL;
	s.route[1] = "<sip:127.0.0.9;lr>, <sip:127.0.0.8;lr>";
	s.node = "rm-a";
	return s;
}

static void test_line_round_trip(void **state)
{
	struct cluster_sess in = sample("c1@x", "abc"), out;
	char *line = cluster_sess_add_line(&in);
	bool add = false;

	assert_non_null(line);
	assert_true(strchr(line, '\n') == line + strlen(line) - 1); /* one LF, at the end */
	line[strlen(line) - 1] = '\0';
	assert_int_equal(cluster_sess_parse(line, &add, &out), 0);
	assert_true(add);
	assert_string_equal(out.call_id, "c1@x");
	assert_string_equal(out.from_tag, "abc");
	assert_string_equal(out.from, in.from); /* TAB and % survive */
	assert_string_equal(out.route[0], "");
	assert_string_equal(out.route[1], in.route[1]);
	assert_string_equal(out.target[0], in.target[0]);
	assert_string_equal(out.node, "rm-a");
	assert_int_equal(out.attempts, 2);
	assert_int_equal(out.usage_level, 3);
	assert_true(out.start_ms == in.start_ms && out.answer_ms == in.answer_ms);
	assert_int_equal(out.cseq[1], 7);
	free(line);

	line = cluster_sess_del_line("c1@x", "abc");
	line[strlen(line) - 1] = '\0';
	assert_int_equal(cluster_sess_parse(line, &add, &out), 0);
	assert_false(add);
	assert_string_equal(out.call_id, "c1@x");
	free(line);
}

static void test_bad_lines(void **state)
{
	const char *bad[] = { "", "+", "x\tc\tf", "-\tc", "-\t\tf", "-\tc\tf\textra",
			      "-\tc%zz\tf", "+\tc\tf\tt" };
	struct cluster_sess out;
	bool add;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *l = strdup(bad[i]);
		assert_int_equal(cluster_sess_parse(l, &add, &out), -1);
		free(l);
	}
	/* a number out of range */
	struct cluster_sess in = sample("c", "f");
	in.attempts = 101;
	char *line = cluster_sess_add_line(&in);
	struct cluster_sess_set *set = cluster_sess_set_new();
	assert_int_equal(cluster_sess_set_apply(set, line, strlen(line)), -1);
	assert_int_equal(cluster_sess_set_count(set), 0);
	free(line);
	cluster_sess_set_free(set);
}

static void test_set(void **state)
{
	struct cluster_sess_set *set = cluster_sess_set_new(), *copy = cluster_sess_set_new();
	char id[32];

	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof id, "call-%d", i);
		struct cluster_sess s = sample(id, "t");
		char *l = cluster_sess_add_line(&s);
		assert_int_equal(cluster_sess_set_apply(set, l, strlen(l)), 0);
		assert_int_equal(cluster_sess_set_apply(set, l, strlen(l)), 0); /* replaces */
		free(l);
	}
	assert_int_equal(cluster_sess_set_count(set), 1000);
	/* same call id, another from tag: another call */
	struct cluster_sess s = sample("call-1", "other");
	char *l = cluster_sess_add_line(&s);
	assert_int_equal(cluster_sess_set_apply(set, l, strlen(l)), 0);
	free(l);
	assert_int_equal(cluster_sess_set_count(set), 1001);
	for (int i = 0; i < 500; i++) {
		snprintf(id, sizeof id, "call-%d", i);
		l = cluster_sess_del_line(id, "t");
		assert_int_equal(cluster_sess_set_apply(set, l, strlen(l)), 0);
		free(l);
	}
	l = cluster_sess_del_line("never", "t"); /* unknown: no-op */
	assert_int_equal(cluster_sess_set_apply(set, l, strlen(l)), 0);
	free(l);
	assert_int_equal(cluster_sess_set_count(set), 501);

	size_t len;
	char *body = cluster_sess_set_body(set, &len);
	assert_non_null(body);
	assert_int_equal(cluster_sess_set_apply_body(copy, body, len), 501);
	assert_int_equal(cluster_sess_set_count(copy), 501);
	free(body);
	assert_int_equal(cluster_sess_set_apply_body(copy, "-\tc\tf\n+\tbad\n", 12), -1);

	cluster_sess_set_clear(copy);
	assert_int_equal(cluster_sess_set_count(copy), 0);
	cluster_sess_set_free(copy);
	cluster_sess_set_free(set);
}

static int drained;
static void count_line(void *arg, char *line)
{
	struct cluster_sess s;
	bool add;

	line[strlen(line) - 1] = '\0';
	assert_int_equal(cluster_sess_parse(line, &add, &s), 0);
	assert_true(add);
	drained++;
	free(line);
}

static void test_drain(void **state)
{
	struct cluster_sess_set *set = cluster_sess_set_new();

	for (int i = 0; i < 10; i++) {
		char id[16];
		snprintf(id, sizeof id, "d%d", i);
		struct cluster_sess s = sample(id, "t");
		char *l = cluster_sess_add_line(&s);
		cluster_sess_set_apply(set, l, strlen(l));
		free(l);
	}
	drained = 0;
	cluster_sess_set_drain(set, count_line, NULL);
	assert_int_equal(drained, 10);
	assert_int_equal(cluster_sess_set_count(set), 0);
	cluster_sess_set_free(set);
}

static void test_record_id(void **state)
{
	char a[129], b[129], c[129], d[129], e[129];

	cluster_record_id("rm-a", 1700000000000, "c1@x", "abc", a);
	cluster_record_id("rm-a", 1700000000000, "c1@x", "abc", b); /* the survivor */
	cluster_record_id("rm-a", 1700000000000, "c1@x", "abd", c);
	cluster_record_id("rm-b", 1700000000000, "c1@x", "abc", d);
	cluster_record_id("", 1, "c1@x", NULL, e);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
	assert_int_equal(strncmp(a, "rm-a-1700000000000-", 19), 0);
	assert_int_equal(strlen(a), 19 + 32);
	assert_int_equal(strncmp(e, "rm-1-", 5), 0);
	/* the id is a wire format (rs dedupes a node's record against its adopter's, across
	 * versions): the first 32 hex of SHA-256("c1@x\nabc"), long call-ids too */
	assert_string_equal(a, "rm-a-1700000000000-ea6c8b4aa526235a72ce0affdcebe24c");
	assert_string_equal(e, "rm-1-443a0dd8812ba1de9a1eae0d3bc9edd9");
	char big[2001];
	memset(big, 'x', 2000);
	big[2000] = '\0';
	cluster_record_id("rm-a", 5, big, "abc", e);
	assert_string_equal(e, "rm-a-5-7fea5ff6c7bc829eeb2a2eb22614ca63");
}

static void test_adopter(void **state)
{
	const char *live_bc[] = { "rm-b", "rm-c" };
	const char *live_a[] = { "rm-a" };

	/* rm-a died: rm-b and rm-c survive; rm-b adopts, rm-c does not */
	const char *for_b[] = { "rm-c" };
	const char *for_c[] = { "rm-b" };
	assert_true(cluster_adopter_is_me("rm-b", for_b, 1));
	assert_false(cluster_adopter_is_me("rm-c", for_c, 1));
	assert_false(cluster_adopter_is_me("rm-z", live_bc, 2));
	assert_true(cluster_adopter_is_me("rm-0", live_bc, 2));
	assert_false(cluster_adopter_is_me("rm-b", live_a, 1));
	assert_true(cluster_adopter_is_me("rm-b", NULL, 0)); /* the last one standing */
}

/* "seen" lines (cluster_seen.c, proxy_cluster.c): what passes, how it splits. */
static void test_seen_lines(void **state)
{
	char *f[4];
	char ok[] = "b\tcid@h\tft\ttt", five[] = "a\tc\tf\tt\textra", three[] = "a\tc\tf";
	char empty[] = "a\t\tc\tf\tt";
	char big[CLUSTER_SEEN_LINE_MAX + 8];

	(void)state;
	assert_true(cluster_seen_line_ok("a\tx", 3));
	assert_false(cluster_seen_line_ok("a\t", 2));
	assert_false(cluster_seen_line_ok("c\tx\ty\tz", 9));
	assert_false(cluster_seen_line_ok("ab\tx", 4));
	assert_false(cluster_seen_line_ok("a\tx\0y", 5));
	memset(big, 'x', sizeof big);
	big[0] = 'a', big[1] = '\t';
	assert_true(cluster_seen_line_ok(big, CLUSTER_SEEN_LINE_MAX - 1));
	assert_false(cluster_seen_line_ok(big, CLUSTER_SEEN_LINE_MAX));
	assert_int_equal(cluster_seen_split(ok, f), 0);
	assert_string_equal(f[0], "b");
	assert_string_equal(f[1], "cid@h");
	assert_string_equal(f[2], "ft");
	assert_string_equal(f[3], "tt");
	assert_int_equal(cluster_seen_split(five, f), -1); /* a fifth field */
	assert_int_equal(cluster_seen_split(three, f), -1);
	assert_int_equal(cluster_seen_split(empty, f), -1); /* never read as "c f t" */
	char trail[] = "a\tc\tf\tt\t", lead[] = "\tc\tf\tt";
	assert_int_equal(cluster_seen_split(trail, f), -1);
	assert_int_equal(cluster_seen_split(lead, f), -1);
}

/* "units" lines (cluster_peer.c apply_units): give, held, free; bad ones refused,
 * too long ones skipped, a node never beyond its buffer. */
static void test_units_lines(void **state)
{
	char node[64], line[200];
	int units;

	(void)state;
	assert_int_equal(cluster_units_line("held rm-c 20", 12, 960, node, &units), 'h');
	assert_string_equal(node, "rm-c");
	assert_int_equal(units, 20);
	assert_int_equal(cluster_units_line("give rm-a 960", 13, 960, node, &units), 'g');
	assert_int_equal(units, 960);
	assert_int_equal(cluster_units_line("free rm-a", 9, 960, node, &units), 'f');
	assert_string_equal(node, "rm-a");
	assert_int_equal(cluster_units_line("", 0, 960, node, &units), 0);
	assert_int_equal(cluster_units_line("give rm-a 961", 13, 960, node, &units), -1);
	assert_int_equal(cluster_units_line("held rm-a -1", 12, 960, node, &units), -1);
	assert_int_equal(cluster_units_line("take rm-a 1", 11, 960, node, &units), -1);
	assert_int_equal(cluster_units_line("held rm-a", 9, 960, node, &units), -1);
	assert_int_equal(cluster_units_line("free rm-a x", 11, 960, node, &units), -1);
	assert_int_equal(cluster_units_line("held rm-a 5x", 12, 960, node, &units), -1);
	assert_int_equal(cluster_units_line("held rm-a 1 2", 13, 960, node, &units), -1);
	/* a node beyond 63 characters is refused, never cut to a 63-character one with
	 * its rest read as the units ("held <63 chars>5 20" was units 5) */
	int n = snprintf(line, sizeof line, "held %063d 1", 0);
	assert_int_equal(cluster_units_line(line, (size_t)n, 960, node, &units), 'h');
	assert_int_equal(strlen(node), 63);
	n = snprintf(line, sizeof line, "held %063d5 20", 0);
	assert_int_equal(cluster_units_line(line, (size_t)n, 960, node, &units), -1);
	n = snprintf(line, sizeof line, "held %070d 1", 0);
	assert_int_equal(cluster_units_line(line, (size_t)n, 960, node, &units), -1);
	/* 96 bytes or more: skipped, not read */
	n = snprintf(line, sizeof line, "held %0100d 1", 0);
	assert_int_equal(cluster_units_line(line, (size_t)n, 960, node, &units), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_round_trip), cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_set),		cmocka_unit_test(test_drain),
		cmocka_unit_test(test_record_id),	cmocka_unit_test(test_adopter),
		cmocka_unit_test(test_seen_lines),	cmocka_unit_test(test_units_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
