/* Unit tests for common/utf8.c: named cases at every boundary of RFC 3629, then every
 * 1-, 2- and 3-byte string and every 4-byte lead/second pair against an oracle that
 * decodes bits and re-encodes the code point (a different method from utf8.c's). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "utf8.h"

#define VALID(lit) assert_true(utf8_valid(lit, sizeof(lit) - 1))
#define INVALID(lit) assert_false(utf8_valid(lit, sizeof(lit) - 1))

static size_t enc(uint32_t cp, unsigned char *o)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The oracle: s[0..len) is exactly one well-formed sequence iff decoding its bits
 * gives a scalar value whose shortest encoding is those very bytes. */
static int oracle_one(const unsigned char *s, size_t len)
{
	static const unsigned char lead_mask[] = { 0, 0x80, 0xe0, 0xf0, 0xf8 };
	static const unsigned char lead_val[] = { 0, 0x00, 0xc0, 0xe0, 0xf0 };
	unsigned char back[4];
	uint32_t cp;

	if (len < 1 || len > 4 || (s[0] & lead_mask[len]) != lead_val[len])
		return 0;
	cp = len == 1 ? s[0] : s[0] & (0x3fu >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return enc(cp, back) == len && memcmp(back, s, len) == 0;
}

static void test_named_cases(void **state)
{
	VALID("");
	VALID("plain ascii \x01\x7f");
	VALID("\xc2\x80");             /* U+0080, lowest 2-byte */
	VALID("\xdf\xbf");             /* U+07FF */
	VALID("\xe0\xa0\x80");         /* U+0800, lowest 3-byte */
	VALID("\xed\x9f\xbf");         /* U+D7FF, just below the surrogates */
	VALID("\xee\x80\x80");         /* U+E000, just above them */
	VALID("\xef\xbf\xbf");         /* U+FFFF */
	VALID("\xf0\x90\x80\x80");     /* U+10000, lowest 4-byte */
	VALID("\xf4\x8f\xbf\xbf");     /* U+10FFFF, the last code point */
	VALID("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	assert_true(utf8_valid("a\0b", 3)); /* NUL is ASCII; callers refuse it themselves */

	INVALID("\xc0\xaf");           /* overlong '/' */
	INVALID("\xc1\xbf");           /* overlong U+007F */
	INVALID("\xe0\x9f\xbf");       /* overlong U+07FF */
	INVALID("\xe0\x80\xaf");
	INVALID("\xf0\x8f\xbf\xbf");   /* overlong U+FFFF */
	INVALID("\xf0\x80\x80\xaf");
	INVALID("\xed\xa0\x80");       /* U+D800, first surrogate */
	INVALID("\xed\xbf\xbf");       /* U+DFFF, last surrogate */
	INVALID("\xed\xa0\x80\xed\xb0\x80"); /* a CESU-8 pair */
	INVALID("\xf4\x90\x80\x80");   /* U+110000 */
	INVALID("\xf5\x80\x80\x80");
	INVALID("\xf7\xbf\xbf\xbf");
	INVALID("\xf8\x88\x80\x80\x80"); /* old 5-byte form */
	INVALID("\xfc\x84\x80\x80\x80\x80");
	INVALID("\xfe");
	INVALID("\xff");
	INVALID("\x80");               /* stray continuation */
	INVALID("\xbf");
	INVALID("a\x80z");
	INVALID("\xc3");               /* cut after the lead */
	INVALID("\xe2\x82");           /* cut inside */
	INVALID("\xf0\x9f\x98");
	INVALID("\xc3(");              /* lead then ASCII */
	INVALID("\xe2\x28\xa1");
	INVALID("\xe2\x82\x28");
	INVALID("\xf0\x9f\x28\x80");
	INVALID("\xf0\x9f\x98\x28");
	INVALID("ok\xc3\xa9\xc3");     /* valid, then cut at the very end */
}

static void test_seq_len(void **state)
{
	const unsigned char *e = (const unsigned char *)"\xe2\x82\xac!";

	assert_int_equal(utf8_seq_len(e, 4), 3);
	assert_int_equal(utf8_seq_len(e, 3), 3);
	assert_int_equal(utf8_seq_len(e, 2), 0); /* len cuts it */
	assert_int_equal(utf8_seq_len(e, 0), 0);
	assert_int_equal(utf8_seq_len(e + 3, 1), 1);
	/* A NUL-terminated string may be scanned with len 4: the NUL stops it. */
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xf0\x9f\0", 4), 0);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\0", 4), 1);
	assert_true(utf8_valid(NULL, 0));
}

/* The length of the one well-formed sequence at the start of s[0..len), by the
 * oracle (the lead byte admits one length only), or 0. */
static size_t oracle_len(const unsigned char *s, size_t len)
{
	for (size_t n = 1; n <= len && n <= 4; n++)
		if (oracle_one(s, n))
			return n;
	return 0;
}

/* Every code point encodes to a sequence utf8.c measures at its full length, and not
 * when cut by one byte. */
static void test_every_code_point(void **state)
{
	unsigned char b[5];

	for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		size_t n = enc(cp, b);
		b[n] = 0x80; /* a following stray byte must not be counted in */
		if (utf8_seq_len(b, n + 1) != n || !utf8_valid((const char *)b, n))
			fail_msg("U+%04X: length %zu, expected %zu", cp, utf8_seq_len(b, n + 1), n);
		if (utf8_seq_len(b, n - 1) != 0 || (n > 1 && utf8_valid((const char *)b, n - 1)))
			fail_msg("U+%04X: accepted when cut to %zu bytes", cp, n - 1);
	}
}

/* Every string of 1..3 bytes, and every 4-byte string whose last two bytes are taken
 * from the edges of the ASCII, continuation and lead ranges: the oracle decides. */
static void test_exhaustive(void **state)
{
	static const unsigned char edge[] = { 0x00, 0x41, 0x7f, 0x80, 0x81, 0x8f, 0x90,
					      0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xf4, 0xff };
	unsigned char s[4];

	for (unsigned a = 0; a < 256; a++) {
		s[0] = (unsigned char)a;
		assert_int_equal(utf8_seq_len(s, 1), oracle_len(s, 1));
		assert_int_equal(utf8_valid((char *)s, 1), a < 0x80);
		for (unsigned b = 0; b < 256; b++) {
			s[1] = (unsigned char)b;
			int two = oracle_one(s, 2) || (a < 0x80 && b < 0x80);
			if (utf8_seq_len(s, 2) != oracle_len(s, 2) ||
			    utf8_valid((char *)s, 2) != two)
				fail_msg("%02x %02x: expected %zu, %d", a, b, oracle_len(s, 2),
					 two);
			for (unsigned c = 0; c < 256; c++) {
				s[2] = (unsigned char)c;
				if (utf8_seq_len(s, 3) != oracle_len(s, 3))
					fail_msg("%02x %02x %02x: %zu, expected %zu", a, b, c,
						 utf8_seq_len(s, 3), oracle_len(s, 3));
			}
			for (size_t i = 0; i < sizeof(edge); i++)
				for (size_t j = 0; j < sizeof(edge); j++) {
					s[2] = edge[i];
					s[3] = edge[j];
					if (utf8_seq_len(s, 4) == oracle_len(s, 4))
						continue;
					fail_msg("%02x %02x %02x %02x: %zu, expected %zu", a, b,
						 s[2], s[3], utf8_seq_len(s, 4), oracle_len(s, 4));
				}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_named_cases),
		cmocka_unit_test(test_seq_len),
		cmocka_unit_test(test_every_code_point),
		cmocka_unit_test(test_exhaustive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
