/*
 * stomp_conn: one STOMP connection on a libevent loop, for every STOMP peer we write
 * (rs's listener, rs's broker consumer, rm's billing publisher, the cluster next).
 * It is the plumbing only: a bufferevent (TLS or plain, common/ev/tls_bev.h), the read
 * loop feeding common/stomp.h's parser, the frame send helper, heart-beats both ways,
 * a deadline timer, back-pressure pause/resume, and close-after-flush.
 *
 * What it does not know: which frames to send or expect (CONNECT, SEND, RECEIPT, ACK
 * are the owner's), records, spools, receipts or their meaning, endpoints lists,
 * fail-over, reconnect policy (common/ev/backoff.h computes delays), connection caps.
 *
 * Call sequence:
 *   server: accept(2) -> stomp_conn_accept() -> on_frame(CONNECT) -> the owner
 *           negotiates (stomp_heartbeat_negotiate), sends CONNECTED and calls
 *           stomp_conn_heartbeat() and stomp_conn_deadline(sc, 0).
 *   client: stomp_conn_connect() -> on_open (TCP and TLS up) -> the owner sends
 *           CONNECT -> on_frame(CONNECTED) -> stomp_conn_heartbeat(), deadline 0.
 *   then on_frame per frame until the connection ends, by the owner
 *   (stomp_conn_close now, or stomp_conn_end: close once the output is written) or by
 *   itself (on_close: peer closed, error, timeout).
 *
 * Ownership and callbacks:
 *  - The owner holds the stomp_conn_t until on_close is called or it calls
 *    stomp_conn_close; after either, the pointer is dead (the layer frees it).
 *  - on_close is called at most once, always from the loop, never from inside a
 *    stomp_conn_* call: an owner's call never re-enters the owner.
 *  - Inside any callback the owner may call any stomp_conn_* function on the same
 *    connection, stomp_conn_close included (the free is then deferred until the
 *    callback returns; no further callback comes).
 *  - A frame passed to on_frame (common/stomp.h) is valid during the call only.
 *  - The SSL_CTX and evdns_base are borrowed and must outlive the connection.
 *
 * Limits: frames as bounded by opts.limits; a parser error stops reading for good and
 * is reported by on_bad_input (the owner then sends ERROR and ends, or closes).
 * All functions run on the loop thread.
 */
#ifndef COMMON_EV_STOMP_CONN_H
#define COMMON_EV_STOMP_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>
#include <event2/util.h>

#include "stomp.h"

struct ssl_ctx_st;
struct evdns_base;

typedef struct stomp_conn stomp_conn_t;

/* Why a connection ended by itself (on_close). */
enum stomp_conn_end {
	STOMP_CONN_DONE = 0,       /* stomp_conn_end: the output was written, closed */
	STOMP_CONN_EOF,            /* the peer closed */
	STOMP_CONN_ERROR,          /* socket or DNS error: detail says which */
	STOMP_CONN_TLS_ERROR,      /* TLS handshake or session: detail is OpenSSL's reason */
	STOMP_CONN_HB_TIMEOUT,     /* nothing received within the heart-beat tolerance */
	STOMP_CONN_WRITE_TIMEOUT,  /* the peer does not read our output */
	STOMP_CONN_DEADLINE,       /* stomp_conn_deadline expired */
};

typedef struct stomp_conn_cbs {
	/* The transport is up: a client's TCP (and TLS) connect, to send CONNECT now; an
	 * accepted TLS connection's handshake. May be NULL. */
	void (*on_open)(stomp_conn_t *sc, void *arg);
	/* One complete frame. */
	void (*on_frame)(stomp_conn_t *sc, const stomp_frame_t *f, void *arg);
	/* The input is not STOMP (err: the parser's sentence). Reading has stopped for
	 * good; the owner ends (after an ERROR frame) or closes. NULL: closed as EOF. */
	void (*on_bad_input)(stomp_conn_t *sc, const char *err, void *arg);
	/* The connection ended by itself (never after stomp_conn_close). detail: the
	 * socket or DNS reason for STOMP_CONN_ERROR ("" when none is known), OpenSSL's for
	 * STOMP_CONN_TLS_ERROR, else "". sc is freed when this returns. */
	void (*on_close)(stomp_conn_t *sc, enum stomp_conn_end why, const char *detail,
			 void *arg);
} stomp_conn_cbs_t;

typedef struct stomp_conn_opts {
	const stomp_limits_t *limits; /* copied; NULL = stomp_limits_default */
	unsigned deadline_ms;         /* first deadline (CONNECT, connect+CONNECTED);
				       * 0 = none */
	unsigned write_timeout_ms;    /* output not progressing this long: close; 0 = none */
	unsigned flush_timeout_ms;    /* stomp_conn_end's bound; 0 = 10000 */
	int family;                   /* client name lookups: AF_INET, ...; 0 = any */
} stomp_conn_opts_t;

/* Take an accepted socket (a TLS server session when tls is not NULL). Returns the
 * connection, or NULL (out of memory; fd is then closed). */
stomp_conn_t *stomp_conn_accept(struct event_base *base, struct ssl_ctx_st *tls,
				evutil_socket_t fd, const stomp_conn_opts_t *opts,
				const stomp_conn_cbs_t *cbs, void *arg);

/* Start connecting to host:port (host: a name or a numeric v4/v6 address, no
 * brackets). Names are resolved with dns (borrowed; NULL = libevent's blocking
 * fallback, so pass one). With tls, the session checks the server's name against
 * host. Returns the connection (on_open or on_close follow, from the loop), or NULL
 * with a sentence in err. */
stomp_conn_t *stomp_conn_connect(struct event_base *base, struct evdns_base *dns,
				 struct ssl_ctx_st *tls, const char *host, int port,
				 const stomp_conn_opts_t *opts, const stomp_conn_cbs_t *cbs,
				 void *arg, char *err, size_t errlen);

/* Encode and queue a frame (common/stomp.h's stomp_encode). 0, or -1 when the
 * connection is closed or ending, or out of memory. */
int stomp_conn_send(stomp_conn_t *sc, enum stomp_command cmd, const stomp_header_t *h,
		    size_t nh, const char *body, size_t body_len);

/* Queue bytes already encoded (a frame kept for later). 0 / -1 as above. */
int stomp_conn_send_raw(stomp_conn_t *sc, const char *data, size_t len);

/* Start heart-beats as negotiated (stomp_heartbeat_negotiate's send_ms and recv_ms):
 * a newline whenever nothing was written for half of send_ms (0 = never), and close
 * (STOMP_CONN_HB_TIMEOUT) when nothing arrives for recv_ms plus as much again, at
 * least one second more (0 = silence is fine, STOMP 1.2 "0,0"). Call again to change. */
void stomp_conn_heartbeat(stomp_conn_t *sc, unsigned send_ms, unsigned recv_ms);

/* Close with STOMP_CONN_DEADLINE unless this is called again within ms (0 = disarm).
 * A timer: bytes received do not push it back. */
void stomp_conn_deadline(stomp_conn_t *sc, unsigned ms);

/* Back-pressure: stop (true) or resume (false) reading. Input already buffered is
 * processed after a resume, from the loop. */
void stomp_conn_pause(stomp_conn_t *sc, bool paused);
bool stomp_conn_paused(const stomp_conn_t *sc);

/* Read nothing more (later input is discarded) but keep the socket: the owner still
 * writes (frames it owes) and then calls stomp_conn_end. Bounds a peer that does not
 * read by opts.flush_timeout_ms from here on. */
void stomp_conn_stop_reading(stomp_conn_t *sc);

/* Stop reading and close once everything queued is written (on_close with
 * STOMP_CONN_DONE), bounded by opts.flush_timeout_ms (STOMP_CONN_WRITE_TIMEOUT). */
void stomp_conn_end(stomp_conn_t *sc);

/* True after stomp_conn_stop_reading or stomp_conn_end. */
bool stomp_conn_ending(const stomp_conn_t *sc);

/* Close now, without on_close; anything unwritten is lost. NULL is allowed. */
void stomp_conn_close(stomp_conn_t *sc);

/* Bytes queued and not yet written. */
size_t stomp_conn_output_pending(const stomp_conn_t *sc);

#endif
