/*
 * resolve: name resolution that never blocks rm's SIP thread (issue 10, item 1).
 *
 * sofia-sip's nta resolves a non-numeric destination itself, with its own resolver
 * (sres) inside the SIP thread; with no reachable nameserver it spins there. So rm
 * never hands nta a name: every place that gives nta a destination asks the resolver
 * first and passes the numeric address (the message keeps its URIs as they were).
 *
 * The resolver runs glibc's getaddrinfo_a (libc, no new library): lookups run on
 * glibc's own helper threads; the SIP thread only starts them and, while any is in
 * flight, looks at them on a short su_timer. Each lookup is bounded (timeout_ms): past
 * it, it counts as failed (the helper thread may run on; its memory is kept until it
 * ends). Answers are cached for cache_s (getaddrinfo gives no TTL); when a name stops
 * resolving the last good address is used for grace_s more; a failure is remembered
 * for a few seconds (negative cache) so a flood of requests naming a dead name costs
 * one lookup. Lookups in flight are bounded; past the bound a name fails at once.
 *
 * Everything except the pure helpers lives on the SIP thread.
 */
#ifndef RM_RESOLVE_H
#define RM_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESOLVE_ADDR_MAX 48 /* a numeric host, IPv6 in brackets, with its NUL */
#define RESOLVE_ADDRS_MAX 8 /* addresses kept per name */

struct su_root_s;
struct resolver;

/* Pure: is host a numeric IPv4 or IPv6 address ("[::1]" or "::1")? */
bool resolve_is_numeric(const char *host);

/* Pure: the host of a "sip:[user@]host[:port][;params]" URI string (IPv6 keeps its
 * brackets) into out. Returns 0, or -1 when there is none or it does not fit. */
int resolve_uri_host(const char *uri, char *out, size_t outlen);

enum resolve_rc {
	RESOLVE_OK = 0,  /* out holds a numeric host */
	RESOLVE_PENDING, /* a lookup runs; resolver_wait() to hear when it ends */
	RESOLVE_FAIL,    /* cannot be resolved now; *status: 404 (no such name) or 503 */
};

/* Settings (from sip.dns). */
struct resolve_cfg {
	bool off;       /* numeric hosts only */
	int timeout_ms; /* bound of one lookup */
	int cache_s;    /* answers are used this long */
	int grace_s;    /* then kept this long while the name fails */
};

/* A new resolver on root. NULL when out of memory. */
struct resolver *resolver_new(struct su_root_s *root, const struct resolve_cfg *cfg);
/* Apply new settings (reload). Cached answers stay. */
void resolver_configure(struct resolver *r, const struct resolve_cfg *cfg);
/* Cancel the waiters (each is called with 503), free everything. Lookups still
 * running in glibc's threads are abandoned and their memory left to the process
 * exit (rm frees the resolver only on its way out). NULL is allowed. */
void resolver_free(struct resolver *r);

/* Resolve host now if possible. RESOLVE_OK: the numeric host (IPv6 in brackets) is in
 * out (outlen >= 48 recommended). RESOLVE_PENDING: a lookup has been started (or was
 * already running). RESOLVE_FAIL: *status (may be NULL) is the SIP status to answer. */
enum resolve_rc resolver_lookup(struct resolver *r, const char *host, char *out,
				size_t outlen, int *status);

/* Like resolver_lookup, for a name that stands for every address it has (a trusted
 * peer): RESOLVE_OK fills out[0..*n) with up to max numeric hosts (IPv4 first, IPv6
 * in brackets; a numeric host is its own only address). The same cache, TTL refresh
 * and grace as resolver_lookup; never blocks. *n is 0 unless RESOLVE_OK. */
enum resolve_rc resolver_lookup_all(struct resolver *r, const char *host,
				    char (*out)[RESOLVE_ADDR_MAX], size_t max, size_t *n);

/* Call fn(arg, status) once the lookup of host ends: status 0 = resolved (look it up
 * again), or the SIP status to answer. Only after RESOLVE_PENDING. fn runs on the SIP
 * thread, never from inside this call. Returns 0, or -1 (out of memory: nothing will
 * be called). */
typedef void (*resolve_fn)(void *arg, int status);
int resolver_wait(struct resolver *r, const char *host, resolve_fn fn, void *arg);

/* Call every waiter with 503 now (shutdown). */
void resolver_cancel_waiters(struct resolver *r);

/* Start a lookup of a configured name ahead of its first use (no-op for numeric
 * hosts, cached names and with dns off). */
void resolver_prefetch(struct resolver *r, const char *host);

#endif
