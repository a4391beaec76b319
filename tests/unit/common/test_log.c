/* Unit tests for common/log.c: line formats, level filter, reopen after rotation. */
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

#include "log.h"

static char dir[] = "/tmp/test_log.XXXXXX";

static char *slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_plain_and_levels(void **state)
{
	char path[64], err[256];
	const char *t;

	snprintf(path, sizeof(path), "%s/plain.log", dir);
	assert_int_equal(log_init("rs", path, LOGL_INFO, false, err, sizeof(err)), 0);
	log_info("hello %d", 42);
	log_debug("hidden");
	log_warn("two\nlines");
	log_set_level(LOGL_DEBUG);
	assert_int_equal(log_get_level(), LOGL_DEBUG);
	log_debug("shown");
	log_error("bad");
	t = slurp(path);
	/* 2026-11-22T10:00:00.123Z rs INFO hello 42 */
	assert_int_equal(strlen(t), 4 * 25 + strlen("rs INFO hello 42\nrs WARN two lines\n"
						    "rs DEBUG shown\nrs ERROR bad\n"));
	assert_int_equal(t[4], '-');
	assert_int_equal(t[10], 'T');
	assert_int_equal(t[19], '.');
	assert_int_equal(t[23], 'Z');
	assert_int_equal(strncmp(t + 24, " rs INFO hello 42\n", 18), 0);
	assert_non_null(strstr(t, "Z rs WARN two lines\n"));
	assert_non_null(strstr(t, "Z rs DEBUG shown\n"));
	assert_null(strstr(t, "hidden"));
	log_close();
}

static void test_json_and_reopen(void **state)
{
	char path[64], rotated[70], err[256];
	cJSON *j;
	const char *t;

	snprintf(path, sizeof(path), "%s/json.log", dir);
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	assert_int_equal(log_init("rm", path, LOGL_INFO, true, err, sizeof(err)), 0);
	log_error("quote \" backslash \\ tab \t end");
	assert_int_equal(rename(path, rotated), 0);
	log_info("still old file");
	assert_int_equal(log_reopen(), 0);
	log_info("new file");
	t = slurp(rotated);
	assert_non_null(strstr(t, "still old file"));
	j = cJSON_Parse(t); /* first line */
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "prog")->valuestring, "rm");
	assert_string_equal(cJSON_GetObjectItem(j, "level")->valuestring, "error");
	assert_string_equal(cJSON_GetObjectItem(j, "msg")->valuestring,
			    "quote \" backslash \\ tab \t end");
	assert_int_equal(strlen(cJSON_GetObjectItem(j, "ts")->valuestring), 24);
	cJSON_Delete(j);
	t = slurp(path);
	j = cJSON_Parse(t);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "msg")->valuestring, "new file");
	cJSON_Delete(j);
	log_close();
	assert_int_equal(log_reopen(), 0); /* stderr: no-op */
}

static void test_errors_and_parse(void **state)
{
	char err[256];
	enum log_level l;

	assert_int_equal(log_init("rs", "/nonexistent/dir/x.log", LOGL_INFO, false, err,
				  sizeof(err)),
			 -1);
	assert_string_equal(err, "cannot open log file /nonexistent/dir/x.log: No such file "
				 "or directory");
	assert_int_equal(log_level_parse("warn", &l), 0);
	assert_int_equal(l, LOGL_WARN);
	assert_int_equal(log_level_parse("DEBUG", &l), 0);
	assert_int_equal(l, LOGL_DEBUG);
	assert_int_equal(log_level_parse("verbose", &l), -1);
	assert_int_equal(log_init("rs", "-", LOGL_ERROR, false, err, sizeof(err)), 0);
	log_info("not shown on stderr");
}

/* Per-format rate limit: 1,000 lines of one format in a burst write `rate` of them
 * and one "suppressed" report; every message is counted; other formats keep their
 * own budget. */
static void test_rate_limit_and_counts(void **state)
{
	char path[256], err[256];
	unsigned long long info0, supp0;
	int n = 0, other = 0, reports = 0;

	snprintf(path, sizeof(path), "%s/rate.log", dir);
	assert_int_equal(log_init("rm", path, LOGL_INFO, false, err, sizeof(err)), 0);
	log_set_rate(5);
	info0 = log_count(LOGL_INFO);
	supp0 = log_suppressed();
	for (int i = 0; i < 1000; i++)
		log_info("flood %d", i);
	log_warn("another message");
	sleep(1); /* the burst's second is over */
	log_flush_suppressed();
	assert_true(log_count(LOGL_INFO) - info0 >= 1000);
	assert_int_equal(log_count(LOGL_WARN) >= 1, 1);
	FILE *f = fopen(path, "r");
	char line[512];
	assert_non_null(f);
	while (fgets(line, sizeof line, f)) {
		n += strstr(line, " flood ") != NULL;
		other += strstr(line, "another message") != NULL;
		reports += strstr(line, "suppressed") != NULL && strstr(line, "flood %d");
	}
	fclose(f);
	/* the burst may straddle a second boundary: at most two seconds' budget */
	assert_true(n >= 5 && n <= 10);
	assert_int_equal(other, 1);
	assert_true(reports >= 1);
	assert_true(log_suppressed() - supp0 >= 990);
	log_set_rate(0);
	log_close();
}

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_levels),
		cmocka_unit_test(test_json_and_reopen),
		cmocka_unit_test(test_errors_and_parse),
		cmocka_unit_test(test_rate_limit_and_counts),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
