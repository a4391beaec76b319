/* Unit tests for common/ev/tls.c: the keys of each role, the sentences that name the key,
 * the file and the reason, and a context built from a real key pair (made here with
 * OpenSSL's API: a self-signed P-256 certificate). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls.h"

static char dir[64], crt[128], key[128], key2[128];

/* A self-signed certificate for CN=test in crt/key, and an unrelated key in key2. */
static int make_pair(const char *cpath, const char *kpath, const char *k2path)
{
	EVP_PKEY *k = EVP_EC_gen("P-256"), *k2 = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	FILE *f;
	int rc = -1;

	if (!k || !k2 || !x)
		goto out;
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (!X509_sign(x, k, EVP_sha256()))
		goto out;
	if (!(f = fopen(cpath, "w")) || !PEM_write_X509(f, x) || fclose(f))
		goto out;
	if (!(f = fopen(kpath, "w")) || !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) ||
	    fclose(f))
		goto out;
	if (!(f = fopen(k2path, "w")) ||
	    !PEM_write_PrivateKey(f, k2, NULL, NULL, 0, NULL, NULL) || fclose(f))
		goto out;
	rc = 0;
out:
	X509_free(x);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
	return rc;
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_tls.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(crt, sizeof(crt), "%s/c.crt", dir);
	snprintf(key, sizeof(key), "%s/c.key", dir);
	snprintf(key2, sizeof(key2), "%s/other.key", dir);
	return make_pair(crt, key, key2);
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Read {"x": {"tls": JSON}} with role; returns the rc, err filled. */
static int read_tls(const char *json, enum tls_role role, tls_config_t *t, char *err,
		    size_t errlen)
{
	char doc[2048];
	cfg_ctx_t x;

	snprintf(doc, sizeof(doc), "{\"tls\": %s}", json);
	cJSON *root = cJSON_Parse(doc);
	assert_non_null(root);
	tls_config_defaults(t, role);
	cfg_ctx_init(&x, "t.json", err, errlen);
	err[0] = 0;
	int rc = tls_config_read(&x, root, "stomp", "tls", role, t);
	cJSON_Delete(root);
	return rc;
}

static void test_defaults_and_absent(void **state)
{
	tls_config_t t;
	char err[512];
	cfg_ctx_t x;

	tls_config_defaults(&t, TLS_CLIENT);
	assert_false(t.enabled);
	assert_true(t.verify);
	tls_config_defaults(&t, TLS_SERVER);
	assert_false(t.verify);
	cfg_ctx_init(&x, "t.json", err, sizeof(err));
	assert_int_equal(tls_config_read(&x, NULL, "stomp", "tls", TLS_SERVER, &t), 0);
	assert_false(t.enabled);
	/* disabled: files are not looked at */
	assert_int_equal(read_tls("{\"enabled\": false, \"cert_file\": \"/nope\"}", TLS_SERVER,
				  &t, err, sizeof(err)),
			 0);
}

static void test_keys_per_role(void **state)
{
	tls_config_t t;
	char err[512];

	assert_int_equal(read_tls("{\"verify\": true}", TLS_SERVER, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "stomp.tls"));
	assert_non_null(strstr(err, "verify"));
	assert_int_equal(read_tls("{\"require_client_cert\": true}", TLS_CLIENT, &t, err,
				  sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "require_client_cert"));
	assert_int_equal(read_tls("{\"enabled\": \"yes\"}", TLS_CLIENT, &t, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "stomp.tls.enabled"));
}

static void test_errors_name_key_file_reason(void **state)
{
	tls_config_t t;
	char err[512], j[1024];

	assert_int_equal(read_tls("{\"enabled\": true}", TLS_SERVER, &t, err, sizeof(err)), -1);
	assert_string_equal(err, "t.json: stomp.tls.cert_file: a TLS listener needs cert_file"
				 " and key_file");
	snprintf(j, sizeof(j), "{\"enabled\": true, \"cert_file\": \"%s/none.crt\", \"key_file\": \"%s\"}",
		 dir, key);
	assert_int_equal(read_tls(j, TLS_SERVER, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "stomp.tls.cert_file: "));
	assert_non_null(strstr(err, "none.crt: cannot read: No such file or directory"));
	snprintf(j, sizeof(j), "{\"enabled\": true, \"cert_file\": \"%s\", \"key_file\": \"%s\"}",
		 key, key);
	assert_int_equal(read_tls(j, TLS_SERVER, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "stomp.tls.cert_file: "));
	assert_non_null(strstr(err, "not a usable PEM certificate"));
	snprintf(j, sizeof(j), "{\"enabled\": true, \"cert_file\": \"%s\", \"key_file\": \"%s\"}",
		 crt, key2);
	assert_int_equal(read_tls(j, TLS_SERVER, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "stomp.tls.key_file: "));
	assert_non_null(strstr(err, "does not match cert_file"));
	snprintf(j, sizeof(j), "{\"enabled\": true, \"cert_file\": \"%s\", \"key_file\": \"%s\","
			       " \"require_client_cert\": true}", crt, key);
	assert_int_equal(read_tls(j, TLS_SERVER, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "stomp.tls.ca_file: require_client_cert needs"));
	snprintf(j, sizeof(j), "{\"enabled\": true, \"cert_file\": \"%s\"}", crt);
	assert_int_equal(read_tls(j, TLS_CLIENT, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "stomp.tls.key_file: a client certificate needs both"));
	snprintf(j, sizeof(j), "{\"enabled\": true, \"ca_file\": \"%s\"}", key);
	assert_int_equal(read_tls(j, TLS_CLIENT, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "stomp.tls.ca_file: "));
}

static void test_good_contexts(void **state)
{
	tls_config_t t;
	char err[512], j[1024];

	snprintf(j, sizeof(j), "{\"enabled\": true, \"cert_file\": \"%s\", \"key_file\": \"%s\","
			       " \"ca_file\": \"%s\", \"require_client_cert\": true}", crt, key, crt);
	assert_int_equal(read_tls(j, TLS_SERVER, &t, err, sizeof(err)), 0);
	assert_true(t.enabled && t.verify);
	struct ssl_ctx_st *ctx = tls_ctx_new(&t, TLS_SERVER, NULL, err, sizeof(err));
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_verify_mode(ctx),
			 SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
	tls_ctx_free(ctx);

	snprintf(j, sizeof(j), "{\"enabled\": true, \"ca_file\": \"%s\"}", crt);
	assert_int_equal(read_tls(j, TLS_CLIENT, &t, err, sizeof(err)), 0);
	ctx = tls_ctx_new(&t, TLS_CLIENT, NULL, err, sizeof(err));
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER);
	struct ssl_st *ssl = tls_client_ssl(ctx, "127.0.0.1", err, sizeof(err));
	assert_non_null(ssl);
	SSL_free(ssl);
	ssl = tls_client_ssl(ctx, "rs.voice.svc", err, sizeof(err));
	assert_non_null(ssl);
	assert_string_equal(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name), "rs.voice.svc");
	SSL_free(ssl);
	tls_ctx_free(ctx);

	/* verify off: no peer check */
	assert_int_equal(read_tls("{\"enabled\": true, \"verify\": false}", TLS_CLIENT, &t, err,
				  sizeof(err)),
			 0);
	ctx = tls_ctx_new(&t, TLS_CLIENT, NULL, err, sizeof(err));
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE);
	tls_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_absent),
		cmocka_unit_test(test_keys_per_role),
		cmocka_unit_test(test_errors_name_key_file_reason),
		cmocka_unit_test(test_good_contexts),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
