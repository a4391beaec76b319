/* Unit tests for rm/billing/cdr.c: sessions and refused calls become schema-1 records that
 * record_validate accepts, with the right durations, dispositions and ids; event
 * bodies pass the envelope check. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cdr.h"
#include "record.h"
#include "session.h"

#define T0 1700000000000LL

static void fill_session(struct session *s, char *call_id)
{
	memset(s, 0, sizeof(*s));
	s->call_id = call_id;
	s->from_tag = (char *)"ft";
	snprintf(s->profile, sizeof(s->profile), "ivr-main");
	snprintf(s->tenant, sizeof(s->tenant), "acme");
	snprintf(s->service_type, sizeof(s->service_type), "voicexml");
	snprintf(s->lrg, sizeof(s->lrg), "lrg-a");
	snprintf(s->mcp_uri, sizeof(s->mcp_uri), "sip:mcp1@10.0.0.5:5070");
	snprintf(s->caller, sizeof(s->caller), "5551234");
	snprintf(s->dnis, sizeof(s->dnis), "8001");
	snprintf(s->gvp_session_id, sizeof(s->gvp_session_id),
		 "0f8fad5b-d9cb-469f-a165-70867728950e");
	s->attempts = 1;
	s->usage_level = 2;
	s->start_ms = T0;
}

static void assert_valid(const record_t *r)
{
	char field[64] = "", err[256] = "";
	if (record_validate(r, field, sizeof(field), err, sizeof(err)) != 0)
		fail_msg("record_validate: %s: %s", field, err);
	/* and it survives the wire */
	char buf[4096];
	record_t back;
	int n = record_encode(r, buf, sizeof(buf));
	assert_true(n > 0);
	if (record_decode(buf, (size_t)n, &back, field, sizeof(field), err, sizeof(err)))
		fail_msg("record_decode: %s: %s", field, err);
	assert_string_equal(back.id, r->id);
	assert_int_equal(back.duration_ms, r->duration_ms);
	assert_int_equal(back.disposition, r->disposition);
}

static void test_answered_call(void **state)
{
	(void)state;
	struct session s;
	char cid[] = "call-1@sipserver";
	record_t r;

	fill_session(&s, cid);
	s.answer_ms = T0 + 480;
	s.end_ms = T0 + 480 + 30000;
	s.final_status = 200;
	s.ended_by = SESSION_END_CALLER;
	assert_int_equal(cdr_from_session(&s, "rm-a", &r), 0);
	assert_valid(&r);
	assert_int_equal(r.schema, 1);
	assert_int_equal(r.disposition, REC_ANSWERED);
	assert_int_equal(r.duration_ms, 30000);
	assert_int_equal(r.sip_status, 200);
	assert_int_equal(r.ended_by, REC_BY_CALLER);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(r.usage_level, 2);
	assert_string_equal(r.call_id, cid);
	assert_string_equal(r.session_id, s.gvp_session_id);
	assert_string_equal(r.tenant, "acme");
	assert_string_equal(r.profile, "ivr-main");
	assert_string_equal(r.service_type, "voicexml");
	assert_string_equal(r.lrg, "lrg-a");
	assert_string_equal(r.mcp, "sip:mcp1@10.0.0.5:5070");
	assert_string_equal(r.caller, "5551234");
	assert_string_equal(r.dnis, "8001");
	assert_string_equal(r.node, "rm-a");
	assert_int_equal(strncmp(r.id, "rm-a-1700000000000-", 19), 0);
	assert_int_equal(strlen(r.id), 19 + 36);

	/* the same call built twice gets two ids: build once, re-send the bytes */
	record_t r2;
	assert_int_equal(cdr_from_session(&s, "rm-a", &r2), 0);
	assert_string_not_equal(r.id, r2.id);
}

static void test_dispositions(void **state)
{
	(void)state;
	struct session s;
	char cid[] = "call-2";
	record_t r;

	/* caller CANCEL before the answer */
	fill_session(&s, cid);
	s.end_ms = T0 + 4000;
	s.final_status = 487;
	s.ended_by = SESSION_END_CALLER;
	assert_int_equal(cdr_from_session(&s, "rm-a", &r), 0);
	assert_valid(&r);
	assert_int_equal(r.disposition, REC_CANCELLED);
	assert_int_equal(r.duration_ms, 0);
	assert_int_equal(r.answer_ms, 0);

	/* every MCP failed */
	fill_session(&s, cid);
	s.attempts = 3;
	s.end_ms = T0 + 900;
	s.final_status = 503;
	s.ended_by = SESSION_END_MCP;
	assert_int_equal(cdr_from_session(&s, "rm-a", &r), 0);
	assert_valid(&r);
	assert_int_equal(r.disposition, REC_FAILED);
	assert_int_equal(r.attempts, 3);

	/* no answer in time */
	fill_session(&s, cid);
	s.end_ms = T0 + 32000;
	s.final_status = 408;
	s.ended_by = SESSION_END_RM_TIMEOUT;
	assert_int_equal(cdr_from_session(&s, "rm-a", &r), 0);
	assert_valid(&r);
	assert_int_equal(r.disposition, REC_TIMED_OUT);
	assert_int_equal(r.ended_by, REC_BY_RM_TIMEOUT);

	/* answered, then the max duration cut it: still answered, ended by rm */
	fill_session(&s, cid);
	s.answer_ms = T0 + 100;
	s.end_ms = T0 + 3600100;
	s.final_status = 200;
	s.ended_by = SESSION_END_RM_TIMEOUT;
	assert_int_equal(cdr_from_session(&s, "rm-a", &r), 0);
	assert_valid(&r);
	assert_int_equal(r.disposition, REC_ANSWERED);
	assert_int_equal(r.duration_ms, 3600000);
	assert_int_equal(r.ended_by, REC_BY_RM_TIMEOUT);

	/* drained before an answer, no status set: failed, 500 */
	fill_session(&s, cid);
	s.end_ms = T0 + 50;
	s.ended_by = SESSION_END_RM_DRAIN;
	assert_int_equal(cdr_from_session(&s, "rm-a", &r), 0);
	assert_valid(&r);
	assert_int_equal(r.disposition, REC_FAILED);
	assert_int_equal(r.sip_status, 500);
	assert_int_equal(r.ended_by, REC_BY_RM_DRAIN);

	/* answered, adopted from a dead cluster peer and ended by the survivor */
	fill_session(&s, cid);
	s.answer_ms = T0 + 10;
	s.end_ms = T0 + 5000;
	s.ended_by = SESSION_END_RM_PEER_LOST;
	assert_int_equal(cdr_from_session(&s, "rm-a", &r), 0);
	assert_valid(&r);
	assert_int_equal(r.disposition, REC_ANSWERED);
	assert_int_equal(r.ended_by, REC_BY_RM_PEER_LOST);
}

static void test_rejected_without_session(void **state)
{
	(void)state;
	record_t r;
	struct cdr_input in = {
		.call_id = "refused-1", .tenant = "acme", .profile = "ivr-main",
		.caller = "5550000", .dnis = "8001", .start_ms = T0, .end_ms = T0 + 2,
		.final_status = 486, .ended_by = REC_BY_RM, .attempts = 0,
		.usage_level = 3,
	};
	assert_int_equal(cdr_from_input(&in, NULL, &r), 0);
	assert_valid(&r);
	assert_int_equal(r.disposition, REC_REJECTED);
	assert_int_equal(r.sip_status, 486);
	assert_int_equal(r.usage_level, 3);
	assert_string_equal(r.node, "rm");
	assert_string_equal(r.mcp, "");

	in.call_id = "";
	assert_int_equal(cdr_from_input(&in, "rm-a", &r), -1);
}

static void test_clamps_and_truncation(void **state)
{
	(void)state;
	record_t r;
	char longname[300];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	/* the wall clock stepped back: end before answer before start */
	struct cdr_input in = {
		.call_id = "c", .service_type = longname, .mcp = longname,
		.start_ms = T0, .answer_ms = T0 - 10, .end_ms = T0 - 20,
		.final_status = 999, .ended_by = REC_BY_MCP, .attempts = 500,
		.usage_level = 9,
	};
	assert_int_equal(cdr_from_input(&in, longname, &r), 0);
	assert_valid(&r);
	assert_int_equal(r.end_ms, T0);
	assert_int_equal(r.answer_ms, T0);
	assert_int_equal(r.duration_ms, 0);
	assert_int_equal(r.disposition, REC_ANSWERED);
	assert_int_equal(r.sip_status, 200);
	assert_int_equal(r.attempts, 100);
	assert_int_equal(r.usage_level, 3);
	assert_int_equal(strlen(r.node), 63);
	assert_int_equal(strlen(r.service_type), 31);
	assert_true(strlen(r.id) <= 128);
}

static void test_events(void **state)
{
	(void)state;
	struct session s;
	struct cdr_input in;
	char cid[] = "call-ev";
	char buf[2048], id[129], field[64], err[256];
	const char *types[] = { "call.start", "call.answer", "call.end" };

	fill_session(&s, cid);
	s.answer_ms = T0 + 300;
	s.end_ms = T0 + 5300;
	s.final_status = 200;
	s.ended_by = SESSION_END_MCP;
	cdr_input_from_session(&s, &in);
	for (int t = CDR_EV_START; t <= CDR_EV_END; t++) {
		int n = cdr_event_json(&in, "rm-b", (enum cdr_event_type)t, buf, sizeof(buf));
		assert_true(n > 0);
		assert_int_equal(record_check_envelope(buf, (size_t)n, id, sizeof(id), field,
						       sizeof(field), err, sizeof(err)), 0);
		cJSON *o = cJSON_Parse(buf);
		assert_non_null(o);
		assert_string_equal(cJSON_GetObjectItem(o, "type")->valuestring, types[t]);
		assert_string_equal(cJSON_GetObjectItem(o, "call_id")->valuestring, cid);
		assert_string_equal(cJSON_GetObjectItem(o, "session_id")->valuestring,
				    s.gvp_session_id);
		assert_int_equal((int64_t)cJSON_GetObjectItem(o, "start_ms")->valuedouble, T0);
		int64_t ts = (int64_t)cJSON_GetObjectItem(o, "ts_ms")->valuedouble;
		/* one id per event, "<node>-<its own time>-<uuid>" */
		char pre[64];
		snprintf(pre, sizeof(pre), "rm-b-%lld-", (long long)ts);
		assert_int_equal(strncmp(cJSON_GetObjectItem(o, "id")->valuestring, pre,
					 strlen(pre)), 0);
		assert_int_equal(strlen(cJSON_GetObjectItem(o, "id")->valuestring),
				 strlen(pre) + 36);
		if (t == CDR_EV_START) {
			assert_null(cJSON_GetObjectItem(o, "answer_ms"));
			assert_int_equal(ts, T0);
		} else if (t == CDR_EV_ANSWER) {
			assert_int_equal(ts, T0 + 300);
			assert_null(cJSON_GetObjectItem(o, "end_ms"));
		} else {
			assert_int_equal(ts, T0 + 5300);
			assert_int_equal((int)cJSON_GetObjectItem(o, "duration_ms")->valuedouble,
					 5000);
			assert_string_equal(cJSON_GetObjectItem(o, "disposition")->valuestring,
					    "answered");
			assert_string_equal(cJSON_GetObjectItem(o, "ended_by")->valuestring,
					    "mcp");
		}
		cJSON_Delete(o);
	}
	/* too small a buffer */
	assert_int_equal(cdr_event_json(&in, "rm-b", CDR_EV_END, buf, 20), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answered_call),
		cmocka_unit_test(test_dispositions),
		cmocka_unit_test(test_rejected_without_session),
		cmocka_unit_test(test_clamps_and_truncation),
		cmocka_unit_test(test_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
