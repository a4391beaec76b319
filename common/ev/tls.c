/* tls: config -> SSL_CTX. See tls.h. */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static const char *const server_keys[] = { "enabled", "cert_file", "key_file", "ca_file",
					    "require_client_cert", NULL };
static const char *const client_keys[] = { "enabled", "ca_file", "cert_file", "key_file",
					    "verify", NULL };

void tls_config_defaults(tls_config_t *t, enum tls_role role)
{
	memset(t, 0, sizeof(*t));
	t->verify = role == TLS_CLIENT;
}

const char *tls_last_error(char *buf, size_t len, const char *fallback)
{
	unsigned long e = ERR_get_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	if (r)
		snprintf(buf, len, "%s", r);
	else if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "%s", fallback);
	ERR_clear_error();
	return buf;
}

/* Can path be opened for reading? Otherwise err says why, naming key and file. */
static int readable(const char *key, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s %s: cannot read: %s", key, path, strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

/* Load the certificate/key pair and, if given, the CA file into ctx. */
static int load_files(SSL_CTX *ctx, const tls_config_t *t, const char **bad, char *err,
		      size_t errlen)
{
	char why[256];

	if (t->cert_file[0]) {
		*bad = "cert_file";
		if (readable("cert_file", t->cert_file, err, errlen))
			return -1;
		if (SSL_CTX_use_certificate_chain_file(ctx, t->cert_file) != 1) {
			snprintf(err, errlen, "cert_file %s: not a usable PEM certificate (%s)",
				 t->cert_file, tls_last_error(why, sizeof(why), "unknown error"));
			return -1;
		}
		*bad = "key_file";
		if (readable("key_file", t->key_file, err, errlen))
			return -1;
		if (SSL_CTX_use_PrivateKey_file(ctx, t->key_file, SSL_FILETYPE_PEM) != 1) {
			if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
				ERR_clear_error();
				snprintf(err, errlen, "key_file %s does not match cert_file %s",
					 t->key_file, t->cert_file);
				return -1;
			}
			snprintf(err, errlen, "key_file %s: not a usable PEM private key (%s)",
				 t->key_file, tls_last_error(why, sizeof(why), "unknown error"));
			return -1;
		}
		if (SSL_CTX_check_private_key(ctx) != 1) {
			ERR_clear_error();
			snprintf(err, errlen, "key_file %s does not match cert_file %s",
				 t->key_file, t->cert_file);
			return -1;
		}
	}
	if (t->ca_file[0]) {
		*bad = "ca_file";
		if (readable("ca_file", t->ca_file, err, errlen))
			return -1;
		if (SSL_CTX_load_verify_locations(ctx, t->ca_file, NULL) != 1) {
			snprintf(err, errlen, "ca_file %s: no usable PEM certificate (%s)",
				 t->ca_file, tls_last_error(why, sizeof(why), "unknown error"));
			return -1;
		}
	}
	*bad = NULL;
	return 0;
}

struct ssl_ctx_st *tls_ctx_new(const tls_config_t *t, enum tls_role role,
			       const char **bad_key, char *err, size_t errlen)
{
	const char *bad = NULL;
	char why[256];
	SSL_CTX *ctx = NULL;

	if (role == TLS_SERVER && (!t->cert_file[0] || !t->key_file[0])) {
		bad = t->cert_file[0] ? "key_file" : "cert_file";
		snprintf(err, errlen, "%s: a TLS listener needs cert_file and key_file", bad);
		goto fail;
	}
	if (role == TLS_CLIENT && !t->cert_file[0] != !t->key_file[0]) {
		bad = t->cert_file[0] ? "key_file" : "cert_file";
		snprintf(err, errlen, "%s: a client certificate needs both cert_file and key_file",
			 bad);
		goto fail;
	}
	if (role == TLS_SERVER && t->verify && !t->ca_file[0]) {
		bad = "ca_file";
		snprintf(err, errlen, "ca_file: require_client_cert needs the CA that signs"
				      " client certificates");
		goto fail;
	}
	ctx = SSL_CTX_new(role == TLS_SERVER ? TLS_server_method() : TLS_client_method());
	if (!ctx) {
		snprintf(err, errlen, "cannot create a TLS context (%s)",
			 tls_last_error(why, sizeof(why), "out of memory"));
		goto fail;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* A peer that closes without close_notify is an EOF, as on plain TCP (STOMP
	 * frames end with NUL: a cut frame is never taken for a whole one). */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	if (load_files(ctx, t, &bad, err, errlen))
		goto fail;
	if (role == TLS_SERVER && t->ca_file[0]) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(t->ca_file);
		if (names)
			SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (t->verify ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
				   NULL);
	}
	if (role == TLS_CLIENT && t->verify) {
		if (!t->ca_file[0] && SSL_CTX_set_default_verify_paths(ctx) != 1) {
			bad = "ca_file";
			snprintf(err, errlen, "ca_file: empty and the system trust store does not"
					      " load (%s)",
				 tls_last_error(why, sizeof(why), "unknown error"));
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	ERR_clear_error();
	return ctx;
fail:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	if (bad_key)
		*bad_key = bad;
	return NULL;
}

void tls_ctx_free(struct ssl_ctx_st *ctx)
{
	SSL_CTX_free(ctx);
}

struct ssl_st *tls_client_ssl(struct ssl_ctx_st *ctx, const char *host, char *err,
			      size_t errlen)
{
	char why[256];
	unsigned char addr[16];
	bool numeric = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
	SSL *ssl = SSL_new(ctx);

	if (!ssl) {
		snprintf(err, errlen, "cannot start a TLS session (%s)",
			 tls_last_error(why, sizeof(why), "out of memory"));
		return NULL;
	}
	if (!numeric && SSL_set_tlsext_host_name(ssl, host) != 1)
		goto fail;
	if (SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
		int rc = numeric ? X509_VERIFY_PARAM_set1_ip_asc(vp, host)
				 : X509_VERIFY_PARAM_set1_host(vp, host, 0);
		if (rc != 1)
			goto fail;
	}
	return ssl;
fail:
	snprintf(err, errlen, "cannot set the TLS peer name %s (%s)", host,
		 tls_last_error(why, sizeof(why), "invalid name"));
	SSL_free(ssl);
	return NULL;
}

int tls_config_read(cfg_ctx_t *x, const cJSON *obj, const char *where, const char *key,
		    enum tls_role role, tls_config_t *t)
{
	char path[128], err[768];
	const char *bad = NULL;
	const cJSON *o;

	snprintf(path, sizeof(path), "%s%s%s", where, where[0] ? "." : "", key);
	o = cfg_object(x, obj, where, key, false);
	if (!o || x->failed)
		return x->failed ? -1 : 0;
	cfg_no_unknown(x, o, path, role == TLS_SERVER ? server_keys : client_keys);
	cfg_bool(x, o, path, "enabled", false, t->enabled, &t->enabled);
	cfg_str(x, o, path, "cert_file", false, "", t->cert_file, sizeof(t->cert_file));
	cfg_str(x, o, path, "key_file", false, "", t->key_file, sizeof(t->key_file));
	cfg_str(x, o, path, "ca_file", false, "", t->ca_file, sizeof(t->ca_file));
	cfg_bool(x, o, path, role == TLS_SERVER ? "require_client_cert" : "verify", false,
		 t->verify, &t->verify);
	if (x->failed || !t->enabled)
		return x->failed ? -1 : 0;
	SSL_CTX *ctx = tls_ctx_new(t, role, &bad, err, sizeof(err));
	if (!ctx) {
		/* err starts with the key it names; drop it, cfg_fail puts it in the path */
		const char *reason = err;
		size_t n = bad ? strlen(bad) : 0;
		if (n && !strncmp(err, bad, n) && (err[n] == ':' || err[n] == ' '))
			reason = err + n + (err[n] == ':' ? 2 : 1);
		return cfg_fail(x, path, bad ? bad : "enabled", "%s", reason);
	}
	tls_ctx_free(ctx);
	return 0;
}
