/*
 * resolve: bounded, cached, asynchronous name resolution for the SIP thread (see
 * resolve.h for the design).
 */
#define SU_TIMER_ARG_T struct resolver
#include "resolve.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <sofia-sip/su_wait.h>

#include "log.h"

#define RES_HOST_MAX 256
#define RES_ADDR_MAX RESOLVE_ADDR_MAX
#define RES_CACHE_MAX 512  /* names remembered */
#define RES_INFLIGHT_MAX 64 /* lookups running (incl. abandoned ones) */
#define RES_POLL_MS 10     /* look at running lookups this often */
#define RES_NEG_MS 5000    /* a failure is remembered this long */

struct waiter {
	resolve_fn fn;
	void *arg;
	struct waiter *next;
};

struct lookup {
	struct gaicb cb;
	struct addrinfo hints;
	char name[RES_HOST_MAX];
	int64_t deadline_ms;
	struct entry *entry; /* NULL once abandoned (timed out) */
	struct lookup *next;
};

struct entry {
	char name[RES_HOST_MAX];
	char addr[RES_ADDR_MAX]; /* last good numeric address, "" if none */
	char all[RESOLVE_ADDRS_MAX][RES_ADDR_MAX]; /* every address of that answer */
	size_t n_all;
	int64_t good_until;      /* addr is fresh until then */
	int64_t keep_until;      /* addr may be used until then (grace) */
	int64_t fail_until;      /* negative cache */
	int fail_status;         /* 404 or 503 */
	int64_t used_ms;
	struct lookup *lk;       /* running lookup */
	struct waiter *waiters;
};

struct resolver {
	su_root_t *root;
	su_timer_t *timer;
	bool timer_set;
	struct resolve_cfg cfg;
	struct entry *cache; /* RES_CACHE_MAX slots; name[0] == 0: free */
	struct lookup *running;
	size_t n_running;
};

static int64_t res_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- pure helpers --------------------------------------------------------------- */

bool resolve_is_numeric(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char tmp[RES_ADDR_MAX];
	size_t n;

	if (!host || !*host)
		return false;
	if (inet_pton(AF_INET, host, buf) == 1)
		return true;
	n = strlen(host);
	if (host[0] == '[' && n > 2 && host[n - 1] == ']' && n - 2 < sizeof tmp) {
		memcpy(tmp, host + 1, n - 2);
		tmp[n - 2] = '\0';
		host = tmp;
	}
	return inet_pton(AF_INET6, host, buf) == 1;
}

int resolve_uri_host(const char *uri, char *out, size_t outlen)
{
	const char *h, *end;

	if (strncasecmp(uri, "sips:", 5) == 0)
		h = uri + 5;
	else if (strncasecmp(uri, "sip:", 4) == 0)
		h = uri + 4;
	else
		return -1;
	end = h + strcspn(h, ";?>");
	const char *at = memchr(h, '@', (size_t)(end - h));
	if (at)
		h = at + 1;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));
		if (!rb)
			return -1;
		end = rb + 1;
	} else {
		end = h + strcspn(h, ":;?>");
	}
	if (end == h || (size_t)(end - h) >= outlen)
		return -1;
	memcpy(out, h, (size_t)(end - h));
	out[end - h] = '\0';
	return 0;
}

/* ---- cache ------------------------------------------------------------------------ */

static struct entry *entry_find(struct resolver *r, const char *name)
{
	for (size_t i = 0; i < RES_CACHE_MAX; i++)
		if (r->cache[i].name[0] && strcasecmp(r->cache[i].name, name) == 0)
			return &r->cache[i];
	return NULL;
}

/* A slot for name: a free one, else the least recently used one that has no lookup
 * running and nobody waiting. NULL when every slot is busy. */
static struct entry *entry_new(struct resolver *r, const char *name)
{
	struct entry *victim = NULL;

	for (size_t i = 0; i < RES_CACHE_MAX; i++) {
		struct entry *e = &r->cache[i];
		if (!e->name[0]) {
			victim = e;
			break;
		}
		if (!e->lk && !e->waiters && (!victim || e->used_ms < victim->used_ms))
			victim = e;
	}
	if (!victim)
		return NULL;
	memset(victim, 0, sizeof *victim);
	snprintf(victim->name, sizeof victim->name, "%s", name);
	return victim;
}

/* The first address of res, IPv4 preferred, as a URI host. */
static int pick_addr(const struct addrinfo *res, char *out, size_t outlen)
{
	const struct addrinfo *v6 = NULL;
	char tmp[INET6_ADDRSTRLEN];

	for (const struct addrinfo *a = res; a; a = a->ai_next) {
		if (a->ai_family == AF_INET) {
			const struct sockaddr_in *sin = (const void *)a->ai_addr;
			if (!inet_ntop(AF_INET, &sin->sin_addr, tmp, sizeof tmp))
				continue;
			snprintf(out, outlen, "%s", tmp);
			return 0;
		}
		if (a->ai_family == AF_INET6 && !v6)
			v6 = a;
	}
	if (!v6)
		return -1;
	const struct sockaddr_in6 *sin6 = (const void *)v6->ai_addr;
	if (!inet_ntop(AF_INET6, &sin6->sin6_addr, tmp, sizeof tmp))
		return -1;
	snprintf(out, outlen, "[%s]", tmp);
	return 0;
}

/* Every distinct address of res (IPv4 first, as pick_addr), at most max. */
static size_t all_addrs(const struct addrinfo *res, char (*out)[RES_ADDR_MAX], size_t max)
{
	char tmp[INET6_ADDRSTRLEN], a[RES_ADDR_MAX];
	size_t n = 0;

	for (int pass = 0; pass < 2; pass++)
		for (const struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next) {
			if (pass == 0 && ai->ai_family == AF_INET) {
				const struct sockaddr_in *sin = (const void *)ai->ai_addr;
				if (!inet_ntop(AF_INET, &sin->sin_addr, tmp, sizeof tmp))
					continue;
				snprintf(a, sizeof a, "%s", tmp);
			} else if (pass == 1 && ai->ai_family == AF_INET6) {
				const struct sockaddr_in6 *sin6 = (const void *)ai->ai_addr;
				if (!inet_ntop(AF_INET6, &sin6->sin6_addr, tmp, sizeof tmp))
					continue;
				snprintf(a, sizeof a, "[%s]", tmp);
			} else {
				continue;
			}
			size_t k = 0;
			while (k < n && strcmp(out[k], a) != 0)
				k++;
			if (k == n)
				memcpy(out[n++], a, sizeof a);
		}
	return n;
}

static void timer_arm(struct resolver *r);

/* ---- lookups ---------------------------------------------------------------------- */

static int lookup_start(struct resolver *r, struct entry *e)
{
	struct lookup *lk;
	struct gaicb *list[1];
	int rc;

	if (e->lk)
		return 0;
	if (r->n_running >= RES_INFLIGHT_MAX) {
		log_warn("dns: %zu lookups already running, %s not looked up", r->n_running,
			 e->name);
		return -1;
	}
	lk = calloc(1, sizeof *lk);
	if (!lk)
		return -1;
	snprintf(lk->name, sizeof lk->name, "%s", e->name);
	lk->hints.ai_family = AF_UNSPEC;
	lk->hints.ai_socktype = SOCK_DGRAM;
	lk->cb.ar_name = lk->name;
	lk->cb.ar_request = &lk->hints;
	lk->deadline_ms = res_now_ms() + r->cfg.timeout_ms;
	lk->entry = e;
	list[0] = &lk->cb;
	rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	if (rc != 0) {
		log_warn("dns: cannot start the lookup of %s: %s", e->name, gai_strerror(rc));
		free(lk);
		return -1;
	}
	lk->next = r->running;
	r->running = lk;
	r->n_running++;
	e->lk = lk;
	timer_arm(r);
	return 0;
}

static void waiters_fire(struct entry *e, int status)
{
	struct waiter *w = e->waiters;

	e->waiters = NULL;
	while (w) {
		struct waiter *next = w->next;
		w->fn(w->arg, status);
		free(w);
		w = next;
	}
}

/* The lookup of e ended: rc is getaddrinfo's result (or EAI_AGAIN for a timeout). */
static void entry_done(struct resolver *r, struct entry *e, int rc,
		       const struct addrinfo *res, int64_t now)
{
	char addr[RES_ADDR_MAX];

	e->lk = NULL;
	if (rc == 0 && pick_addr(res, addr, sizeof addr) == 0) {
		if (strcmp(addr, e->addr) != 0)
			log_info("dns: %s is %s", e->name, addr);
		snprintf(e->addr, sizeof e->addr, "%s", addr);
		e->n_all = all_addrs(res, e->all, RESOLVE_ADDRS_MAX);
		e->good_until = now + (int64_t)r->cfg.cache_s * 1000;
		e->keep_until = e->good_until + (int64_t)r->cfg.grace_s * 1000;
		e->fail_until = 0;
		waiters_fire(e, 0);
		return;
	}
	e->fail_status = rc == EAI_NONAME ? 404 : 503;
	e->fail_until = now + RES_NEG_MS;
	bool grace = e->addr[0] && now < e->keep_until;
	log_warn("dns: cannot resolve %s: %s%s%s", e->name,
		 rc == 0 ? "no usable address" : gai_strerror(rc),
		 grace ? "; keeping the last good address " : "", grace ? e->addr : "");
	waiters_fire(e, grace ? 0 : e->fail_status);
}

/* Look at every running lookup: finished ones update their entry, overdue ones are
 * abandoned (their entry fails; the memory goes when glibc is done with it). */
static void poll_running(struct resolver *r)
{
	int64_t now = res_now_ms();
	struct lookup **pp = &r->running;

	while (*pp) {
		struct lookup *lk = *pp;
		int rc = gai_error(&lk->cb);
		if (rc == EAI_INPROGRESS) {
			if (lk->entry && now >= lk->deadline_ms) {
				struct entry *e = lk->entry;
				lk->entry = NULL;
				gai_cancel(&lk->cb);
				entry_done(r, e, EAI_AGAIN, NULL, now);
			}
			pp = &lk->next;
			continue;
		}
		*pp = lk->next;
		r->n_running--;
		if (lk->entry)
			entry_done(r, lk->entry, rc, lk->cb.ar_result, now);
		if (lk->cb.ar_result)
			freeaddrinfo(lk->cb.ar_result);
		free(lk);
	}
}

static void on_timer(su_root_magic_t *m, su_timer_t *t, struct resolver *r)
{
	r->timer_set = false;
	poll_running(r);
	if (r->running)
		timer_arm(r);
}

static void timer_arm(struct resolver *r)
{
	if (r->timer_set || !r->timer)
		return;
	if (su_timer_set_interval(r->timer, on_timer, r, RES_POLL_MS) == 0)
		r->timer_set = true;
}

/* ---- public ------------------------------------------------------------------------ */

struct resolver *resolver_new(struct su_root_s *root, const struct resolve_cfg *cfg)
{
	struct resolver *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->root = root;
	r->cfg = *cfg;
	r->cache = calloc(RES_CACHE_MAX, sizeof *r->cache);
	r->timer = su_timer_create(su_root_task(root), RES_POLL_MS);
	if (!r->cache || !r->timer) {
		resolver_free(r);
		return NULL;
	}
	return r;
}

void resolver_configure(struct resolver *r, const struct resolve_cfg *cfg)
{
	if (r)
		r->cfg = *cfg;
}

void resolver_cancel_waiters(struct resolver *r)
{
	for (size_t i = 0; r && r->cache && i < RES_CACHE_MAX; i++)
		waiters_fire(&r->cache[i], 503);
}

void resolver_free(struct resolver *r)
{
	if (!r)
		return;
	resolver_cancel_waiters(r);
	while (r->running) {
		struct lookup *lk = r->running;
		r->running = lk->next;
		if (gai_cancel(&lk->cb) == EAI_CANCELED || gai_error(&lk->cb) != EAI_INPROGRESS) {
			if (lk->cb.ar_result)
				freeaddrinfo(lk->cb.ar_result);
			free(lk);
		} /* else: glibc's thread still writes into lk: left to the exit */
	}
	if (r->timer)
		su_timer_destroy(r->timer);
	free(r->cache);
	free(r);
}

/* The cache entry answering host now (*e; NULL for a numeric host), or why not. */
static enum resolve_rc lookup_entry(struct resolver *r, const char *host,
				    struct entry **ep, int *status)
{
	int64_t now = res_now_ms();
	struct entry *e;
	int st = 503;

	*ep = NULL;
	if (resolve_is_numeric(host))
		return RESOLVE_OK;
	if (r->cfg.off || strlen(host) >= RES_HOST_MAX)
		goto fail;
	e = entry_find(r, host);
	if (e) {
		e->used_ms = now;
		if (e->addr[0] && now < e->keep_until) {
			if (now >= e->good_until && now >= e->fail_until)
				lookup_start(r, e); /* refresh in the background */
			*ep = e;
			return RESOLVE_OK;
		}
		if (e->lk)
			return RESOLVE_PENDING;
		if (now < e->fail_until) {
			st = e->fail_status;
			goto fail;
		}
	} else if (!(e = entry_new(r, host))) {
		goto fail;
	}
	e->used_ms = now;
	if (lookup_start(r, e) < 0)
		goto fail;
	return RESOLVE_PENDING;
fail:
	if (status)
		*status = st;
	return RESOLVE_FAIL;
}

enum resolve_rc resolver_lookup(struct resolver *r, const char *host, char *out,
				size_t outlen, int *status)
{
	struct entry *e;
	enum resolve_rc rc = lookup_entry(r, host, &e, status);

	if (rc == RESOLVE_OK)
		snprintf(out, outlen, "%s", e ? e->addr : host);
	return rc;
}

enum resolve_rc resolver_lookup_all(struct resolver *r, const char *host,
				    char (*out)[RESOLVE_ADDR_MAX], size_t max, size_t *n)
{
	struct entry *e;
	enum resolve_rc rc = lookup_entry(r, host, &e, NULL);

	*n = 0;
	if (rc != RESOLVE_OK)
		return rc;
	if (!e) {
		if (max > 0)
			snprintf(out[(*n)++], RESOLVE_ADDR_MAX, "%s", host);
		return rc;
	}
	for (size_t i = 0; i < e->n_all && *n < max; i++)
		memcpy(out[(*n)++], e->all[i], RESOLVE_ADDR_MAX);
	return rc;
}

int resolver_wait(struct resolver *r, const char *host, resolve_fn fn, void *arg)
{
	struct entry *e = entry_find(r, host);
	struct waiter *w;

	if (!e || !e->lk)
		return -1;
	w = calloc(1, sizeof *w);
	if (!w)
		return -1;
	w->fn = fn;
	w->arg = arg;
	w->next = e->waiters;
	e->waiters = w;
	return 0;
}

void resolver_prefetch(struct resolver *r, const char *host)
{
	char out[RES_ADDR_MAX];

	if (r && host && !r->cfg.off && !resolve_is_numeric(host))
		(void)resolver_lookup(r, host, out, sizeof out, NULL);
}
