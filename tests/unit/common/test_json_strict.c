/* Unit tests for common/json_strict.c: what strict RFC 8259 accepts, what it refuses
 * (each refusal names the JSON path and the reason), and record_decode refusing the
 * same texts before cJSON sees them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "json_strict.h"
#include "record.h"

/* check() with an explicit length (texts below may hold NUL bytes). */
static int chk(const char *t, size_t n, char *path, char *err)
{
	path[0] = err[0] = '\0';
	return json_strict_check(t, n, path, 64, err, 256);
}

#define OK(lit)                                                                \
	do {                                                                   \
		char p_[64], e_[256];                                          \
		int rc_ = chk(lit, sizeof(lit) - 1, p_, e_);                   \
		if (rc_)                                                       \
			fail_msg("refused %s: %s: %s", lit, p_, e_);           \
	} while (0)

/* Refused, naming `path` and a reason containing `why`. */
#define BAD(lit, path, why)                                                    \
	do {                                                                   \
		char p_[64], e_[256];                                          \
		assert_int_equal(chk(lit, sizeof(lit) - 1, p_, e_), -1);       \
		assert_string_equal(p_, path);                                 \
		if (!strstr(e_, why))                                          \
			fail_msg("%s: reason '%s' lacks '%s'", lit, e_, why);  \
	} while (0)

static void test_accepts(void **state)
{
	OK("{}");
	OK("[]");
	OK(" {\"a\" : [1, -0, 0.5, -1.25e+10, 2E-3, true, false, null, \"x\"]}\r\n\t");
	OK("0");
	OK("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\u00e9\\ud83d\\ude00\"");
	OK("{\"caf\xc3\xa9\":\"\xe2\x82\xac \xf0\x9f\x98\x80\"}");
	OK("{\"a\":1,\"a\":2}"); /* duplicate names: RFC 8259 says SHOULD, not MUST */
}

static void test_control_characters(void **state)
{
	BAD("{\"call_id\":\"a\tb\"}", "call_id", "raw control character 0x09");
	BAD("{\"call_id\":\"a\nb\"}", "call_id", "0x0a");
	BAD("{\"tags\":{\"x\":\"\x1f\"}}", "tags.x", "0x1f");
	BAD("{\"l\":[1,\"ok\",\"\x01\"]}", "l[2]", "control character");
}

static void test_numbers(void **state)
{
	BAD("{\"start_ms\":01}", "start_ms", "leading zero");
	BAD("{\"start_ms\":-01}", "start_ms", "leading zero");
	BAD("{\"n\":00}", "n", "leading zero");
	BAD("{\"n\":1.}", "n", "digit must follow '.'");
	BAD("{\"n\":.5}", "n", "expected a JSON value");
	BAD("{\"n\":1e}", "n", "exponent");
	BAD("{\"n\":-}", "n", "digit must follow '-'");
	BAD("{\"n\":+1}", "n", "expected a JSON value");
	BAD("{\"n\":0x10}", "(body)", "expected ',' or '}'");
	BAD("{\"n\":NaN}", "n", "expected a JSON value");
	BAD("{\"n\":Infinity}", "n", "expected a JSON value");
}

static void test_nul(void **state)
{
	BAD("{\"id\":\"NUL-A\\u0000first\"}", "id", "\\u0000");
	BAD("{\"id\":\"a\0b\"}", "id", "NUL");
	BAD("{\"id\":\"a\"}\0", "(body)", "NUL");
	BAD("{\"id\":\0}", "id", "NUL");
	BAD("{\"x\\u0000\":1}", "(body)", "\\u0000"); /* in a member name */
}

static void test_utf8(void **state)
{
	BAD("{\"caller\":\"\xff\"}", "caller", "invalid UTF-8");
	BAD("{\"caller\":\"\xc0\xaf\"}", "caller", "invalid UTF-8");         /* overlong */
	BAD("{\"caller\":\"\xed\xa0\x80\"}", "caller", "invalid UTF-8");     /* surrogate */
	BAD("{\"caller\":\"\xf4\x90\x80\x80\"}", "caller", "invalid UTF-8"); /* > 10FFFF */
	BAD("{\"caller\":\"\xe2\x82\"}", "caller", "invalid UTF-8");         /* cut */
	BAD("{\"s\":\"\\ud800\"}", "s", "high surrogate");
	BAD("{\"s\":\"\\udc00\"}", "s", "low surrogate");
	BAD("{\"s\":\"\\ud800\\u0041\"}", "s", "high surrogate");
	BAD("\xef\xbb\xbf{}", "(body)", "byte-order mark");
}

static void test_syntax(void **state)
{
	BAD("{\"a\":1} x", "(body)", "text after the JSON value");
	BAD("{\"a\":1}{}", "(body)", "text after");
	BAD("", "(body)", "unexpected end");
	BAD("{\"a\":1,}", "(body)", "member name after ','");
	BAD("[1,]", "[1]", "expected a JSON value");
	BAD("{'a':1}", "(body)", "member name");
	BAD("{\"a\" 1}", "a", "':'");
	BAD("{\"s\":\"\\x\"}", "s", "invalid escape");
	BAD("{\"s\":\"\\u12g4\"}", "s", "4 hex digits");
	BAD("{\"s\":\"abc", "s", "unterminated");
	BAD("{\"a\":tru}", "a", "expected a JSON value");
	BAD("{\"a\":\f1}", "a", "expected a JSON value"); /* form feed is not whitespace */
}

static void test_depth_and_long_path(void **state)
{
	char deep[2 * JSON_STRICT_MAX_DEPTH + 8], path[64], err[256];
	size_t n = 0;

	for (int i = 0; i <= JSON_STRICT_MAX_DEPTH; i++)
		deep[n++] = '[';
	for (int i = 0; i <= JSON_STRICT_MAX_DEPTH; i++)
		deep[n++] = ']';
	assert_int_equal(chk(deep, n, path, err), -1);
	assert_non_null(strstr(err, "nested deeper"));
	/* One level less is fine. */
	assert_int_equal(chk(deep + 1, n - 2, path, err), 0);

	char big[600];
	snprintf(big, sizeof(big), "{\"%0300d\":{\"y\":01}}", 7);
	assert_int_equal(json_strict_check(big, strlen(big), path, sizeof(path), err,
					   sizeof(err)),
			 -1);
	assert_true(strlen(path) < sizeof(path));
	assert_non_null(strstr(err, "leading zero"));
	/* NULL buffers are allowed. */
	assert_int_equal(json_strict_check("01", 2, NULL, 0, NULL, 0), -1);
}

/* record_decode refuses the same texts (strict check before cJSON) and names the
 * field; ids are never cut at an escaped NUL. */
static void test_record_decode_strict(void **state)
{
	static const char tab[] =
		"{\"id\":\"r1\",\"schema\":1,\"call_id\":\"a\tb\",\"node\":\"n\","
		"\"start_ms\":1,\"end_ms\":2,\"duration_ms\":0,\"disposition\":\"failed\","
		"\"sip_status\":500,\"ended_by\":\"rm\"}";
	static const char nul[] =
		"{\"id\":\"NUL-A\\u0000first\",\"schema\":1,\"call_id\":\"c\",\"node\":\"n\","
		"\"start_ms\":1,\"end_ms\":2,\"duration_ms\":0,\"disposition\":\"failed\","
		"\"sip_status\":500,\"ended_by\":\"rm\"}";
	static const char zero[] =
		"{\"id\":\"r1\",\"schema\":1,\"call_id\":\"c\",\"node\":\"n\","
		"\"start_ms\":01,\"end_ms\":2,\"duration_ms\":0,\"disposition\":\"failed\","
		"\"sip_status\":500,\"ended_by\":\"rm\"}";
	record_t r;
	char field[64], err[256], id[129];

	assert_int_equal(record_decode(tab, sizeof(tab) - 1, &r, field, sizeof(field), err,
				       sizeof(err)),
			 -1);
	assert_string_equal(field, "call_id");
	assert_int_equal(record_decode(nul, sizeof(nul) - 1, &r, field, sizeof(field), err,
				       sizeof(err)),
			 -1);
	assert_string_equal(field, "id");
	assert_int_equal(record_decode(zero, sizeof(zero) - 1, &r, field, sizeof(field), err,
				       sizeof(err)),
			 -1);
	assert_string_equal(field, "start_ms");
	assert_int_equal(record_check_envelope(nul, sizeof(nul) - 1, id, sizeof(id), field,
					       sizeof(field), err, sizeof(err)),
			 -1);
	assert_string_equal(field, "id");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_control_characters),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_depth_and_long_path),
		cmocka_unit_test(test_record_decode_strict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
