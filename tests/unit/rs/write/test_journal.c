/* Unit tests for rs/write/journal.c: append/replay order, consume/truncate, torn tails,
 * corruption. (UTF-8 validity is common/utf8.c's: tests/unit/common/test_utf8.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_journal.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void make_rows(rs_row_t *rows, char ids[][32], char bodies[][96], int n, int base)
{
	for (int i = 0; i < n; i++) {
		snprintf(ids[i], 32, "ev-%d", base + i);
		int len = snprintf(bodies[i], 96, "{\"id\":\"ev-%d\",\"schema\":1,\"x\":\"a\\nb\"}",
				   base + i);
		rows[i] = (rs_row_t){ RS_KIND_EVENT, ids[i], NULL, bodies[i], (size_t)len,
				      1000 + base + i };
	}
}

static void test_append_replay(void **state)
{
	char err[256];
	rs_row_t rows[10];
	char ids[10][32], bodies[10][96];
	journal_t *j = journal_open(dir, err, sizeof(err));
	assert_non_null(j);
	make_rows(rows, ids, bodies, 10, 0);
	assert_int_equal(journal_append(j, rows, 4, err, sizeof(err)), 0);
	assert_int_equal(journal_append(j, rows + 4, 6, err, sizeof(err)), 0);
	assert_int_equal(journal_depth(j), 10);
	journal_close(j);

	/* Reopen: the scan finds all ten; replay returns them in order. */
	j = journal_open(dir, err, sizeof(err));
	assert_non_null(j);
	assert_int_equal(journal_depth(j), 10);
	journal_chunk_t ch = { 0 };
	assert_int_equal(journal_read(j, 3, &ch, err, sizeof(err)), 0);
	assert_int_equal(ch.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(ch.rows[i].id, ids[i]);
		assert_int_equal(ch.rows[i].body_len, rows[i].body_len);
		assert_memory_equal(ch.rows[i].body, bodies[i], rows[i].body_len);
		assert_int_equal(ch.rows[i].received_ms, 1000 + i);
	}
	assert_int_equal(journal_consume(j, &ch, err, sizeof(err)), 0);
	assert_int_equal(journal_depth(j), 7);
	assert_int_equal(journal_read(j, 100, &ch, err, sizeof(err)), 0);
	assert_int_equal(ch.n, 7);
	assert_string_equal(ch.rows[0].id, "ev-3");
	assert_int_equal(journal_consume(j, &ch, err, sizeof(err)), 0);
	assert_int_equal(journal_depth(j), 0);
	assert_int_equal(journal_bytes(j), 0); /* truncated once replayed */
	journal_chunk_free(&ch);
	journal_close(j);
}

static void test_torn_tail(void **state)
{
	char err[256], path[128];
	rs_row_t rows[5];
	char ids[5][32], bodies[5][96];
	journal_t *j = journal_open(dir, err, sizeof(err));
	make_rows(rows, ids, bodies, 5, 100);
	assert_int_equal(journal_append(j, rows, 5, err, sizeof(err)), 0);
	uint64_t full = journal_bytes(j);
	journal_close(j);
	snprintf(path, sizeof(path), "%s/rs.journal", dir);
	/* Cut the last entry in half: a batch whose write never completed. */
	assert_int_equal(truncate(path, (off_t)full - 10), 0);
	j = journal_open(dir, err, sizeof(err));
	assert_non_null(j);
	assert_int_equal(journal_depth(j), 4);
	journal_close(j);
	/* Flip a byte in the third entry's body: it and everything after are cut. */
	int fd = open(path, O_RDWR);
	struct stat st;
	fstat(fd, &st);
	off_t off = st.st_size / 4 * 2 + 30;
	char c;
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= 0x55;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
	j = journal_open(dir, err, sizeof(err));
	assert_non_null(j);
	assert_int_equal(journal_depth(j), 2);
	journal_close(j);
}

static void test_crc(void **state)
{
	assert_int_equal(journal_crc32(0, "123456789", 9), 0xcbf43926u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test(test_crc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
