/* Unit tests for common/util.c: clocks, UUIDs, whole writes, directory fsync. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static void test_clocks(void **state)
{
	int64_t now = util_now_ms();
	int64_t a = util_mono_us(), b;
	struct timespec d = { 0, 20 * 1000 * 1000 };

	assert_true(llabs(now - (int64_t)time(NULL) * 1000) < 2000);
	nanosleep(&d, NULL);
	b = util_mono_us();
	assert_true(b - a >= 19000);
	assert_true(b - a < 5000000);
}

static void test_uuid4(void **state)
{
	char a[37], b[37];

	util_uuid4(a);
	util_uuid4(b);
	assert_int_equal(strlen(a), 36);
	assert_string_not_equal(a, b);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(a[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", a[i]));
	}
	assert_int_equal(a[14], '4');			 /* version */
	assert_non_null(strchr("89ab", a[19]));	 /* variant */
}

static void test_write_all_and_fsync_dir(void **state)
{
	char dir[] = "/tmp/test_util.XXXXXX", path[64], back[70000];
	static char big[70000];
	int fd, p[2];

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)i;
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(util_write_all(fd, big, sizeof(big)), 0);
	close(fd);
	assert_int_equal(util_fsync_dir(dir), 0);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, back, sizeof(back)), sizeof(big));
	assert_memory_equal(back, big, sizeof(big));
	close(fd);
	unlink(path);
	rmdir(dir);
	assert_int_equal(util_fsync_dir("/nonexistent/dir"), -1);
	/* A closed pipe: the write fails instead of looping. */
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(util_write_all(p[1], "x", 1), -1);
	close(p[1]);
	assert_int_equal(util_write_all(-1, "x", 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_uuid4),
		cmocka_unit_test(test_write_all_and_fsync_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
