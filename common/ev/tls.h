/*
 * tls: TLS settings of one STOMP link, read from a config object and turned into an
 * OpenSSL SSL_CTX. Pure: no sockets, no event loop (common/ev/tls_bev.h wraps
 * libevent's bufferevent_openssl around the context this returns).
 *
 * Two roles share one settings struct:
 *   server (rs's STOMP listener, config key stomp.tls):
 *     {enabled false, cert_file, key_file, ca_file, require_client_cert false}
 *     cert_file and key_file are required when enabled. With ca_file, client
 *     certificates are asked for and checked against it; require_client_cert (which
 *     needs ca_file) refuses a client that presents none.
 *   client (rs's broker consumer broker.tls, rm's publisher billing.tls):
 *     {enabled false, ca_file, cert_file, key_file, verify true}
 *     verify checks the server's certificate chain against ca_file (the system's
 *     trust store when ca_file is empty) and its name against the host dialled
 *     (DNS name or IP address SAN). cert_file + key_file (both or neither) is the
 *     client certificate offered to servers that ask for one.
 * Both roles: TLS 1.2 at least. Errors are one sentence naming the file and the
 * reason, e.g. "cert_file /etc/rs/tls.crt: cannot read: No such file or directory",
 * "key_file /etc/rs/tls.key does not match cert_file /etc/rs/tls.crt".
 */
#ifndef COMMON_TLS_H
#define COMMON_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg.h"

struct ssl_ctx_st; /* OpenSSL's SSL_CTX */
struct ssl_st;     /* OpenSSL's SSL */

enum tls_role { TLS_SERVER, TLS_CLIENT };

typedef struct tls_config {
	bool enabled;
	char cert_file[512]; /* "" = none */
	char key_file[512];
	char ca_file[512];
	bool verify; /* client: check the server (default true); server: require_client_cert */
} tls_config_t;

/* Defaults for a role (disabled; a client verifies). */
void tls_config_defaults(tls_config_t *t, enum tls_role role);

/* Read the object obj.key (e.g. where "stomp", key "tls"; absent = keep *t) with the
 * keys of role, and when enabled build a context once to prove the files load.
 * Errors go to x as "FILE: stomp.tls.cert_file: <reason>". Returns 0 or -1. */
int tls_config_read(cfg_ctx_t *x, const cJSON *obj, const char *where, const char *key,
		    enum tls_role role, tls_config_t *t);

/* Build a context from t (which must be enabled). Returns it (caller frees with
 * tls_ctx_free) or NULL with a sentence in err; *bad_key (may be NULL) is then set to
 * the key at fault ("cert_file", "key_file", "ca_file", ...). */
struct ssl_ctx_st *tls_ctx_new(const tls_config_t *t, enum tls_role role,
			       const char **bad_key, char *err, size_t errlen);

/* NULL is allowed. */
void tls_ctx_free(struct ssl_ctx_st *ctx);

/* A client session on ctx toward host (a name or a numeric address): sets SNI for a
 * name and, when ctx verifies the peer, the name or address the certificate must
 * carry. Returns the SSL (caller owns it, or hands it to a bufferevent) or NULL with
 * err. */
struct ssl_st *tls_client_ssl(struct ssl_ctx_st *ctx, const char *host, char *err,
			      size_t errlen);

/* The oldest queued OpenSSL error of this thread as text (then clears the queue), or
 * fallback when there is none. Returns buf. */
const char *tls_last_error(char *buf, size_t len, const char *fallback);

#endif
