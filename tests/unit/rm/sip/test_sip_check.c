/* Unit tests for rm/sip/sip_check.c: each RFC 3261 16.3 refusal on a message parsed by
 * sofia-sip's own parser (as a datagram: the bytes given are all there is). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/msg_buffer.h>
#include <sofia-sip/sip_parser.h>

#include "sip_check.h"

/* Parse text as one datagram; fills flags. The caller destroys the msg. */
static msg_t *parse(const char *text, unsigned *flags)
{
	msg_t *m = msg_create(sip_default_mclass(), 0);
	size_t n = strlen(text);
	void *b = msg_buf_alloc(m, n + 1);

	memcpy(b, text, n);
	msg_buf_commit(m, n, 1);
	msg_extract(m);
	*flags = msg_get_flags(m, ~0u);
	return m;
}

#define HDRS "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n" \
	     "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n" \
	     "Call-ID: c1\r\nMax-Forwards: 70\r\n"

static int verdict(const char *text, enum sip_bad *reason, char *unsupported)
{
	unsigned flags;
	struct sip_verdict v;
	msg_t *m = parse(text, &flags);

	bool okay = sip_check_request(sip_object(m), flags, &v);
	*reason = v.reason;
	if (unsupported)
		snprintf(unsupported, 256, "%s", v.unsupported);
	msg_destroy(m);
	return okay ? 0 : v.status;
}

static void test_valid(void **state)
{
	enum sip_bad r;
	assert_int_equal(verdict("INVITE sip:1@example.com SIP/2.0\r\n" HDRS
				 "CSeq: 1 INVITE\r\nContent-Length: 3\r\n\r\nabc", &r, NULL), 0);
	assert_int_equal(r, SIP_BAD_NONE);
}

static void test_refusals(void **state)
{
	enum sip_bad r;
	char uns[256];

	assert_int_equal(verdict("INVITE sip:1@example.com?Route=%3Csip:x%3E SIP/2.0\r\n" HDRS
				 "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", &r, NULL), 400);
	assert_int_equal(r, SIP_BAD_URI_HEADERS);
	assert_int_equal(verdict("INVITE isbn:2983792873 SIP/2.0\r\n" HDRS
				 "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", &r, NULL), 416);
	assert_int_equal(r, SIP_BAD_SCHEME);
	assert_int_equal(verdict("OPTIONS sip:1@example.com SIP/2.0\r\n" HDRS
				 "CSeq: 1 OPTIONS\r\nProxy-Require: foo, bar\r\n"
				 "Proxy-Require: baz\r\nContent-Length: 0\r\n\r\n", &r, uns), 420);
	assert_int_equal(r, SIP_BAD_PROXY_REQUIRE);
	assert_string_equal(uns, "foo, bar, baz");
	assert_int_equal(verdict("OPTIONS sip:1@example.com SIP/7.0\r\n" HDRS
				 "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", &r, NULL), 505);
	assert_int_equal(r, SIP_BAD_VERSION);
	assert_int_equal(verdict("OPTIONS sip:1@example.com SIP/2.0\r\n" HDRS
				 "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", &r, NULL), 400);
	assert_int_equal(r, SIP_BAD_CSEQ);
	assert_int_equal(verdict("OPTIONS sip:1@example.com SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
				 "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", &r, NULL), 400);
	assert_int_equal(r, SIP_BAD_MISSING);
}

static void test_framing(void **state)
{
	enum sip_bad r;
	char full[512];
	unsigned flags;

	snprintf(full, sizeof full, "INVITE sip:1@example.com SIP/2.0\r\n" HDRS
		 "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
	/* every cut inside the header block: never fit to forward */
	for (size_t cut = 40; cut < strlen(full) - 2; cut++) {
		char part[512];
		memcpy(part, full, cut);
		part[cut] = '\0';
		msg_t *m = parse(part, &flags);
		struct sip_verdict v;
		assert_false(sip_check_request(sip_object(m), flags, &v));
		assert_int_equal(v.status, 400);
		assert_false(sip_check_forwardable(sip_object(m), flags));
		msg_destroy(m);
	}
	/* a body shorter than Content-Length */
	assert_int_equal(verdict("INVITE sip:1@example.com SIP/2.0\r\n" HDRS
				 "CSeq: 1 INVITE\r\nContent-Length: 10\r\n\r\nabc", &r, NULL), 400);
	assert_int_equal(r, SIP_BAD_FRAMING);
	/* a known header that does not parse, and a single header given twice */
	assert_int_equal(verdict("INVITE sip:1@example.com SIP/2.0\r\n" HDRS
				 "CSeq: 1 INVITE\r\nMax-Forwards: 3\r\nContent-Length: 0\r\n\r\n",
				 &r, NULL), 400);
	assert_int_equal(r, SIP_BAD_HEADER);
	msg_t *m = parse(full, &flags);
	assert_true(sip_check_forwardable(sip_object(m), flags));
	msg_destroy(m);
	assert_string_equal(sip_bad_name(SIP_BAD_URI_HEADERS), "uri-headers");
	assert_string_equal(sip_bad_name(SIP_BAD_COUNT), "other");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_framing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
