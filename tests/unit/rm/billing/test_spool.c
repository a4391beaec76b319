/* Unit tests for rm/billing/spool.c: durability, release persistence, corruption handling,
 * size bound, segment deletion and the high-water mark, on real files in a temp
 * directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spool.h"
#include "util.h"

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_spool.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static spool_t *open_spool(const char *dir, uint64_t max, uint64_t segbytes)
{
	char err[256] = "";
	spool_opts_t o = { .dir = dir, .max_bytes = max, .segment_bytes = segbytes };
	spool_t *s = spool_open(&o, err, sizeof(err));
	if (!s)
		fail_msg("spool_open: %s", err);
	return s;
}

static int count_files(const char *dir, const char *ext)
{
	int n = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l > 4 && strcmp(de->d_name + l - 4, ext) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static void body_for(int i, char *buf, size_t cap)
{
	snprintf(buf, cap, "{\"id\":\"rec-%d\",\"schema\":1,\"pad\":\"%0*d\"}", i,
		 i % 7 + 1, i);
}

static uint64_t append_n(spool_t *s, int from, int to)
{
	uint64_t seq = 0;
	char body[128];
	for (int i = from; i < to; i++) {
		body_for(i, body, sizeof(body));
		assert_int_equal(spool_append(s, "/queue/gvp.cdr", body, strlen(body), &seq),
				 SPOOL_OK);
	}
	return seq;
}

/* Walk the replay set and check it holds exactly the records named in want[]. */
static void expect_replay(spool_t *s, const int *want, int nwant)
{
	uint64_t seq = 0;
	int k = 0;
	char exp[128];
	while ((seq = spool_next(s, seq)) != 0) {
		const char *dest, *body;
		size_t len;
		assert_true(k < nwant);
		assert_int_equal(spool_read(s, seq, &dest, &body, &len), 0);
		assert_string_equal(dest, "/queue/gvp.cdr");
		body_for(want[k], exp, sizeof(exp));
		assert_int_equal(len, strlen(exp));
		assert_memory_equal(body, exp, len);
		k++;
	}
	assert_int_equal(k, nwant);
	spool_stats_t st;
	spool_get_stats(s, &st);
	assert_int_equal(st.depth, (uint64_t)nwant);
}

static void test_append_reopen_replays_in_order(void **state)
{
	struct fixture *f = *state;
	spool_t *s = open_spool(f->dir, 0, 0);
	int want[20];

	append_n(s, 0, 20);
	for (int i = 0; i < 20; i++)
		want[i] = i;
	/* buffered entries are readable before any flush */
	expect_replay(s, want, 20);
	assert_true(spool_flush_due(s, INT64_MAX / 2));
	assert_int_equal(spool_flush(s), 0);
	assert_false(spool_flush_due(s, INT64_MAX / 2));
	spool_close(s);

	s = open_spool(f->dir, 0, 0);
	spool_stats_t st;
	spool_get_stats(s, &st);
	assert_int_equal(st.replayed, 20);
	assert_int_equal(st.skipped, 0);
	expect_replay(s, want, 20);
	/* sequence numbers continue after the replayed ones */
	uint64_t last = 0, q = 0;
	for (uint64_t x = 0; (x = spool_next(s, x)) != 0;)
		last = x;
	char body[64];
	body_for(99, body, sizeof(body));
	assert_int_equal(spool_append(s, "/queue/gvp.events", body, strlen(body), &q),
			 SPOOL_OK);
	assert_true(q > last);
	spool_close(s);
}

static void test_release_persists(void **state)
{
	struct fixture *f = *state;
	spool_t *s = open_spool(f->dir, 0, 0);

	append_n(s, 0, 10);
	assert_int_equal(spool_flush(s), 0);
	/* out of order, seqs are 1..10 for records 0..9 */
	assert_int_equal(spool_release(s, 7), 0);
	assert_int_equal(spool_release(s, 2), 0);
	assert_int_equal(spool_release(s, 1), 0);
	assert_int_equal(spool_release(s, 10), 0);
	assert_int_equal(spool_release(s, 2), -1);  /* duplicate receipt */
	assert_int_equal(spool_release(s, 999), -1); /* unknown */
	int want[] = { 2, 3, 4, 5, 7, 8 };
	expect_replay(s, want, 6);
	assert_int_equal(spool_flush(s), 0);
	spool_close(s);

	s = open_spool(f->dir, 0, 0);
	expect_replay(s, want, 6);
	/* release more, close without an explicit flush: close flushes */
	assert_int_equal(spool_release(s, 3), 0);
	assert_int_equal(spool_release(s, 9), 0);
	spool_close(s);

	s = open_spool(f->dir, 0, 0);
	int want2[] = { 3, 4, 5, 7 };
	expect_replay(s, want2, 4);
	spool_close(s);
}

/* Path of the one segment that holds data (the newest but one after a close and
 * reopen is not needed here: we close right after writing, so it is 000000001). */
static void seg1(const char *dir, char *out, size_t cap)
{
	snprintf(out, cap, "%s/000000001.seg", dir);
}

static void test_torn_tail_skipped(void **state)
{
	struct fixture *f = *state;
	char path[128];
	struct stat st;
	spool_t *s = open_spool(f->dir, 0, 0);

	append_n(s, 0, 10);
	spool_close(s);
	seg1(f->dir, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	/* cut the last entry in half */
	assert_int_equal(truncate(path, st.st_size - 20), 0);

	s = open_spool(f->dir, 0, 0);
	spool_stats_t stt;
	spool_get_stats(s, &stt);
	assert_int_equal(stt.skipped, 1);
	int want[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	expect_replay(s, want, 9);
	spool_close(s);
}

static void test_flipped_byte_skipped(void **state)
{
	struct fixture *f = *state;
	char path[128];
	spool_t *s = open_spool(f->dir, 0, 0);

	append_n(s, 0, 10);
	spool_close(s);
	seg1(f->dir, path, sizeof(path));
	/* find record 4's body and flip one byte of it */
	FILE *fp = fopen(path, "r+b");
	assert_non_null(fp);
	char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf), fp);
	char *hit = memmem(buf, n, "rec-4\"", 6);
	assert_non_null(hit);
	long off = hit - buf;
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	fputc('X', fp);
	fclose(fp);

	s = open_spool(f->dir, 0, 0);
	spool_stats_t st;
	spool_get_stats(s, &st);
	assert_int_equal(st.skipped, 1);
	/* everything before is replayed, the bad one is not, the rest is recovered */
	int want[] = { 0, 1, 2, 3, 5, 6, 7, 8, 9 };
	expect_replay(s, want, 9);
	spool_close(s);
}

static void test_garbage_segment_and_ack(void **state)
{
	struct fixture *f = *state;
	char path[128];
	spool_t *s = open_spool(f->dir, 0, 0);

	append_n(s, 0, 3);
	assert_int_equal(spool_release(s, 2), 0);
	spool_close(s);
	/* a torn release record appended to the .ack file is ignored */
	snprintf(path, sizeof(path), "%s/000000001.ack", f->dir);
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\x03\0\0", 3), 3);
	close(fd);
	/* a segment with a bad header (crash while creating it) is dropped */
	snprintf(path, sizeof(path), "%s/000000002.seg", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "GVPS", 4), 4);
	close(fd);

	s = open_spool(f->dir, 0, 0);
	int want[] = { 0, 2 };
	expect_replay(s, want, 2);
	assert_int_equal(spool_release(s, 3), 0);
	spool_close(s);
	s = open_spool(f->dir, 0, 0);
	int want2[] = { 0 };
	expect_replay(s, want2, 1);
	spool_close(s);
}

static void test_full_returns_spool_full(void **state)
{
	struct fixture *f = *state;
	spool_t *s = open_spool(f->dir, 2000, 0);
	char body[128];
	int ok = 0, full = 0;
	uint64_t seq;

	for (int i = 0; i < 100; i++) {
		body_for(i, body, sizeof(body));
		enum spool_status r = spool_append(s, "/queue/gvp.cdr", body, strlen(body),
						   &seq);
		assert_true(r == SPOOL_OK || r == SPOOL_FULL);
		if (r == SPOOL_OK)
			ok++;
		else
			full++;
	}
	spool_stats_t st;
	spool_get_stats(s, &st);
	assert_true(ok > 5);
	assert_true(full > 0);
	assert_int_equal(st.lost, (uint64_t)full);
	assert_int_equal(st.depth, (uint64_t)ok);
	assert_true(st.disk_bytes <= 2000);
	assert_true(st.above_hwm);
	assert_int_equal(spool_flush(s), 0);
	spool_close(s);
}

static void test_segments_deleted_when_released(void **state)
{
	struct fixture *f = *state;
	spool_t *s = open_spool(f->dir, 0, 300); /* a few entries per segment */

	uint64_t last = append_n(s, 0, 40);
	assert_int_equal(spool_flush(s), 0);
	int nseg = count_files(f->dir, ".seg");
	assert_true(nseg >= 5);
	/* release everything, from the end backwards */
	for (uint64_t q = last; q >= 1; q--)
		assert_int_equal(spool_release(s, q), 0);
	assert_int_equal(spool_flush(s), 0);
	/* only the active segment is left */
	assert_int_equal(count_files(f->dir, ".seg"), 1);
	spool_stats_t st;
	spool_get_stats(s, &st);
	assert_int_equal(st.depth, 0);
	assert_int_equal(st.segments, 1);
	spool_close(s);

	/* reopen: the old active (fully released) goes, a new one comes, seqs go on */
	s = open_spool(f->dir, 0, 300);
	assert_int_equal(spool_next(s, 0), 0);
	assert_int_equal(count_files(f->dir, ".seg"), 1);
	assert_int_equal(count_files(f->dir, ".ack"), 0);
	uint64_t q = append_n(s, 100, 101);
	assert_int_equal(q, last + 1);
	spool_close(s);
}

/* Bytes of the directory's .seg files. */
static uint64_t seg_file_bytes(const char *dir)
{
	uint64_t n = 0;
	char path[256];
	struct stat st;
	DIR *d = opendir(dir);
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l <= 4 || strcmp(de->d_name + l - 4, ".seg") != 0)
			continue;
		int k = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		assert_true(k > 0 && (size_t)k < sizeof(path));
		assert_int_equal(stat(path, &st), 0);
		n += (uint64_t)st.st_size;
	}
	closedir(d);
	return n;
}

static void expect_disk_bytes(spool_t *s, const char *dir)
{
	spool_stats_t st;
	assert_int_equal(spool_flush(s), 0);
	spool_get_stats(s, &st);
	assert_int_equal(st.disk_bytes, seg_file_bytes(dir));
}

/* disk_bytes (kept as a running sum, not summed over the segments at every append)
 * matches the files through rolls, deletions of released segments and a reopen. */
static void test_disk_bytes_tracks_files(void **state)
{
	struct fixture *f = *state;
	spool_t *s = open_spool(f->dir, 0, 300);

	uint64_t last = append_n(s, 0, 40);
	expect_disk_bytes(s, f->dir);
	assert_true(count_files(f->dir, ".seg") >= 5);
	for (uint64_t q = 1; q <= last / 2; q++) /* the older segments go */
		assert_int_equal(spool_release(s, q), 0);
	expect_disk_bytes(s, f->dir);
	spool_close(s);

	s = open_spool(f->dir, 0, 300); /* loaded segments plus a new active one */
	expect_disk_bytes(s, f->dir);
	append_n(s, 40, 50);
	expect_disk_bytes(s, f->dir);
	spool_close(s);
}

static void test_high_water(void **state)
{
	struct fixture *f = *state;
	char err[128];
	spool_opts_t o = { .dir = f->dir, .max_bytes = 10000, .hwm_percent = 50 };
	spool_t *s = spool_open(&o, err, sizeof(err));
	assert_non_null(s);

	assert_false(spool_above_hwm(s));
	assert_true(spool_usage_percent(s) < 5);
	int i = 0;
	char body[128];
	while (!spool_above_hwm(s)) {
		body_for(i++, body, sizeof(body));
		assert_int_equal(spool_append(s, "/queue/gvp.cdr", body, strlen(body), NULL),
				 SPOOL_OK);
		assert_true(i < 1000);
	}
	spool_stats_t st;
	spool_get_stats(s, &st);
	assert_true(st.usage_percent >= 50 && st.usage_percent < 55);
	assert_true(st.peak_percent >= st.usage_percent);
	assert_true(st.above_hwm);
	spool_close(s);
}

/* spool_write puts entries in the file without fsync: a process that dies right
 * after (no spool_flush, no spool_close: kill -9) loses nothing it wrote, and what
 * was only appended (still in memory) is simply absent, never garbage. */
static void test_write_survives_process_death(void **state)
{
	struct fixture *f = *state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		spool_t *s = open_spool(f->dir, 0, 0);
		append_n(s, 0, 3);
		if (spool_write(s) != 0)
			_exit(2);
		const char *dest, *body;
		size_t len;
		if (spool_read(s, 2, &dest, &body, &len) != 0) /* now read from the file */
			_exit(3);
		append_n(s, 3, 4); /* buffered only */
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);

	spool_t *s = open_spool(f->dir, 0, 0);
	spool_stats_t ss;
	spool_get_stats(s, &ss);
	assert_int_equal(ss.depth, 3);
	assert_int_equal(ss.skipped, 0);
	char want[128];
	const char *dest, *body;
	size_t len;
	uint64_t q = 0;
	for (int i = 0; i < 3; i++) {
		q = spool_next(s, q);
		assert_int_not_equal(q, 0);
		assert_int_equal(spool_read(s, q, &dest, &body, &len), 0);
		body_for(i, want, sizeof(want));
		assert_string_equal(body, want);
	}
	assert_int_equal(spool_next(s, q), 0);
	/* write then flush: both paths fsync and keep the data */
	append_n(s, 10, 12);
	assert_int_equal(spool_write(s), 0);
	assert_int_equal(spool_flush(s), 0);
	spool_get_stats(s, &ss);
	assert_int_equal(ss.pending, 0);
	spool_close(s);
	s = open_spool(f->dir, 0, 0);
	spool_get_stats(s, &ss);
	assert_int_equal(ss.depth, 5);
	spool_close(s);
}

/* Releases are written at every spool_flush (fsync'd at most once a second): a
 * process that dies right after a flush (kill -9: no spool_close) keeps every
 * release it flushed, so those records are not replayed; and a batch of releases
 * alone does not make a flush due before flush_ms (one fsync per group, issue 12). */
static void test_released_survive_process_death(void **state)
{
	struct fixture *f = *state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		spool_t *s = open_spool(f->dir, 0, 0);
		append_n(s, 0, 200);
		if (spool_flush(s) != 0)
			_exit(2);
		for (uint64_t q = 1; q <= 150; q++) /* records are numbered from 1 */
			if (spool_release(s, q) != 0)
				_exit(3);
		/* 150 releases > flush_entries (64): not due by count, only by time */
		if (spool_flush_due(s, util_mono_us() / 1000))
			_exit(4);
		if (spool_flush(s) != 0)
			_exit(5);
		for (uint64_t q = 151; q <= 160; q++) /* released, never flushed */
			if (spool_release(s, q) != 0)
				_exit(6);
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);

	spool_t *s = open_spool(f->dir, 0, 0);
	spool_stats_t ss;
	spool_get_stats(s, &ss);
	assert_int_equal(ss.depth, 50); /* 151..200: the unflushed releases re-send */
	assert_int_equal(spool_next(s, 0), 151);
	spool_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_reopen_replays_in_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_release_persists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_released_survive_process_death, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flipped_byte_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_segment_and_ack, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_full_returns_spool_full, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_segments_deleted_when_released, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_disk_bytes_tracks_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_high_water, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_survives_process_death, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
