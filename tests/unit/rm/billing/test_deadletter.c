/* Unit tests for rm/billing/deadletter.c: a line is one JSON object ending in '\n' that
 * gives back the refused body byte for byte (quotes, a raw TAB and newline, bytes
 * that are not JSON at all), and appends create the file and add one line each. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "deadletter.h"

static cJSON *parse_line(const char *line)
{
	size_t n = strlen(line);
	assert_true(n > 1);
	assert_int_equal(line[n - 1], '\n');
	assert_null(memchr(line, '\n', n - 1)); /* one line */
	cJSON *o = cJSON_Parse(line);
	assert_non_null(o);
	return o;
}

static void test_line_round_trip(void **state)
{
	(void)state;
	static const char body[] = "{\"id\":\"a\\\"b\",\"x\":\"tab\there\nnl\"} not json";
	char *line = deadletter_line(1764500031000LL, 42, "/queue/gvp.cdr", body,
				     sizeof(body) - 1, "invalid record: field x: control character");
	assert_non_null(line);
	cJSON *o = parse_line(line);
	assert_int_equal((int64_t)cJSON_GetObjectItem(o, "time_ms")->valuedouble,
			 1764500031000LL);
	assert_int_equal(cJSON_GetObjectItem(o, "seq")->valuedouble, 42);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "destination")),
			    "/queue/gvp.cdr");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "reason")),
			    "invalid record: field x: control character");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "body")), body);
	cJSON_Delete(o);
	free(line);

	/* body_len bounds the body; a NULL reason is an empty one */
	line = deadletter_line(1, 7, "/queue/gvp.events", "{}garbage", 2, NULL);
	o = parse_line(line);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "body")), "{}");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "reason")), "");
	cJSON_Delete(o);
	free(line);
}

static void test_append(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_deadletter.XXXXXX", path[96], err[256], buf[512];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, DEADLETTER_FILE);

	for (int i = 1; i <= 3; i++) {
		char body[32];
		snprintf(body, sizeof(body), "{\"id\":\"r%d\"}", i);
		char *line = deadletter_line(i, (uint64_t)i, "/queue/gvp.cdr", body,
					     strlen(body), "bad");
		if (deadletter_append(dir, line, err, sizeof(err)) != 0)
			fail_msg("deadletter_append: %s", err);
		free(line);
	}
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	int n = 0;
	while (fgets(buf, sizeof(buf), fp)) {
		n++;
		cJSON *o = parse_line(buf);
		assert_int_equal(cJSON_GetObjectItem(o, "seq")->valuedouble, n);
		cJSON_Delete(o);
	}
	fclose(fp);
	assert_int_equal(n, 3);
	unlink(path);
	rmdir(dir);

	/* a directory that does not exist: -1 and a sentence naming the file */
	assert_int_equal(deadletter_append("/nonexistent/dir", "{}\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/dir/" DEADLETTER_FILE));
	assert_non_null(strstr(err, "open"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_round_trip),
		cmocka_unit_test(test_append),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
