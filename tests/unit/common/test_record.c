/* Unit tests for common/record.c: schema-1 decode, validation errors naming the
 * field, encode (JSON escaping) and round trips, the event/metrics envelope. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "record.h"

static const char full[] =
	"{\"id\":\"rec-1\",\"schema\":1,\"call_id\":\"abc@10.0.0.1\","
	"\"session_id\":\"0f8e\",\"node\":\"rm-a\",\"tenant\":\"t1\",\"profile\":\"ivr\","
	"\"service_type\":\"voicexml\",\"lrg\":\"pool\",\"mcp\":\"sip:mcp1@10.0.0.5:5070\","
	"\"caller\":\"alice\",\"dnis\":\"800\",\"start_ms\":1700000000000,"
	"\"answer_ms\":1700000001000,\"end_ms\":1700000061000,\"duration_ms\":60000,"
	"\"disposition\":\"answered\",\"sip_status\":200,\"ended_by\":\"caller\","
	"\"attempts\":2,\"usage_level\":\"L2\",\"extra\":{\"kept\":true}}";

static void test_decode_full(void **state)
{
	record_t r;
	char field[32], err[256];

	assert_int_equal(record_decode(full, strlen(full), &r, field, sizeof(field), err,
				       sizeof(err)),
			 0);
	assert_string_equal(r.id, "rec-1");
	assert_int_equal(r.schema, 1);
	assert_string_equal(r.call_id, "abc@10.0.0.1");
	assert_string_equal(r.session_id, "0f8e");
	assert_string_equal(r.node, "rm-a");
	assert_string_equal(r.tenant, "t1");
	assert_string_equal(r.profile, "ivr");
	assert_string_equal(r.service_type, "voicexml");
	assert_string_equal(r.lrg, "pool");
	assert_string_equal(r.mcp, "sip:mcp1@10.0.0.5:5070");
	assert_string_equal(r.caller, "alice");
	assert_string_equal(r.dnis, "800");
	assert_int_equal(r.start_ms, 1700000000000LL);
	assert_int_equal(r.answer_ms, 1700000001000LL);
	assert_int_equal(r.end_ms, 1700000061000LL);
	assert_int_equal(r.duration_ms, 60000);
	assert_int_equal(r.disposition, REC_ANSWERED);
	assert_int_equal(r.sip_status, 200);
	assert_int_equal(r.ended_by, REC_BY_CALLER);
	assert_int_equal(r.attempts, 2);
	assert_int_equal(r.usage_level, 2);
}

static const char minimal[] =
	"{\"id\":\"r\",\"schema\":1,\"call_id\":\"c\",\"node\":\"n\",\"start_ms\":5,"
	"\"end_ms\":9,\"duration_ms\":0,\"disposition\":\"rejected\",\"sip_status\":503,"
	"\"ended_by\":\"rm\"}";

static void test_decode_minimal_defaults(void **state)
{
	record_t r;
	char field[32], err[256];

	assert_int_equal(record_decode(minimal, strlen(minimal), &r, field, sizeof(field), err,
				       sizeof(err)),
			 0);
	assert_string_equal(r.tenant, "");
	assert_string_equal(r.mcp, "");
	assert_int_equal(r.answer_ms, 0);
	assert_int_equal(r.attempts, 0);
	assert_int_equal(r.usage_level, 0);
	assert_int_equal(r.disposition, REC_REJECTED);
	assert_int_equal(r.ended_by, REC_BY_RM);
}

/* Input need not be NUL-terminated: only len bytes are read. */
static void test_decode_not_nul_terminated(void **state)
{
	size_t n = strlen(minimal);
	char *buf = malloc(n + 8);
	record_t r;
	char field[32], err[256];

	memcpy(buf, minimal, n);
	memcpy(buf + n, "garbage!", 8);
	assert_int_equal(record_decode(buf, n, &r, field, sizeof(field), err, sizeof(err)), 0);
	assert_string_equal(r.id, "r");
	/* A short length cuts the object: that is a body error. */
	assert_int_equal(record_decode(buf, n - 1, &r, field, sizeof(field), err, sizeof(err)),
			 -1);
	assert_string_equal(field, "(body)");
	free(buf);
}

/* Take `minimal`, set key to val (taking ownership) or delete it when val is NULL,
 * decode; return 0 or -1 with field/err. */
static int decode_with(const char *key, cJSON *val, char *field, char *err)
{
	cJSON *o = cJSON_Parse(minimal);
	record_t r;
	char *text;
	int rc;

	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	if (val)
		cJSON_AddItemToObject(o, key, val);
	text = cJSON_PrintUnformatted(o);
	rc = record_decode(text, strlen(text), &r, field, 32, err, 256);
	free(text);
	cJSON_Delete(o);
	return rc;
}

static void test_each_required_missing(void **state)
{
	static const char *const req[] = { "id",	  "schema",	 "call_id",
					   "node",	  "start_ms",	 "end_ms",
					   "duration_ms", "disposition", "sip_status",
					   "ended_by" };
	char field[32], err[256], want[128];

	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		assert_int_equal(decode_with(req[i], NULL, field, err), -1);
		assert_string_equal(field, req[i]);
		snprintf(want, sizeof(want), "field '%s' is required", req[i]);
		assert_string_equal(err, want);
	}
	/* The optional ones may be missing. */
	static const char *const opt[] = { "session_id", "tenant", "profile",
					   "service_type", "lrg", "mcp", "caller", "dnis",
					   "answer_ms", "attempts", "usage_level" };
	for (size_t i = 0; i < sizeof(opt) / sizeof(opt[0]); i++)
		assert_int_equal(decode_with(opt[i], NULL, field, err), 0);
}

struct bad {
	const char *field;
	const char *json; /* the bad value */
	const char *err;  /* expected sentence, or NULL to check only the field */
};

static void test_each_bad_field(void **state)
{
	static const struct bad bad[] = {
		{ "id", "7", "field 'id': expected string, got 7" },
		{ "id", "\"\"", "field 'id': expected string of 1..128 bytes, got 0 bytes" },
		{ "schema", "2", "field 'schema': expected integer 1, got 2" },
		{ "schema", "\"1\"", "field 'schema': expected integer 1, got \"1\"" },
		{ "schema", "1.5", NULL },
		{ "call_id", "null", "field 'call_id': expected string, got null" },
		{ "call_id", "\"\"", NULL },
		{ "session_id", "[]", "field 'session_id': expected string, got an array" },
		{ "node", "{}", "field 'node': expected string, got an object" },
		{ "tenant", "true", "field 'tenant': expected string, got true" },
		{ "profile", "1", NULL },
		{ "service_type", "false", NULL },
		{ "lrg", "0", NULL },
		{ "mcp", "[1]", NULL },
		{ "caller", "{}", NULL },
		{ "dnis", "12345", NULL },
		{ "start_ms", "\"5\"", "field 'start_ms': expected integer >= 0, got \"5\"" },
		{ "start_ms", "-1", "field 'start_ms': expected integer >= 0, got -1" },
		{ "start_ms", "1e300", NULL },
		{ "answer_ms", "\"x\"",
		  "field 'answer_ms': expected integer >= 0 or null, got \"x\"" },
		{ "answer_ms", "10",
		  "field 'answer_ms': expected start_ms..end_ms (5..9), got 10" },
		{ "answer_ms", "4", NULL },
		{ "end_ms", "4.5", NULL },
		{ "end_ms", "4", "field 'end_ms': expected integer >= start_ms (5), got 4" },
		{ "duration_ms", "-3", NULL },
		{ "duration_ms", "4",
		  "field 'duration_ms': expected 0 (0 when not answered), got 4" },
		{ "disposition", "\"done\"",
		  "field 'disposition': expected one of "
		  "answered|cancelled|rejected|failed|timed-out, got \"done\"" },
		{ "disposition", "1", NULL },
		{ "sip_status", "\"abc\"",
		  "field 'sip_status': expected integer 100..699, got \"abc\"" },
		{ "sip_status", "99", NULL },
		{ "sip_status", "700", NULL },
		{ "ended_by", "\"bob\"",
		  "field 'ended_by': expected one of caller|mcp|rm-timeout|rm-drain|rm|"
		  "rm-keepalive|rm-peer-lost, got \"bob\"" },
		{ "attempts", "101", "field 'attempts': expected integer 0..100, got 101" },
		{ "attempts", "-1", NULL },
		{ "attempts", "null", NULL },
		{ "usage_level", "\"L4\"",
		  "field 'usage_level': expected one of L1|L2|L3, got \"L4\"" },
		{ "usage_level", "2", NULL },
	};
	char field[32], err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *v = cJSON_Parse(bad[i].json);

		assert_non_null(v);
		field[0] = err[0] = '\0';
		if (decode_with(bad[i].field, v, field, err) != -1)
			fail_msg("%s=%s accepted", bad[i].field, bad[i].json);
		if (strcmp(field, bad[i].field) != 0)
			fail_msg("%s=%s: field '%s' (%s)", bad[i].field, bad[i].json, field, err);
		if (bad[i].err)
			assert_string_equal(err, bad[i].err);
		else
			assert_non_null(strstr(err, bad[i].field));
	}
}

/* A JSON string of n 'a's. */
static cJSON *str_of(size_t n)
{
	char s[400];

	memset(s, 'a', n);
	s[n] = '\0';
	return cJSON_CreateString(s);
}

static void test_string_lengths(void **state)
{
	static const struct {
		const char *field;
		size_t max;
	} lim[] = { { "id", 128 },	    { "call_id", 255 }, { "session_id", 127 },
		    { "node", 63 },	    { "tenant", 63 },	{ "profile", 63 },
		    { "service_type", 31 }, { "lrg", 63 },	{ "mcp", 255 },
		    { "caller", 127 },	    { "dnis", 127 } };
	char field[32], err[256], want[128];

	for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		int required = !strcmp(lim[i].field, "id") || !strcmp(lim[i].field, "call_id") ||
			       !strcmp(lim[i].field, "node");

		assert_int_equal(decode_with(lim[i].field, str_of(lim[i].max), field, err), 0);
		assert_int_equal(decode_with(lim[i].field, str_of(lim[i].max + 1), field, err),
				 -1);
		assert_string_equal(field, lim[i].field);
		snprintf(want, sizeof(want),
			 "field '%s': expected string of %d..%zu bytes, got %zu bytes",
			 lim[i].field, required, lim[i].max, lim[i].max + 1);
		assert_string_equal(err, want);
		/* Empty: refused only for the required strings. */
		assert_int_equal(decode_with(lim[i].field, str_of(0), field, err),
				 required ? -1 : 0);
	}
}

static void test_answer_null_and_unknown_fields(void **state)
{
	char field[32], err[256];

	assert_int_equal(decode_with("answer_ms", cJSON_CreateNull(), field, err), 0);
	assert_int_equal(decode_with("x-vendor", cJSON_CreateString("kept"), field, err), 0);
	assert_int_equal(decode_with("nested", cJSON_CreateObject(), field, err), 0);
}

static void test_body_errors(void **state)
{
	static const char *const bodies[] = { "", "not json", "[1,2]", "\"str\"", "42",
					      "{} {}", "null" };
	record_t r;
	char field[32], err[256], id[129];

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		field[0] = '\0';
		assert_int_equal(record_decode(bodies[i], strlen(bodies[i]), &r, field,
					       sizeof(field), err, sizeof(err)),
				 -1);
		assert_string_equal(field, "(body)");
		field[0] = '\0';
		assert_int_equal(record_check_envelope(bodies[i], strlen(bodies[i]), id,
						       sizeof(id), field, sizeof(field), err,
						       sizeof(err)),
				 -1);
		assert_string_equal(field, "(body)");
	}
	record_decode("[1]", 3, &r, field, sizeof(field), err, sizeof(err));
	assert_string_equal(err, "body is not a JSON object");
	record_decode("{} x", 4, &r, field, sizeof(field), err, sizeof(err));
	assert_string_equal(err, "body: text after the JSON value (at byte 3)");
	/* A text that ends inside a member names the member. */
	assert_int_equal(record_decode("{\"id\":", 6, &r, field, sizeof(field), err,
				       sizeof(err)),
			 -1);
	assert_string_equal(field, "id");
	/* Trailing blanks are fine. */
	char buf[512];
	snprintf(buf, sizeof(buf), "%s \r\n", minimal);
	assert_int_equal(record_decode(buf, strlen(buf), &r, field, sizeof(field), err,
				       sizeof(err)),
			 0);
}

static void assert_records_equal(const record_t *a, const record_t *b)
{
	assert_string_equal(a->id, b->id);
	assert_int_equal(a->schema, b->schema);
	assert_string_equal(a->call_id, b->call_id);
	assert_string_equal(a->session_id, b->session_id);
	assert_string_equal(a->node, b->node);
	assert_string_equal(a->tenant, b->tenant);
	assert_string_equal(a->profile, b->profile);
	assert_string_equal(a->service_type, b->service_type);
	assert_string_equal(a->lrg, b->lrg);
	assert_string_equal(a->mcp, b->mcp);
	assert_string_equal(a->caller, b->caller);
	assert_string_equal(a->dnis, b->dnis);
	assert_int_equal(a->start_ms, b->start_ms);
	assert_int_equal(a->answer_ms, b->answer_ms);
	assert_int_equal(a->end_ms, b->end_ms);
	assert_int_equal(a->duration_ms, b->duration_ms);
	assert_int_equal(a->disposition, b->disposition);
	assert_int_equal(a->sip_status, b->sip_status);
	assert_int_equal(a->ended_by, b->ended_by);
	assert_int_equal(a->attempts, b->attempts);
	assert_int_equal(a->usage_level, b->usage_level);
}

static void test_encode_roundtrip(void **state)
{
	record_t a, b;
	char field[32], err[256], out[4096];
	int n;

	memset(&a, 0, sizeof(a));
	snprintf(a.id, sizeof(a.id), "id-\"quoted\"\\slash");
	a.schema = 1;
	snprintf(a.call_id, sizeof(a.call_id), "ctl\x01\x1f\t\n\r\b\f end");
	snprintf(a.node, sizeof(a.node), "n\xc3\xa9ud"); /* UTF-8 passes through */
	snprintf(a.caller, sizeof(a.caller), "\"Bob\" <sip:bob@x>");
	snprintf(a.mcp, sizeof(a.mcp), "sip:mcp@10.0.0.1:5070;transport=tcp");
	a.start_ms = 1000;
	a.answer_ms = 1500;
	a.end_ms = 4000;
	a.duration_ms = 2500;
	a.disposition = REC_TIMED_OUT;
	a.sip_status = 408;
	a.ended_by = REC_BY_RM_TIMEOUT;
	a.attempts = 3;
	a.usage_level = 3;
	n = record_encode(&a, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(out));
	assert_non_null(strstr(out, "\"id\":\"id-\\\"quoted\\\"\\\\slash\""));
	assert_non_null(strstr(out, "\"call_id\":\"ctl\\u0001\\u001f\\t\\n\\r\\b\\f end\""));
	assert_non_null(strstr(out, "\"usage_level\":\"L3\""));
	/* Empty optional strings are left out. */
	assert_null(strstr(out, "tenant"));
	assert_int_equal(record_decode(out, (size_t)n, &b, field, sizeof(field), err,
				       sizeof(err)),
			 0);
	assert_records_equal(&a, &b);

	/* The full sample decodes, encodes, decodes to the same record. */
	assert_int_equal(record_decode(full, strlen(full), &a, field, sizeof(field), err,
				       sizeof(err)),
			 0);
	n = record_encode(&a, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(record_decode(out, (size_t)n, &b, field, sizeof(field), err,
				       sizeof(err)),
			 0);
	assert_records_equal(&a, &b);
}

/* Any octet can reach a record from a SIP header: what is not well-formed UTF-8 must
 * come out as '?', byte for byte, so that rs's strict intake accepts every record rm
 * writes, also at a field's length limit (found by fuzz_sip: a Call-ID with 0xe1
 * bytes, then a 127-byte From user of 0xfb bytes, made records rs refused). */
static void test_encode_invalid_utf8(void **state)
{
	record_t a, b;
	char out[4096], field[32], err[256];
	int n;

	assert_int_equal(record_decode(full, strlen(full), &a, field, sizeof(field), err,
				       sizeof(err)),
			 0);
	snprintf(a.call_id, sizeof a.call_id, "a\xe1\xe1" "b\xc3\xa9\xed\xa0\x80\xc0\xaf" "z\xf4\x90\x80\x80");
	memset(a.caller, 0xfb, sizeof a.caller - 1);
	a.caller[sizeof a.caller - 1] = 0;
	snprintf(a.dnis, sizeof a.dnis, "\xe2\x82");
	n = record_encode(&a, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(record_decode(out, (size_t)n, &b, field, sizeof(field), err,
				       sizeof(err)),
			 0);
	/* a, 2 bad bytes, b, e-acute kept, a surrogate (3 bytes), an overlong (2 bytes),
	 * z, and a code point past U+10FFFF (4 bytes): each bad byte one '?' */
	assert_string_equal(b.call_id, "a??b\xc3\xa9?????z????");
	assert_int_equal(strlen(b.caller), sizeof a.caller - 1);
	assert_int_equal(strspn(b.caller, "?"), sizeof a.caller - 1);
	assert_string_equal(b.dnis, "??");
}

static void test_encode_exact_and_cap(void **state)
{
	record_t r;
	char field[32], err[256], out[512];
	static const char want[] =
		"{\"id\":\"r\",\"schema\":1,\"call_id\":\"c\",\"node\":\"n\",\"start_ms\":5,"
		"\"end_ms\":9,\"duration_ms\":0,\"disposition\":\"rejected\","
		"\"sip_status\":503,\"ended_by\":\"rm\",\"attempts\":0}";
	int n;

	assert_int_equal(record_decode(minimal, strlen(minimal), &r, field, sizeof(field), err,
				       sizeof(err)),
			 0);
	n = record_encode(&r, out, sizeof(out));
	assert_string_equal(out, want);
	assert_int_equal(n, sizeof(want) - 1);
	/* Needs len + 1 for the NUL; one less fails. */
	assert_int_equal(record_encode(&r, out, sizeof(want)), n);
	assert_int_equal(record_encode(&r, out, sizeof(want) - 1), -1);
	assert_int_equal(record_encode(&r, out, 0), -1);
	r.disposition = (enum record_disposition)42;
	assert_int_equal(record_encode(&r, out, sizeof(out)), -1);
}

static void test_validate_struct(void **state)
{
	record_t r;
	char field[32], err[256];

	assert_int_equal(record_decode(full, strlen(full), &r, field, sizeof(field), err,
				       sizeof(err)),
			 0);
	assert_int_equal(record_validate(&r, field, sizeof(field), err, sizeof(err)), 0);
	r.duration_ms = 1;
	assert_int_equal(record_validate(&r, field, sizeof(field), err, sizeof(err)), -1);
	assert_string_equal(field, "duration_ms");
	assert_string_equal(err, "field 'duration_ms': expected 60000 (end_ms - answer_ms), "
				 "got 1");
	r.duration_ms = 60000;
	r.usage_level = 4;
	assert_int_equal(record_validate(&r, field, sizeof(field), err, sizeof(err)), -1);
	assert_string_equal(field, "usage_level");
	r.usage_level = 0;
	r.schema = 2;
	assert_int_equal(record_validate(&r, field, sizeof(field), err, sizeof(err)), -1);
	assert_string_equal(field, "schema");
	r.schema = 1;
	memset(r.node, 'x', sizeof(r.node)); /* not terminated */
	assert_int_equal(record_validate(&r, field, sizeof(field), err, sizeof(err)), -1);
	assert_string_equal(field, "node");
}

static void test_envelope(void **state)
{
	char id[129], field[32], err[256];
	static const char ok[] = "{\"id\":\"ev-9\",\"schema\":1,\"type\":\"call.start\"}";

	assert_int_equal(record_check_envelope(ok, strlen(ok), id, sizeof(id), field,
					       sizeof(field), err, sizeof(err)),
			 0);
	assert_string_equal(id, "ev-9");
	static const char noid[] = "{\"schema\":1}";
	assert_int_equal(record_check_envelope(noid, strlen(noid), id, sizeof(id), field,
					       sizeof(field), err, sizeof(err)),
			 -1);
	assert_string_equal(field, "id");
	assert_string_equal(err, "field 'id' is required");
	static const char s2[] = "{\"id\":\"x\",\"schema\":2}";
	assert_int_equal(record_check_envelope(s2, strlen(s2), id, sizeof(id), field,
					       sizeof(field), err, sizeof(err)),
			 -1);
	assert_string_equal(field, "schema");
	static const char noschema[] = "{\"id\":\"x\"}";
	assert_int_equal(record_check_envelope(noschema, strlen(noschema), id, sizeof(id),
					       field, sizeof(field), err, sizeof(err)),
			 -1);
	assert_string_equal(field, "schema");
}

static void test_enum_names(void **state)
{
	assert_string_equal(record_disposition_name(REC_TIMED_OUT), "timed-out");
	assert_int_equal(record_disposition_parse("cancelled"), REC_CANCELLED);
	assert_int_equal(record_disposition_parse("CANCELLED"), -1);
	assert_null(record_disposition_name((enum record_disposition)9));
	assert_string_equal(record_ended_by_name(REC_BY_RM_DRAIN), "rm-drain");
	assert_int_equal(record_ended_by_parse("mcp"), REC_BY_MCP);
	assert_int_equal(record_ended_by_parse(""), -1);
	assert_int_equal(record_ended_by_parse(NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_full),
		cmocka_unit_test(test_decode_minimal_defaults),
		cmocka_unit_test(test_decode_not_nul_terminated),
		cmocka_unit_test(test_each_required_missing),
		cmocka_unit_test(test_each_bad_field),
		cmocka_unit_test(test_string_lengths),
		cmocka_unit_test(test_answer_null_and_unknown_fields),
		cmocka_unit_test(test_body_errors),
		cmocka_unit_test(test_encode_roundtrip),
		cmocka_unit_test(test_encode_invalid_utf8),
		cmocka_unit_test(test_encode_exact_and_cap),
		cmocka_unit_test(test_validate_struct),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_enum_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
