/* Unit tests for rm/core/sip_trust.c: CIDR parsing, and who a source is (MCP, caller
 * side, untrusted) by address and port only. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "sip_trust.h"

static enum sip_origin who(const struct sip_trust *t, const char *ip, uint16_t port)
{
	uint8_t a[16] = { 0 };
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(fam, ip, a), 1);
	return sip_trust_classify(t, fam, a, port);
}

static void test_cidr_parse(void **state)
{
	struct sip_trust_entry e;
	char err[160];

	assert_int_equal(sip_trust_parse_cidr("10.1.0.0/16", &e, err, sizeof err), 0);
	assert_int_equal(e.prefix, 16);
	assert_int_equal(sip_trust_parse_cidr("192.0.2.7", &e, err, sizeof err), 0);
	assert_int_equal(e.prefix, 32);
	assert_int_equal(sip_trust_parse_cidr("2001:db8::/32", &e, err, sizeof err), 0);
	assert_int_equal(e.prefix, 32);
	assert_int_equal(sip_trust_parse_cidr("10.0.0.0/33", &e, err, sizeof err), -1);
	assert_non_null(strstr(err, "0..32"));
	assert_int_equal(sip_trust_parse_cidr("host.example.com", &e, err, sizeof err), -1);
	assert_non_null(strstr(err, "numeric"));
	assert_int_equal(sip_trust_parse_cidr("10.0.0.0/", &e, err, sizeof err), -1);
	assert_int_equal(sip_trust_parse_cidr("", &e, err, sizeof err), -1);
}

static void test_classify(void **state)
{
	static struct sip_trust t;
	struct sip_trust_entry e;
	char err[160];

	sip_trust_init(&t);
	assert_int_equal(sip_trust_add_host(&t, SIP_TRUST_SIP_SERVER, "10.0.0.1", 0), 0);
	assert_int_equal(sip_trust_add_host(&t, SIP_TRUST_MCP, "10.0.0.2", 5070), 0);
	assert_int_equal(sip_trust_add_host(&t, SIP_TRUST_MCP, "10.0.0.1", 5070), 0);
	assert_int_equal(sip_trust_add_host(&t, SIP_TRUST_MCP, "[::1]", 5070), 0);
	assert_int_equal(sip_trust_add_host(&t, SIP_TRUST_MCP, "mcp.example.com", 5070), -1);
	assert_int_equal(sip_trust_parse_cidr("192.168.0.0/24", &e, err, sizeof err), 0);
	assert_int_equal(sip_trust_add(&t, &e), 0);

	/* an MCP by address alone (TCP: any source port), or by address and port */
	assert_int_equal(who(&t, "10.0.0.2", 5070), SIP_ORIGIN_MCP);
	assert_int_equal(who(&t, "10.0.0.2", 40000), SIP_ORIGIN_MCP);
	/* a host shared by the SIP Server and an MCP: only the MCP's port is the MCP */
	assert_int_equal(who(&t, "10.0.0.1", 5070), SIP_ORIGIN_MCP);
	assert_int_equal(who(&t, "10.0.0.1", 40000), SIP_ORIGIN_CALLER);
	assert_int_equal(who(&t, "192.168.0.200", 5060), SIP_ORIGIN_CALLER);
	assert_int_equal(who(&t, "192.168.1.1", 5060), SIP_ORIGIN_NONE);
	assert_int_equal(who(&t, "10.0.0.3", 5070), SIP_ORIGIN_NONE);
	assert_int_equal(who(&t, "::1", 5070), SIP_ORIGIN_MCP);
	assert_int_equal(who(&t, "::2", 5070), SIP_ORIGIN_NONE);
	/* IPv4-mapped IPv6 compares as IPv4 */
	assert_int_equal(who(&t, "::ffff:10.0.0.2", 5070), SIP_ORIGIN_MCP);
	assert_int_equal(who(&t, "::ffff:10.9.9.9", 5070), SIP_ORIGIN_NONE);

	uint8_t a[16] = { 0 };
	inet_pton(AF_INET, "10.0.0.1", a);
	assert_true(sip_trust_mcp_port(&t, AF_INET, a, 5070));
	assert_false(sip_trust_mcp_port(&t, AF_INET, a, 5060));
}

static void test_prefix_bits(void **state)
{
	static struct sip_trust t;
	struct sip_trust_entry e;
	char err[160];

	sip_trust_init(&t);
	assert_int_equal(sip_trust_parse_cidr("10.0.0.128/25", &e, err, sizeof err), 0);
	sip_trust_add(&t, &e);
	assert_int_equal(who(&t, "10.0.0.128", 1), SIP_ORIGIN_CALLER);
	assert_int_equal(who(&t, "10.0.0.255", 1), SIP_ORIGIN_CALLER);
	assert_int_equal(who(&t, "10.0.0.127", 1), SIP_ORIGIN_NONE);
	sip_trust_init(&t);
	assert_int_equal(sip_trust_parse_cidr("0.0.0.0/0", &e, err, sizeof err), 0);
	sip_trust_add(&t, &e);
	assert_int_equal(who(&t, "203.0.113.9", 1), SIP_ORIGIN_CALLER);
	assert_int_equal(who(&t, "2001:db8::1", 1), SIP_ORIGIN_NONE);
	/* the table is bounded */
	sip_trust_init(&t);
	for (int i = 0; i < SIP_TRUST_MAX; i++)
		assert_int_equal(sip_trust_add(&t, &e), 0);
	assert_int_equal(sip_trust_add(&t, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_prefix_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
