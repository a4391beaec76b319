/* tls_bev: bufferevent_openssl around a socket. See tls_bev.h. */
#include "tls_bev.h"

#include <stdio.h>
#include <string.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls.h"

struct bufferevent *tls_bev_accept(struct event_base *base, struct ssl_ctx_st *ctx,
				   evutil_socket_t fd, int opts)
{
	struct bufferevent *bev;
	SSL *ssl;

	if (!ctx)
		return bufferevent_socket_new(base, fd, opts);
	ssl = SSL_new(ctx);
	if (!ssl)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, opts);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

struct bufferevent *tls_bev_client(struct event_base *base, struct ssl_ctx_st *ctx,
				   const char *host, int opts, char *err, size_t errlen)
{
	struct bufferevent *bev;
	SSL *ssl;

	if (!ctx) {
		bev = bufferevent_socket_new(base, -1, opts);
		if (!bev)
			snprintf(err, errlen, "out of memory");
		return bev;
	}
	ssl = tls_client_ssl(ctx, host, err, errlen);
	if (!ssl)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, opts);
	if (!bev) {
		SSL_free(ssl);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

const char *tls_bev_error(struct bufferevent *bev, char *buf, size_t len)
{
	unsigned long e;
	const char *r;

	if (!bufferevent_openssl_get_ssl(bev))
		return NULL;
	e = bufferevent_get_openssl_error(bev);
	if (!e)
		return NULL;
	if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		/* The peer just closed (a TCP liveness probe does): not worth a line. */
		while (bufferevent_get_openssl_error(bev))
			;
		return NULL;
	}
	r = ERR_reason_error_string(e);
	if (r)
		snprintf(buf, len, "%s", r);
	else
		ERR_error_string_n(e, buf, len);
	long v = SSL_get_verify_result(bufferevent_openssl_get_ssl(bev));
	if (v != X509_V_OK) {
		size_t n = strlen(buf);
		snprintf(buf + n, len - n, ": %s", X509_verify_cert_error_string(v));
	}
	/* The rest of the queue belongs to this failure too. */
	while (bufferevent_get_openssl_error(bev))
		;
	return buf;
}
