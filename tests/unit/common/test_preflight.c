/* Unit tests for common/preflight.c: numeric listen addresses (parsed, never
 * resolved), bindability, and the directory/file checks with their sentences. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preflight.h"

static char tmpdir[64];

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_preflight.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_parse_addr(void **state)
{
	static const char *const good4[] = { "127.0.0.1", "0.0.0.0", "10.1.2.3", NULL };
	static const char *const good6[] = { "::1", "[::1]", "::", "[::]", "fe80::1",
					     "2001:db8::5", NULL };
	static const char *const bad[] = { "localhost", "999.1.1.1", "1.2.3", "", "[::1",
					   "::1]", "[1.2.3.4]", "127.0.0.1:80", "host.example",
					   "[]", " 127.0.0.1", NULL };
	struct sockaddr_storage ss;
	socklen_t len;

	for (int i = 0; good4[i]; i++) {
		assert_int_equal(preflight_parse_addr(good4[i], 5060, &ss, &len), 0);
		assert_int_equal(ss.ss_family, AF_INET);
		assert_int_equal(len, sizeof(struct sockaddr_in));
		assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 5060);
	}
	for (int i = 0; good6[i]; i++) {
		assert_int_equal(preflight_parse_addr(good6[i], 8300, &ss, &len), 0);
		assert_int_equal(ss.ss_family, AF_INET6);
		assert_int_equal(len, sizeof(struct sockaddr_in6));
		assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 8300);
	}
	for (int i = 0; bad[i]; i++)
		if (preflight_parse_addr(bad[i], 1, &ss, &len) == 0)
			fail_msg("\"%s\" accepted", bad[i]);
}

static void test_listen(void **state)
{
	cfg_ctx_t c;
	char err[256];

	cfg_ctx_init(&c, "rs.json", err, sizeof(err));
	assert_int_equal(preflight_listen(&c, "stomp", "listen", "127.0.0.1"), 0);
	assert_int_equal(preflight_listen(&c, "stomp", "listen", "0.0.0.0"), 0);
	assert_string_equal(err, "");

	assert_int_equal(preflight_listen(&c, "stomp", "listen", "localhost"), -1);
	assert_string_equal(err, "rs.json: stomp.listen: expected a numeric IPv4 or IPv6 address "
				 "such as 127.0.0.1, 0.0.0.0 or ::1 (names are not resolved); got "
				 "\"localhost\"");
	/* TEST-NET-1: no interface here has it */
	cfg_ctx_init(&c, "rs.json", err, sizeof(err));
	assert_int_equal(preflight_listen(&c, "http", "listen", "192.0.2.1"), -1);
	assert_string_equal(err, "rs.json: http.listen: cannot listen on 192.0.2.1: Cannot assign "
				 "requested address (no interface of this host has that address)");
	/* first error wins */
	assert_int_equal(preflight_listen(&c, "stomp", "listen", "127.0.0.1"), -1);
	assert_non_null(strstr(err, "http.listen"));
}

static void test_dir_and_file(void **state)
{
	char err[512], want[512], p[160], q[200];
	cfg_ctx_t c;

	cfg_ctx_init(&c, "rm.json", err, sizeof(err));
	assert_int_equal(preflight_dir(&c, "billing", "spool_dir", tmpdir), 0);
	snprintf(p, sizeof(p), "%s/spool", tmpdir); /* missing, parent writable: created later */
	assert_int_equal(preflight_dir(&c, "billing", "spool_dir", p), 0);
	snprintf(p, sizeof(p), "%s/rm.log", tmpdir);
	assert_int_equal(preflight_file(&c, "logging", "file", p), 0);
	assert_int_equal(preflight_file(&c, "logging", "file", "-"), 0);
	assert_string_equal(err, "");

	snprintf(p, sizeof(p), "%s/no/spool", tmpdir);
	assert_int_equal(preflight_dir(&c, "billing", "spool_dir", p), -1);
	snprintf(want, sizeof(want), "rm.json: billing.spool_dir: cannot create %s: directory "
		 "%s/no: No such file or directory", p, tmpdir);
	assert_string_equal(err, want);

	snprintf(p, sizeof(p), "%s/plain", tmpdir);
	fclose(fopen(p, "w"));
	cfg_ctx_init(&c, "rm.json", err, sizeof(err));
	assert_int_equal(preflight_dir(&c, "billing", "spool_dir", p), -1);
	snprintf(want, sizeof(want), "rm.json: billing.spool_dir: %s exists and is not a "
		 "directory", p);
	assert_string_equal(err, want);

	/* a file inside a plain file's "directory" */
	snprintf(q, sizeof(q), "%s/x.log", p);
	cfg_ctx_init(&c, "rm.json", err, sizeof(err));
	assert_int_equal(preflight_file(&c, "logging", "file", q), -1);
	snprintf(want, sizeof(want), "rm.json: logging.file: file %s: Not a directory", q);
	assert_string_equal(err, want);

	cfg_ctx_init(&c, "rs.json", err, sizeof(err));
	assert_int_equal(preflight_file(&c, "storage.sqlite", "path", tmpdir), -1);
	snprintf(want, sizeof(want), "rs.json: storage.sqlite.path: %s is a directory, not a file",
		 tmpdir);
	assert_string_equal(err, want);

	cfg_ctx_init(&c, "rs.json", err, sizeof(err));
	assert_int_equal(preflight_readable(&c, "stomp", "tls_cert", p), 0);
	snprintf(q, sizeof(q), "%s/missing.pem", tmpdir);
	assert_int_equal(preflight_readable(&c, "stomp", "tls_cert", q), -1);
	snprintf(want, sizeof(want), "rs.json: stomp.tls_cert: file %s: No such file or directory",
		 q);
	assert_string_equal(err, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_addr),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_dir_and_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
