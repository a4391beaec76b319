/* auth_limit: failures of token checks per source. See auth_limit.h. */
#include "auth_limit.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct source {
	unsigned char key[8];
	uint8_t len;          /* 0: free */
	uint32_t failures;    /* in the window that began at since */
	int64_t since, last, blocked_until;
};

struct auth_limit {
	uint64_t seed;
	struct source s[AUTH_LIMIT_SETS][AUTH_LIMIT_WAYS];
};

auth_limit_t *auth_limit_new(uint64_t seed)
{
	auth_limit_t *l = calloc(1, sizeof(*l));
	if (l)
		l->seed = seed | 1;
	return l;
}

void auth_limit_free(auth_limit_t *l)
{
	free(l);
}

size_t auth_limit_key(int family, const void *addr, unsigned char key[8])
{
	const unsigned char *a = addr;
	if (family == AF_INET) {
		memcpy(key, a, 4);
		return 4;
	}
	if (family != AF_INET6)
		return 0;
	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)addr)) {
		memcpy(key, a + 12, 4);
		return 4;
	}
	memcpy(key, a, 8); /* the /64 */
	return 8;
}

/* FNV-1a over seed and key, then mixed: the set of a key. */
static size_t set_of(const auth_limit_t *l, const unsigned char *key, size_t len)
{
	uint64_t h = 1469598103934665603ULL ^ l->seed;
	for (size_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 1099511628211ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)(h % AUTH_LIMIT_SETS);
}

static struct source *find(auth_limit_t *l, const unsigned char *key, size_t len)
{
	struct source *set = l->s[set_of(l, key, len)];
	for (int w = 0; w < AUTH_LIMIT_WAYS; w++)
		if (set[w].len == len && !memcmp(set[w].key, key, len))
			return &set[w];
	return NULL;
}

int64_t auth_limit_blocked(auth_limit_t *l, const unsigned char *key, size_t len,
			   int64_t now_ms)
{
	struct source *s = len ? find(l, key, len) : NULL;
	return s && s->blocked_until > now_ms ? s->blocked_until - now_ms : 0;
}

/* A way for a new source: a free one, else one whose window and block are over,
 * else the unblocked one whose last failure is oldest, else the oldest of all. */
static struct source *take(auth_limit_t *l, const unsigned char *key, size_t len,
			   int64_t now_ms)
{
	struct source *set = l->s[set_of(l, key, len)], *best = NULL;
	for (int w = 0; w < AUTH_LIMIT_WAYS; w++) {
		struct source *s = &set[w];
		bool blocked = s->blocked_until > now_ms;
		if (!s->len || (s->since + AUTH_LIMIT_WINDOW_MS <= now_ms && !blocked)) {
			best = s;
			break;
		}
		if (!best || (blocked == (best->blocked_until > now_ms) && s->last < best->last) ||
		    (!blocked && best->blocked_until > now_ms))
			best = s;
	}
	memset(best, 0, sizeof(*best));
	memcpy(best->key, key, len);
	best->len = (uint8_t)len;
	best->since = now_ms;
	return best;
}

int64_t auth_limit_fail(auth_limit_t *l, const unsigned char *key, size_t len,
			int64_t now_ms)
{
	struct source *s;

	if (!len)
		return 0;
	if (!(s = find(l, key, len)))
		s = take(l, key, len, now_ms);
	if (s->since + AUTH_LIMIT_WINDOW_MS <= now_ms) { /* a new window */
		s->since = now_ms;
		s->failures = 0;
	}
	s->last = now_ms;
	if (++s->failures < AUTH_LIMIT_FAILURES || s->blocked_until > now_ms)
		return 0;
	s->blocked_until = now_ms + AUTH_LIMIT_BLOCK_MS;
	s->failures = 0;
	s->since = now_ms;
	return AUTH_LIMIT_BLOCK_MS;
}
