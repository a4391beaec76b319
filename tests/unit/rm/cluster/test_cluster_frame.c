/* Unit tests for rm/cluster/cluster_frame.c: a frame round-trips through the STOMP
 * parser with its MAC; a changed byte, another key, a missing mac, a frame for another
 * node are dropped with their reason; the replay/incarnation/gap decisions; usage
 * lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_frame.h"

static const unsigned char KEY[] = "0123456789abcdef-cluster-key";
#define KEYLEN (sizeof KEY - 1)

static void msg_init(struct cluster_msg *m, enum stomp_command cmd, enum cluster_type t,
		     const char *body)
{
	memset(m, 0, sizeof *m);
	m->cmd = cmd;
	m->type = t;
	snprintf(m->from, sizeof m->from, "rm-a");
	snprintf(m->to, sizeof m->to, "rm-b");
	m->inc = 1764680000123ULL;
	m->seq = 7;
	m->ts = 1764680001000ULL;
	m->body = body;
	m->body_len = body ? strlen(body) : 0;
}

/* Parse buf (len bytes) as one frame into *f; the parser is returned to free. */
static stomp_parser_t *parse(const char *buf, size_t len, stomp_frame_t *f)
{
	stomp_parser_t *p = stomp_parser_new(NULL);
	size_t used = 0;
	char err[128];

	assert_non_null(p);
	assert_int_equal(stomp_parser_feed(p, buf, len, &used, f, NULL, err, sizeof err),
			 STOMP_FRAME);
	return p;
}

static enum cluster_drop roundtrip(const char *buf, size_t len, const unsigned char *key,
				   size_t keylen, const char *me, struct cluster_msg *out)
{
	stomp_frame_t f;
	stomp_parser_t *p = parse(buf, len, &f);
	enum cluster_drop d = cluster_frame_decode(&f, key, keylen, me, out);
	if (out->body) { /* copy out before the parser goes */
		static char keep[4096];
		memcpy(keep, out->body, out->body_len);
		keep[out->body_len] = '\0';
		out->body = keep;
	}
	stomp_parser_free(p);
	return d;
}

static void test_roundtrip(void **state)
{
	struct cluster_msg m, got;
	char buf[4096];
	size_t n;

	msg_init(&m, STOMP_CMD_SEND, CLUSTER_T_DELTA, "t 3 acme\nm 1 sip:127.0.0.1:5070\n");
	n = cluster_frame_encode(buf, sizeof buf, &m, KEY, KEYLEN);
	assert_true(n > 0 && n < sizeof buf);
	assert_int_equal(roundtrip(buf, n, KEY, KEYLEN, "rm-b", &got), CLUSTER_DROP_NONE);
	assert_int_equal(got.type, CLUSTER_T_DELTA);
	assert_string_equal(got.from, "rm-a");
	assert_int_equal(got.inc, m.inc);
	assert_int_equal(got.seq, 7);
	assert_int_equal(got.ts, m.ts);
	assert_int_equal(got.body_len, m.body_len);
	assert_memory_equal(got.body, m.body, m.body_len);

	msg_init(&m, STOMP_CMD_CONNECT, CLUSTER_T_HELLO, NULL);
	n = cluster_frame_encode(buf, sizeof buf, &m, KEY, KEYLEN);
	assert_int_equal(roundtrip(buf, n, KEY, KEYLEN, "rm-b", &got), CLUSTER_DROP_NONE);
	assert_int_equal(got.cmd, STOMP_CMD_CONNECT);
	assert_int_equal(got.type, CLUSTER_T_HELLO);

	/* snprintf-style: too small a buffer says how much is needed */
	assert_true(cluster_frame_encode(buf, 10, &m, KEY, KEYLEN) >= 10);
	/* invalid: hello on SEND, a node id with a colon */
	msg_init(&m, STOMP_CMD_SEND, CLUSTER_T_HELLO, NULL);
	assert_int_equal(cluster_frame_encode(buf, sizeof buf, &m, KEY, KEYLEN), 0);
	msg_init(&m, STOMP_CMD_SEND, CLUSTER_T_HB, NULL);
	snprintf(m.from, sizeof m.from, "a:b");
	assert_int_equal(cluster_frame_encode(buf, sizeof buf, &m, KEY, KEYLEN), 0);
}

static void test_forged(void **state)
{
	struct cluster_msg m, got;
	char buf[4096];
	size_t n;

	msg_init(&m, STOMP_CMD_SEND, CLUSTER_T_STATE, "t 3 acme\n");
	n = cluster_frame_encode(buf, sizeof buf, &m, KEY, KEYLEN);
	/* another key */
	assert_int_equal(roundtrip(buf, n, (const unsigned char *)"another-key-0123456", 19,
				   "rm-b", &got),
			 CLUSTER_DROP_BAD_MAC);
	/* a changed body byte: "t 9 acme" */
	char *b = strstr(buf, "t 3 acme");
	assert_non_null(b);
	b[2] = '9';
	assert_int_equal(roundtrip(buf, n, KEY, KEYLEN, "rm-b", &got), CLUSTER_DROP_BAD_MAC);
	b[2] = '3';
	/* a changed seq header (replay under a new number) */
	char *s = strstr(buf, "seq:7");
	assert_non_null(s);
	s[4] = '8';
	assert_int_equal(roundtrip(buf, n, KEY, KEYLEN, "rm-b", &got), CLUSTER_DROP_BAD_MAC);
	s[4] = '7';
	/* a frame for rm-c, and one claiming to come from me */
	assert_int_equal(roundtrip(buf, n, KEY, KEYLEN, "rm-c", &got), CLUSTER_DROP_WRONG_NODE);
	assert_int_equal(roundtrip(buf, n, KEY, KEYLEN, "rm-b", &got), CLUSTER_DROP_NONE);

	/* no mac at all */
	const char nomac[] = "SEND\ntype:hb\nfrom:rm-a\nto:rm-b\ninc:1\nseq:1\nts:1\n\n";
	assert_int_equal(roundtrip(nomac, sizeof nomac, KEY, KEYLEN, "rm-b", &got),
			 CLUSTER_DROP_UNAUTHENTICATED);
	/* malformed: unknown type, seq not a number, missing from */
	const char bad1[] = "SEND\ntype:zap\nfrom:rm-a\nto:rm-b\ninc:1\nseq:1\nts:1\nmac:00\n\n";
	const char bad2[] = "SEND\ntype:hb\nfrom:rm-a\nto:rm-b\ninc:1\nseq:-1\nts:1\nmac:00\n\n";
	const char bad3[] = "SEND\ntype:hb\nto:rm-b\ninc:1\nseq:1\nts:1\nmac:00\n\n";
	assert_int_equal(roundtrip(bad1, sizeof bad1, KEY, KEYLEN, "rm-b", &got),
			 CLUSTER_DROP_MALFORMED);
	assert_int_equal(roundtrip(bad2, sizeof bad2, KEY, KEYLEN, "rm-b", &got),
			 CLUSTER_DROP_MALFORMED);
	assert_int_equal(roundtrip(bad3, sizeof bad3, KEY, KEYLEN, "rm-b", &got),
			 CLUSTER_DROP_MALFORMED);
	assert_string_equal(cluster_drop_name(CLUSTER_DROP_OLD_INCARNATION), "old-incarnation");
}

static void test_seq(void **state)
{
	struct cluster_seq s = { 0 };

	assert_int_equal(cluster_seq_check(&s, 100, 5), CLUSTER_SEQ_NEW_INC);
	assert_int_equal(cluster_seq_check(&s, 100, 6), CLUSTER_SEQ_NEXT);
	assert_int_equal(cluster_seq_check(&s, 100, 6), CLUSTER_SEQ_REPLAY);
	assert_int_equal(cluster_seq_check(&s, 100, 3), CLUSTER_SEQ_REPLAY);
	assert_int_equal(cluster_seq_check(&s, 100, 9), CLUSTER_SEQ_GAP);
	assert_int_equal(s.seq, 9);
	assert_int_equal(cluster_seq_check(&s, 99, 50), CLUSTER_SEQ_OLD_INC);
	assert_int_equal(s.inc, 100);
	assert_int_equal(cluster_seq_check(&s, 101, 1), CLUSTER_SEQ_NEW_INC);
	assert_int_equal(cluster_seq_check(&s, 100, 10), CLUSTER_SEQ_OLD_INC);
	assert_int_equal(cluster_seq_check(&s, 101, 2), CLUSTER_SEQ_NEXT);
}

struct got_lines {
	int n;
	int kind[8], value[8];
	char name[8][RM_URI_MAX];
};

static void on_line(void *arg, enum route_usage_kind k, int value, const char *name)
{
	struct got_lines *g = arg;
	g->kind[g->n] = k;
	g->value[g->n] = value;
	snprintf(g->name[g->n], RM_URI_MAX, "%s", name);
	g->n++;
}

static void test_usage_lines(void **state)
{
	char buf[256];
	size_t len = 0;
	struct got_lines g = { 0 };

	assert_int_equal(cluster_usage_put(buf, sizeof buf, &len, ROUTE_USAGE_TENANT, 12, "acme"), 0);
	assert_int_equal(cluster_usage_put(buf, sizeof buf, &len, ROUTE_USAGE_MCP, 0,
					   "sip:127.0.0.1:5070;transport=tcp"), 0);
	assert_int_equal(cluster_usage_put(buf, sizeof buf, &len, ROUTE_USAGE_LRG, 1, "a b"), 0);
	assert_int_equal(cluster_usage_put(buf, sizeof buf, &len, ROUTE_USAGE_LRG, 1, "a\nb"), -1);
	assert_int_equal(cluster_usage_put(buf, 8, &len, ROUTE_USAGE_LRG, 1, "toolong"), -1);
	assert_int_equal(cluster_usage_parse(buf, len, on_line, &g), 3);
	assert_int_equal(g.kind[0], ROUTE_USAGE_TENANT);
	assert_int_equal(g.value[0], 12);
	assert_string_equal(g.name[0], "acme");
	assert_string_equal(g.name[1], "sip:127.0.0.1:5070;transport=tcp");
	assert_string_equal(g.name[2], "a b");
	g.n = 0;
	assert_int_equal(cluster_usage_parse("x 1 a\n", 6, on_line, &g), -1);
	assert_int_equal(cluster_usage_parse("t -1 a\n", 7, on_line, &g), -1);
	assert_int_equal(cluster_usage_parse("t 1 a", 5, on_line, &g), -1);
	assert_int_equal(cluster_usage_parse("t 1 \n", 5, on_line, &g), -1);
	assert_int_equal(cluster_usage_parse("t 999999999999 a\n", 17, on_line, &g), -1);
	assert_int_equal(g.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_forged),
		cmocka_unit_test(test_seq),
		cmocka_unit_test(test_usage_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
