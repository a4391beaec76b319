/* Unit tests for rm/billing/spool_codec.c: the spool's on-disk records, encoded and
 * checked in memory (no files). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "spool.h"
#include "spool_codec.h"

/* One entry of dest/body encoded at b + pos; returns the bytes it takes. */
static size_t put_entry(unsigned char *b, size_t pos, uint64_t seq, const char *dest,
			const char *body)
{
	spcodec_entry_encode(b + pos, seq, dest, strlen(dest), body, strlen(body));
	return SPCODEC_ENT_HDR + strlen(dest) + 1 + strlen(body);
}

static void test_entry_round_trip(void **state)
{
	unsigned char b[256];
	uint32_t len;
	uint64_t seq;
	size_t n = put_entry(b, 0, 7, "/queue/gvp.cdr", "{\"id\":\"a\"}");

	assert_true(spcodec_entry_at(b, n, 0, 6, &len, &seq));
	assert_int_equal(seq, 7);
	assert_int_equal(len, strlen("/queue/gvp.cdr") + 1 + strlen("{\"id\":\"a\"}"));
	assert_string_equal((const char *)b + SPCODEC_ENT_HDR, "/queue/gvp.cdr");
	assert_memory_equal(b + SPCODEC_ENT_HDR + 15, "{\"id\":\"a\"}", 10);
	assert_true(spcodec_entry_ok(b, 7, len));
	assert_false(spcodec_entry_ok(b, 8, len)); /* another seq */
	/* a seq not after the last one seen is not taken (replay order) */
	assert_false(spcodec_entry_at(b, n, 0, 7, &len, &seq));
	/* cut short: the payload is not all there */
	assert_false(spcodec_entry_at(b, n - 1, 0, 0, &len, &seq));
}

static void test_flipped_bytes_refused(void **state)
{
	unsigned char b[256], c[256];
	uint32_t len;
	uint64_t seq;
	size_t n = put_entry(b, 0, 1, "/queue/gvp.events", "{\"id\":\"e\",\"schema\":1}");

	for (size_t i = 0; i < n; i++) {
		if (i >= 20 && i < 24)
			continue; /* the 4 reserved zero bytes are not covered */
		memcpy(c, b, n);
		c[i] ^= 0x01;
		assert_false(spcodec_entry_at(c, n, 0, 0, &len, &seq));
	}
}

static void test_entry_found_after_garbage(void **state)
{
	unsigned char b[256];
	uint32_t len;
	uint64_t seq;
	size_t n;

	memset(b, 0xAB, 9);
	n = 9 + put_entry(b, 9, 3, "/queue/gvp.cdr", "{}");
	assert_false(spcodec_entry_at(b, n, 0, 0, &len, &seq));
	assert_true(spcodec_entry_at(b, n, 9, 0, &len, &seq));
	assert_int_equal(seq, 3);
}

static void test_segment_header(void **state)
{
	unsigned char h[SPCODEC_SEG_HDR];
	uint64_t base = 0;

	spcodec_seg_header(h, 42);
	assert_memory_equal(h, "GVPSPL01", 8);
	assert_true(spcodec_seg_header_ok(h, sizeof h, &base));
	assert_int_equal(base, 42);
	assert_false(spcodec_seg_header_ok(h, sizeof h - 1, &base));
	h[9] ^= 0x10;
	assert_false(spcodec_seg_header_ok(h, sizeof h, &base));
}

static void test_ack_record(void **state)
{
	unsigned char a[SPCODEC_ACK_REC];
	uint64_t seq = 0;

	spcodec_ack_encode(a, 0x0102030405060708ull);
	assert_int_equal(a[0], 0x08); /* little-endian on disk */
	assert_true(spcodec_ack_decode(a, &seq));
	assert_int_equal(seq, 0x0102030405060708ull);
	a[3] ^= 0x40;
	assert_false(spcodec_ack_decode(a, &seq));
}

static void test_file_names(void **state)
{
	assert_int_equal(spcodec_parse_name("000000012.seg", "seg"), 12);
	assert_int_equal(spcodec_parse_name("000000012.ack", "ack"), 12);
	assert_int_equal(spcodec_parse_name("000000012.ack", "seg"), -1);
	assert_int_equal(spcodec_parse_name("000000000.seg", "seg"), -1);
	assert_int_equal(spcodec_parse_name("00000001a.seg", "seg"), -1);
	assert_int_equal(spcodec_parse_name("12.seg", "seg"), -1);
}

/* Bit-at-a-time crc32c: the definition, to hold the fast paths to. */
static uint32_t crc_ref(uint32_t crc, const unsigned char *p, size_t len)
{
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
	}
	return ~crc;
}

/* Every length and split (the hardware path works 8 bytes at a time, then bytes;
 * a chained call must continue the same checksum). */
static void test_crc32c_matches_reference(void **state)
{
	unsigned char buf[300];
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof buf; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
	for (size_t n = 0; n <= sizeof buf; n += (n < 40 ? 1 : 37)) {
		uint32_t want = crc_ref(0, buf, n);
		assert_int_equal(spool_crc32c(0, buf, n), want);
		for (size_t cut = 0; cut <= n; cut += 5)
			assert_int_equal(spool_crc32c(spool_crc32c(0, buf, cut), buf + cut, n - cut),
					 want);
	}
}

static void test_crc32c_known_value(void **state)
{
	/* the standard check value of CRC-32C */
	assert_int_equal(spool_crc32c(0, "123456789", 9), 0xE3069283u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_round_trip),
		cmocka_unit_test(test_flipped_bytes_refused),
		cmocka_unit_test(test_entry_found_after_garbage),
		cmocka_unit_test(test_segment_header),
		cmocka_unit_test(test_ack_record),
		cmocka_unit_test(test_file_names),
		cmocka_unit_test(test_crc32c_known_value),
		cmocka_unit_test(test_crc32c_matches_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
