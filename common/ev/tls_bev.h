/*
 * tls_bev: the one place that puts libevent's bufferevent_openssl around a socket.
 * Callers keep using the bufferevent API; with a NULL context they get a plain
 * socket bufferevent, so a TLS link and a plain one share every other line of code.
 *
 * Ownership: with BEV_OPT_CLOSE_ON_FREE in opts, bufferevent_free closes the socket
 * and frees the SSL session; the SSL_CTX (common/ev/tls.h) stays the caller's and must
 * outlive every bufferevent made from it. A peer that closes without a TLS
 * close_notify is reported as BEV_EVENT_EOF, as on a plain socket.
 * BEV_EVENT_CONNECTED comes once the TLS handshake is done (client and server).
 * A failed handshake comes as BEV_EVENT_ERROR: tls_bev_error says why.
 */
#ifndef COMMON_TLS_BEV_H
#define COMMON_TLS_BEV_H

#include <stddef.h>

#include <event2/bufferevent.h>
#include <event2/util.h>

struct ssl_ctx_st;

/* A bufferevent for an accepted socket fd: a TLS server session when ctx is not
 * NULL. Returns NULL on failure (fd is then NOT closed: the caller closes it). */
struct bufferevent *tls_bev_accept(struct event_base *base, struct ssl_ctx_st *ctx,
				   evutil_socket_t fd, int opts);

/* A bufferevent with no socket yet, for bufferevent_socket_connect[_hostname]: a TLS
 * client session toward host (SNI and name check, see tls_client_ssl) when ctx is
 * not NULL. Returns NULL with a sentence in err. */
struct bufferevent *tls_bev_client(struct event_base *base, struct ssl_ctx_st *ctx,
				   const char *host, int opts, char *err, size_t errlen);

/* Why a TLS bufferevent failed (the OpenSSL reason, e.g. "certificate verify
 * failed", "wrong version number"), or NULL for a plain one, when OpenSSL recorded
 * nothing, or when the peer merely closed before or during the handshake (a TCP
 * probe does). Uses buf. */
const char *tls_bev_error(struct bufferevent *bev, char *buf, size_t len);

#endif
