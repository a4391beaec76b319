/* Unit tests for common/cfg.c: file loading errors (with line:column), duplicate keys,
 * typed getters and the exact "FILE: WHERE.KEY: reason" sentences. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"

static char tmpdir[64];

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_cfg.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_load_ok(void **state)
{
	cfg_ctx_t c;
	char err[256];
	cJSON *root;

	cfg_ctx_init(&c, "rm.json", err, sizeof(err));
	root = cfg_load_file(&c, write_file("ok.json", "{\n  \"a\": 1\n}\n\n"));
	assert_non_null(root);
	assert_int_equal(c.failed, 0);
	assert_string_equal(err, "");
	cJSON_Delete(root);
}

static void test_load_errors(void **state)
{
	cfg_ctx_t c;
	char err[256], path[160];

	cfg_ctx_init(&c, "rm.json", err, sizeof(err));
	snprintf(path, sizeof(path), "%s/missing.json", tmpdir);
	assert_null(cfg_load_file(&c, path));
	assert_string_equal(err, "rm.json: cannot read: No such file or directory");
	assert_int_equal(c.failed, 1);

	cfg_ctx_init(&c, "rm.json", err, sizeof(err));
	assert_null(cfg_load_file(&c, write_file("bad.json", "{\n  \"a\": 1,\n  \"b\": ,\n}\n")));
	assert_string_equal(err, "rm.json:3:8: expected a value (object, array, string, number, "
				 "true, false or null); found ','");

	cfg_ctx_init(&c, "rs.json", err, sizeof(err));
	assert_null(cfg_load_file(&c, write_file("trail.json", "{}\n\n\n}\n")));
	assert_string_equal(err, "rs.json:4:1: expected the end of the file after the top-level "
				 "value; found '}'");

	cfg_ctx_init(&c, "rs.json", err, sizeof(err));
	assert_null(cfg_load_file(&c, write_file("empty.json", "")));
	assert_string_equal(err, "rs.json:1:1: expected a value (object, array, string, number, "
				 "true, false or null); found the end of the file");

	cfg_ctx_init(&c, "rs.json", err, sizeof(err));
	/* Cut short: the error is at the end, after the last line that has text. */
	assert_null(cfg_load_file(&c, write_file("open.json", "{\n\"a\": [1,\n2,\n")));
	assert_string_equal(err, "rs.json:4:1: expected a value (object, array, string, number, "
				 "true, false or null); found the end of the file");
}

/* Each syntax error: line:column and what was expected there. */
static void test_syntax_line_column(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "{\n  \"a\": 1\n  \"b\": 2\n}",
		  "rm.json:3:3: expected ',' or '}' after a member; found '\"'" },
		{ "{\n  \"a\": [1, 2 3]\n}",
		  "rm.json:2:14: expected ',' or ']' after an element; found '3'" },
		{ "{ \"a\" 1 }", "rm.json:1:7: expected ':' after the key; found '1'" },
		{ "{ \"a\": 1, }",
		  "rm.json:1:11: expected a key after ',' (JSON allows no trailing comma)" },
		{ "[1,\n]", "rm.json:2:1: expected a value after ',' (JSON allows no trailing comma)" },
		{ "{ a: 1 }", "rm.json:1:3: expected a key in double quotes or '}'; found 'a'" },
		{ "{\n// note\n}",
		  "rm.json:2:1: expected a key in double quotes or '}'; found a comment (JSON has none)" },
		{ "{ \"a\": \"x\ty\" }",
		  "rm.json:1:10: raw control character 0x09 in a string (write it as an escape such "
		  "as \\n or \\t)" },
		{ "{ \"a\": \"\\q\" }",
		  "rm.json:1:9: invalid escape in a string (valid: \\\" \\\\ \\/ \\b \\f \\n "
		  "\\r \\t \\uXXXX)" },
		{ "{ \"a\": 01 }", "rm.json:1:9: invalid number: no leading zeros" },
		{ "{ \"a\": 1. }", "rm.json:1:10: invalid number: expected a digit after '.'" },
		{ "{ \"a\": tru }",
		  "rm.json:1:8: expected a value (object, array, string, number, true, false or "
		  "null); found 't'" },
		{ "{ \"\u00e9t\u00e9\": 1 x }",
		  "rm.json:1:12: expected ',' or '}' after a member; found 'x'" },
		{ "{ \"a\": \"open\n}", "rm.json:1:8: a string is not closed on its line (missing '\"')" },
		{ "{ \"a\": \"open", "rm.json:1:8: a string is not closed before the end of the file "
				  "(missing '\"')" },
		{ "{ \"a\": 'x' }",
		  "rm.json:1:8: expected a value; strings take double quotes, not '" },
		/* a backslash as the last byte: the string is what is not closed */
		{ "{ \"a\": \"x\\", "rm.json:1:8: a string is not closed before the end of the file "
				   "(missing '\"')" },
	};
	cfg_ctx_t c;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cfg_ctx_init(&c, "rm.json", err, sizeof(err));
		assert_null(cfg_parse_text(&c, cases[i].text, strlen(cases[i].text)));
		assert_int_equal(c.failed, 1);
		if (strcmp(err, cases[i].err) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err, cases[i].err);
	}
	/* A backslash before a NUL byte is no escape (a NUL must not pass for one). */
	cfg_ctx_init(&c, "rm.json", err, sizeof(err));
	assert_null(cfg_parse_text(&c, "{ \"a\": \"\\\0\" }", 11));
	assert_string_equal(err, "rm.json:1:9: invalid escape in a string (valid: \\\" \\\\ "
				 "\\/ \\b \\f \\n \\r \\t \\uXXXX)");
}

/* A repeated key anywhere is refused, naming its path; equal keys in different
 * objects are fine. */
static void test_duplicate_keys(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "{ \"sip\": { \"port\": 5060, \"listen\": \"127.0.0.1\", \"port\": 5070 } }",
		  "rm.json: sip.port: duplicate key: given more than once in the same object; "
		  "keep one" },
		{ "{ \"node\": \"a\", \"http\": {}, \"node\": \"b\" }",
		  "rm.json: node: duplicate key: given more than once in the same object; keep one" },
		{ "{ \"lrgs\": [ { \"name\": \"a\" }, { \"name\": \"b\", \"name\": \"c\" } ] }",
		  "rm.json: lrgs[1].name: duplicate key: given more than once in the same object; "
		  "keep one" },
		{ "{ \"a\": { \"b\": [ [ { \"x\": 1, \"x\": 1 } ] ] } }",
		  "rm.json: a.b[0][0].x: duplicate key: given more than once in the same object; "
		  "keep one" },
	};
	const char *fine = "{ \"a\": { \"port\": 1 }, \"b\": { \"port\": 1 }, "
			   "\"c\": [ { \"port\": 1 }, { \"port\": 2 } ] }";
	cfg_ctx_t c;
	char err[256];
	cJSON *root;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cfg_ctx_init(&c, "rm.json", err, sizeof(err));
		assert_null(cfg_parse_text(&c, cases[i].text, strlen(cases[i].text)));
		if (strcmp(err, cases[i].err) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err, cases[i].err);
	}
	cfg_ctx_init(&c, "rm.json", err, sizeof(err));
	root = cfg_parse_text(&c, fine, strlen(fine));
	assert_non_null(root);
	assert_string_equal(err, "");
	cJSON_Delete(root);

	/* Through the file loader too. */
	cfg_ctx_init(&c, "rs.json", err, sizeof(err));
	assert_null(cfg_load_file(&c, write_file("dup.json",
						 "{\n \"stomp\": {\"port\": 1},\n \"stomp\": {}\n}\n")));
	assert_string_equal(err, "rs.json: stomp: duplicate key: given more than once in the same "
				 "object; keep one");
}

static cJSON *parse(const char *s)
{
	cJSON *j = cJSON_Parse(s);

	assert_non_null(j);
	return j;
}

static void test_enum_message_from_the_header(void **state)
{
	static const char *const schemes[] = { "round-robin", "least-used", "least-percent",
					       "weighted", NULL };
	cJSON *root = parse("{\"scheme\":\"rr\"}");
	cfg_ctx_t c;
	char err[256];
	int v = -1;

	cfg_ctx_init(&c, "rm.json", err, sizeof(err));
	assert_int_equal(cfg_enum(&c, root, "lrg \"ivr\"", "scheme", true, 0, schemes, &v), -1);
	assert_string_equal(err, "rm.json: lrg \"ivr\".scheme: expected one of round-robin, "
				 "least-used, least-percent, weighted; got \"rr\"");
	cJSON_Delete(root);

	root = parse("{\"scheme\":\"weighted\"}");
	cfg_ctx_init(&c, "rm.json", err, sizeof(err));
	assert_int_equal(cfg_enum(&c, root, "", "scheme", true, 0, schemes, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(cfg_enum(&c, root, "", "other", false, 1, schemes, &v), 0);
	assert_int_equal(v, 1);
	cJSON_Delete(root);
}

/* Run one getter over {"k": VALUE} and compare the message. */
#define EXPECT_FAIL(json, call, want)                                          \
	do {                                                                   \
		cJSON *root_ = parse(json);                                    \
		cfg_ctx_t c_;                                                  \
		char err_[256];                                                \
		cfg_ctx_init(&c_, "rs.json", err_, sizeof(err_));              \
		cfg_ctx_t *c = &c_;                                            \
		cJSON *o = root_;                                              \
		assert_int_equal(call, -1);                                    \
		assert_string_equal(err_, want);                               \
		(void)o;                                                       \
		cJSON_Delete(root_);                                           \
	} while (0)

static void test_type_errors(void **state)
{
	char s[16];
	long long i;
	double d;
	bool b;

	EXPECT_FAIL("{\"k\":5}", cfg_str(c, o, "http", "k", true, NULL, s, sizeof(s)),
		    "rs.json: http.k: expected a string; got 5");
	EXPECT_FAIL("{\"k\":\"0123456789abcdef\"}",
		    cfg_str(c, o, "http", "k", true, NULL, s, sizeof(s)),
		    "rs.json: http.k: too long (at most 15 characters); got 16");
	EXPECT_FAIL("{}", cfg_str(c, o, "db", "path", true, NULL, s, sizeof(s)),
		    "rs.json: db.path: is required");
	EXPECT_FAIL("{\"port\":70000}", cfg_int(c, o, "stomp", "port", true, 0, 1, 65535, &i),
		    "rs.json: stomp.port: expected an integer in 1..65535; got 70000");
	EXPECT_FAIL("{\"port\":1.5}", cfg_int(c, o, "stomp", "port", true, 0, 1, 65535, &i),
		    "rs.json: stomp.port: expected an integer in 1..65535; got 1.5");
	EXPECT_FAIL("{\"port\":\"80\"}", cfg_int(c, o, "", "port", true, 0, 1, 65535, &i),
		    "rs.json: port: expected an integer in 1..65535; got \"80\"");
	EXPECT_FAIL("{\"port\":1e300}", cfg_int(c, o, "", "port", true, 0, 1, 65535, &i),
		    "rs.json: port: expected an integer in 1..65535; got 1.0000000000000001e+300");
	EXPECT_FAIL("{\"r\":2}", cfg_double(c, o, "x", "r", true, 0, 0, 1, &d),
		    "rs.json: x.r: expected a number in 0..1; got 2");
	EXPECT_FAIL("{\"r\":null}", cfg_double(c, o, "x", "r", true, 0, 0, 1, &d),
		    "rs.json: x.r: expected a number in 0..1; got null");
	EXPECT_FAIL("{\"on\":\"yes\"}", cfg_bool(c, o, "log", "on", false, false, &b),
		    "rs.json: log.on: expected true or false; got \"yes\"");
	EXPECT_FAIL("{\"lrg\":[]}", cfg_object(c, o, "", "lrg", false) ? 0 : -1,
		    "rs.json: lrg: expected an object; got an array");
	EXPECT_FAIL("{\"peers\":{}}", cfg_array(c, o, "cluster", "peers", false) ? 0 : -1,
		    "rs.json: cluster.peers: expected an array; got an object");
	EXPECT_FAIL("{}", cfg_array(c, o, "cluster", "peers", true) ? 0 : -1,
		    "rs.json: cluster.peers: is required");
}

static void test_getters_ok_and_defaults(void **state)
{
	cJSON *root = parse("{\"s\":\"hi\",\"i\":-42,\"d\":0.25,\"b\":true,\"o\":{\"x\":1},"
			    "\"a\":[1,2],\"big\":9007199254740991}");
	cfg_ctx_t c;
	char err[256], s[16];
	long long i;
	double d;
	bool b;

	cfg_ctx_init(&c, "rs.json", err, sizeof(err));
	assert_int_equal(cfg_str(&c, root, "", "s", true, NULL, s, sizeof(s)), 0);
	assert_string_equal(s, "hi");
	assert_int_equal(cfg_str(&c, root, "", "none", false, "dflt", s, sizeof(s)), 0);
	assert_string_equal(s, "dflt");
	assert_int_equal(cfg_int(&c, root, "", "i", true, 0, -100, 100, &i), 0);
	assert_int_equal(i, -42);
	assert_int_equal(cfg_int(&c, root, "", "none", false, 7, 0, 10, &i), 0);
	assert_int_equal(i, 7);
	assert_int_equal(cfg_int(&c, root, "", "big", true, 0, 0, 9007199254740991LL, &i), 0);
	assert_int_equal(i, 9007199254740991LL);
	assert_int_equal(cfg_double(&c, root, "", "d", true, 0, 0, 1, &d), 0);
	assert_true(d == 0.25);
	assert_int_equal(cfg_double(&c, root, "", "none", false, 1.5, 0, 2, &d), 0);
	assert_true(d == 1.5);
	assert_int_equal(cfg_bool(&c, root, "", "b", true, false, &b), 0);
	assert_true(b);
	assert_int_equal(cfg_bool(&c, NULL, "", "b", false, false, &b), 0); /* NULL obj */
	assert_false(b);
	assert_non_null(cfg_object(&c, root, "", "o", true));
	assert_non_null(cfg_array(&c, root, "", "a", true));
	assert_null(cfg_object(&c, root, "", "none", false));
	assert_int_equal(c.failed, 0);
	assert_string_equal(err, "");
	cJSON_Delete(root);
}

static void test_first_error_wins(void **state)
{
	cJSON *root = parse("{\"a\":1,\"b\":\"x\"}");
	cfg_ctx_t c;
	char err[256], s[8];
	long long i = 99;

	cfg_ctx_init(&c, "rm.json", err, sizeof(err));
	assert_int_equal(cfg_str(&c, root, "", "a", true, NULL, s, sizeof(s)), -1);
	/* Later calls are no-ops returning -1, even valid ones, and keep the message. */
	assert_int_equal(cfg_int(&c, root, "", "a", true, 0, 0, 9, &i), -1);
	assert_int_equal(i, 99);
	assert_int_equal(cfg_int(&c, root, "", "b", true, 0, 0, 9, &i), -1);
	assert_int_equal(cfg_fail(&c, "x", "y", "other"), -1);
	assert_string_equal(err, "rm.json: a: expected a string; got 1");
	cJSON_Delete(root);
}

static void test_fail_formats(void **state)
{
	cfg_ctx_t c;
	char err[256];

	cfg_ctx_init(&c, "rm.json", err, sizeof(err));
	cfg_fail(&c, "lrg \"ivr\"", "mcps", "needs at least %d entries", 1);
	assert_string_equal(err, "rm.json: lrg \"ivr\".mcps: needs at least 1 entries");
	cfg_ctx_init(&c, "rm.json", err, sizeof(err));
	cfg_fail(&c, "lrg \"ivr\"", NULL, "is empty");
	assert_string_equal(err, "rm.json: lrg \"ivr\": is empty");
	cfg_ctx_init(&c, "rm.json", err, sizeof(err));
	cfg_fail(&c, "", "", "root must be an object");
	assert_string_equal(err, "rm.json: root must be an object");
	/* A tiny buffer truncates but stays terminated. */
	char small[8];
	cfg_ctx_init(&c, "rm.json", small, sizeof(small));
	cfg_fail(&c, "a", "b", "long reason");
	assert_string_equal(small, "rm.json");
}

static void test_no_unknown(void **state)
{
	static const char *const known[] = { "scheme", "mcps", "weight", NULL };
	cJSON *root = parse("{\"scheme\":\"x\",\"mcps\":[],\"schme\":1}");
	cfg_ctx_t c;
	char err[256];

	cfg_ctx_init(&c, "rm.json", err, sizeof(err));
	assert_int_equal(cfg_no_unknown(&c, root, "lrg \"ivr\"", known), -1);
	assert_string_equal(err, "rm.json: lrg \"ivr\".schme: unknown key (did you mean "
				 "\"scheme\"?)");
	cJSON_Delete(root);
	root = parse("{\"zzzzzz\":1}");
	cfg_ctx_init(&c, "rm.json", err, sizeof(err));
	assert_int_equal(cfg_no_unknown(&c, root, "", known), -1);
	assert_string_equal(err, "rm.json: zzzzzz: unknown key");
	cJSON_Delete(root);
	root = parse("{\"weight\":1}");
	cfg_ctx_init(&c, "rm.json", err, sizeof(err));
	assert_int_equal(cfg_no_unknown(&c, root, "", known), 0);
	assert_int_equal(cfg_no_unknown(&c, NULL, "", known), 0);
	cJSON_Delete(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_ok),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_syntax_line_column),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_enum_message_from_the_header),
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_getters_ok_and_defaults),
		cmocka_unit_test(test_first_error_wins),
		cmocka_unit_test(test_fail_formats),
		cmocka_unit_test(test_no_unknown),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
