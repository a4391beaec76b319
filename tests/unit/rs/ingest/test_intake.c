/* Unit tests for rs/ingest/intake.c: the one gate both the listener and the broker consumer
 * pass records through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "intake.h"

static const char cdr[] =
	"{\"id\":\"c-1\",\"schema\":1,\"call_id\":\"c-1@h\",\"node\":\"rm-1\",\"tenant\":\"t\","
	"\"start_ms\":1700000000000,\"answer_ms\":1700000000100,\"end_ms\":1700000030100,"
	"\"duration_ms\":30000,\"disposition\":\"answered\",\"sip_status\":200,"
	"\"ended_by\":\"caller\",\"attempts\":1}";

static void test_kind(void **state)
{
	enum rs_kind k;
	assert_int_equal(intake_kind("/queue/gvp.cdr", &k), 0);
	assert_int_equal(k, RS_KIND_CDR);
	assert_int_equal(intake_kind("/queue/gvp.events", &k), 0);
	assert_int_equal(k, RS_KIND_EVENT);
	assert_int_equal(intake_kind("/queue/gvp.metrics", &k), 0);
	assert_int_equal(k, RS_KIND_METRIC);
	assert_int_equal(intake_kind("/queue/gvp.cdrx", &k), -1);
	assert_int_equal(intake_kind("/topic/gvp.cdr", &k), -1);
	assert_int_equal(intake_kind(NULL, &k), -1);
}

static void test_items(void **state)
{
	char field[64], err[256];
	rs_item_t *it;

	assert_int_equal(intake_item(RS_KIND_CDR, cdr, strlen(cdr), "ack-7", 42, &it, field,
				     sizeof(field), err, sizeof(err)),
			 INTAKE_OK);
	assert_non_null(it);
	assert_string_equal(it->row.id, "c-1");
	assert_string_equal(it->receipt, "ack-7");
	assert_non_null(it->row.rec);
	assert_int_equal(it->row.received_ms, 42);
	assert_int_equal(it->row.body_len, strlen(cdr));
	free(it);

	const char *ev = "{\"id\":\"e-1\",\"schema\":1,\"type\":\"call.start\"}";
	assert_int_equal(intake_item(RS_KIND_EVENT, ev, strlen(ev), NULL, 1, &it, field,
				     sizeof(field), err, sizeof(err)),
			 INTAKE_OK);
	assert_string_equal(it->row.id, "e-1");
	assert_null(it->receipt);
	assert_null(it->row.rec);
	free(it);

	/* A CDR missing a required field names it. */
	const char *bad = "{\"id\":\"c-2\",\"schema\":1}";
	it = (rs_item_t *)1;
	assert_int_equal(intake_item(RS_KIND_CDR, bad, strlen(bad), NULL, 1, &it, field,
				     sizeof(field), err, sizeof(err)),
			 INTAKE_INVALID);
	assert_null(it);
	assert_true(field[0] != 0);

	/* Invalid UTF-8 (an overlong NUL) is refused, naming the field that holds it. */
	const char utf[] = "{\"id\":\"x\xc0\x80\",\"schema\":1}";
	assert_int_equal(intake_item(RS_KIND_EVENT, utf, sizeof(utf) - 1, NULL, 1, &it, field,
				     sizeof(field), err, sizeof(err)),
			 INTAKE_INVALID);
	assert_string_equal(field, "id");

	/* Not JSON at all, and an empty body. */
	assert_int_equal(intake_item(RS_KIND_METRIC, "nope", 4, NULL, 1, &it, field,
				     sizeof(field), err, sizeof(err)),
			 INTAKE_INVALID);
	assert_int_equal(intake_item(RS_KIND_CDR, "", 0, NULL, 1, &it, field, sizeof(field),
				     err, sizeof(err)),
			 INTAKE_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind),
		cmocka_unit_test(test_items),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
