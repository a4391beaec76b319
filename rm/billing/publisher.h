/*
 * publisher: ships spooled billing records to rs (or an ActiveMQ broker) as STOMP 1.2
 * SENDs, on rm's service thread (a libevent event_base). No locks: every call comes
 * from the thread that runs the event_base.
 *
 * The spool is the queue. The caller appends a record to the spool and then calls
 * publisher_submit(); the publisher sends unreleased entries in sequence order, each
 * SEND carrying
 *     destination:<the entry's>, receipt:<seq>, persistent:true,
 *     content-type:application/json, content-length
 * with at most opts.window SENDs awaiting their RECEIPT (pipelining). On
 * RECEIPT receipt-id:<seq> the entry is released from the spool (spool_release) and
 * on_release is called. On a (re)connect every unreleased entry is sent again from
 * the start, in order: delivery is at-least-once and rs is idempotent on record id.
 *
 * Refusals (the retryable header is defined in common/stomp.h). A server closes the
 * connection after an ERROR (STOMP 1.2). Nothing is released unless it is either
 * receipted or proven permanently refused and written to the dead-letter file:
 *  - ERROR with a receipt-id naming an in-flight seq and retryable:false: the server
 *    will never take that record (rs: malformed JSON, a field out of range). It is
 *    appended to the dead-letter file in the spool directory (deadletter.h, fsync'd),
 *    logged with the server's message, counted as rejected and dead-lettered, then
 *    RELEASED: a bad record must not block every record behind it forever. The
 *    publisher reconnects to the same endpoint at once and resends the rest. If the
 *    dead-letter file cannot be written the record stays, as if retryable.
 *  - ERROR with such a receipt-id and retryable:true, or with no retryable header
 *    (not proven permanent): rs's "journal full", say. The record stays in the spool
 *    (counted as deferred); the publisher drops the connection and reconnects with
 *    back-off, and sends everything unreleased again, that record first.
 *  - ERROR without a receipt-id, or one naming no in-flight seq (bad login, too many
 *    connections, server trouble): about the connection; every in-flight record
 *    stays and is resent after a reconnect with back-off.
 * Consecutive refusals since the last RECEIPT grow the back-off like failed connects
 * do, so a server that accepts connections but refuses records is not hammered.
 * An entry the spool can no longer read back (checksum changed on disk) is logged,
 * counted as unreadable and released (billing counts it lost).
 *
 * Endpoints: an ordered list, the first is the primary. On a failed connect or a lost
 * connection the publisher moves to the next endpoint (wrapping around) after a
 * back-off that doubles from backoff_min_ms to backoff_max_ms and resets once a
 * STOMP session is up. While on a backup, every failback_ms it probes the primary
 * with a TCP connect; when that succeeds it stops sending on the backup, waits up to
 * 2 s for in-flight receipts, then reconnects to the primary (what is still in
 * flight is resent there).
 *
 * Heart-beats: CONNECT offers heart-beat:<hb>,<hb>; the negotiated send interval is
 * kept with newline heart-beats, and a connection silent for the negotiated receive
 * interval plus as much again (at least a second more) is dropped (the socket, TLS,
 * framing and heart-beats are common/ev/stomp_conn.h's). Hosts that are not numeric
 * addresses are resolved with evdns (never blocking the loop).
 */
#ifndef RM_PUBLISHER_H
#define RM_PUBLISHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spool.h"

struct event_base;
struct ssl_ctx_st;

typedef struct publisher publisher_t;

typedef struct publisher_endpoint {
	const char *host;     /* name or numeric address */
	unsigned short port;
	const char *login;    /* NULL: no login/passcode headers */
	const char *passcode;
} publisher_endpoint_t;

/* Why an entry was released. */
enum publisher_outcome {
	PUBLISHER_RECEIPTED = 0,    /* the server has it */
	PUBLISHER_DEAD_LETTERED = 1, /* refused for good; in the dead-letter file */
	PUBLISHER_UNREADABLE = 2,   /* the spool could not read it back: lost */
};

/* Called after an entry was released, with the reason. Used for metrics (end-to-end
 * latency, counters of dead letters and losses). */
typedef void (*publisher_release_fn)(uint64_t seq, enum publisher_outcome how, void *arg);

typedef struct publisher_opts {
	const publisher_endpoint_t *endpoints; /* copied; at least one */
	size_t nendpoints;
	const char *vhost;           /* CONNECT host header; NULL: the endpoint's host */
	unsigned window;             /* SENDs awaiting RECEIPT; 0 = 256 */
	unsigned backoff_min_ms;     /* 0 = 100 */
	unsigned backoff_max_ms;     /* 0 = 5000 */
	unsigned failback_ms;        /* probe the primary this often; 0 = 30000 */
	unsigned connect_timeout_ms; /* TCP connect + CONNECTED; 0 = 5000 */
	unsigned heartbeat_ms;       /* offered both ways; 0 = 10000 */
	bool no_heartbeat;           /* offer 0,0 instead */
	publisher_release_fn on_release; /* may be NULL */
	void *arg;
	struct ssl_ctx_st *tls;      /* borrowed (outlives the publisher); NULL = plain
				      * TCP. With it every connect is TLS (common/ev/tls_bev.h),
				      * its name checked against the endpoint's host. */
} publisher_opts_t;

typedef struct publisher_stats {
	uint64_t sent;             /* SEND frames written (resends included) */
	uint64_t receipted;        /* entries released on RECEIPT */
	uint64_t rejected;         /* entries refused for good (retryable:false) and
				      released: each is in the dead-letter file */
	uint64_t deferred;         /* per-record ERRORs that were retryable (or said
				      nothing): the record stayed in the spool */
	uint64_t unreadable;       /* entries released because the spool lost them */
	uint64_t connects;         /* STOMP sessions established */
	uint64_t reconnects;       /* sessions established after the first */
	uint64_t connect_failures; /* attempts that failed, and sessions lost */
	uint64_t failbacks;        /* switches from a backup back to the primary */
	int endpoint;              /* index of the connected endpoint, -1 if none */
	bool connected;            /* a STOMP session is up */
	size_t inflight;           /* SENDs awaiting RECEIPT */
} publisher_stats_t;

/* Create a publisher on base that ships the entries of spool (both borrowed: they
 * must outlive the publisher). Nothing happens until publisher_start. Returns NULL
 * with a sentence in err on bad options ("publisher: endpoint 2: port 0") or out of
 * memory. */
publisher_t *publisher_new(struct event_base *base, spool_t *spool,
			   const publisher_opts_t *opts, char *err, size_t errlen);

/* Connect to the primary (asynchronously) and keep shipping until freed. */
void publisher_start(publisher_t *p);

/* The caller appended seq to the spool: send it if the window allows (otherwise it
 * goes out in order as receipts arrive). Entries replayed by spool_open need no
 * submit: every connect sends all unreleased entries. */
void publisher_submit(publisher_t *p, uint64_t seq);

void publisher_get_stats(const publisher_t *p, publisher_stats_t *out);

/* Close the connection (no DISCONNECT: anything unreceipted stays in the spool) and
 * free everything. NULL is allowed. */
void publisher_free(publisher_t *p);

#endif
