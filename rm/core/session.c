/* session: the live-dialog table (contract in session.h). */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "util.h"

#define SESSION_MIN_BUCKETS 256

struct session_table {
	struct session **buckets;
	size_t n_buckets; /* power of two */
	size_t count;
	struct session *head, *tail; /* insertion order */
	int64_t max_duration_ms;
	session_end_fn on_end;
	void *arg;
};

static const char *const ender_names[] = {"none",	"caller",  "mcp",
					  "rm-timeout", "rm-drain", "rm-keepalive",
					  "rm", "rm-peer-lost"};

const char *session_ender_name(enum session_ender e)
{
	return (int)e >= 0 && e <= SESSION_END_RM_PEER_LOST ? ender_names[e] : "?";
}

/* FNV-1a over the Call-ID: only the Call-ID is hashed so a lookup can match either
 * tag direction within one chain. */
static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

struct session_table *session_table_new(int64_t max_duration_ms, session_end_fn on_end,
					void *arg)
{
	struct session_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->buckets = calloc(SESSION_MIN_BUCKETS, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	t->n_buckets = SESSION_MIN_BUCKETS;
	t->max_duration_ms = max_duration_ms;
	t->on_end = on_end;
	t->arg = arg;
	return t;
}

static void session_free(struct session *s)
{
	free(s->call_id);
	free(s->from_tag);
	free(s);
}

void session_table_free(struct session_table *t)
{
	if (!t)
		return;
	struct session *s = t->head, *n;
	for (; s; s = n) {
		n = s->next;
		session_free(s);
	}
	free(t->buckets);
	free(t);
}

void session_table_set_max_duration(struct session_table *t, int64_t max_duration_ms)
{
	t->max_duration_ms = max_duration_ms;
}

void session_table_set_hook(struct session_table *t, session_end_fn on_end, void *arg)
{
	t->on_end = on_end;
	t->arg = arg;
}

/* Double the buckets when the load passes 1; on failure keep the old size (slower,
 * still correct). */
static void grow(struct session_table *t)
{
	size_t nb = t->n_buckets * 2;
	struct session **b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	for (struct session *s = t->head; s; s = s->next) {
		size_t i = s->hash & (nb - 1);
		s->hnext = b[i];
		b[i] = s;
	}
	free(t->buckets);
	t->buckets = b;
	t->n_buckets = nb;
}

static bool tag_eq(const char *a, const char *b)
{
	return strcmp(a, b ? b : "") == 0;
}

struct session *session_insert(struct session_table *t, const char *call_id,
			       const char *from_tag, int64_t now_ms)
{
	if (!call_id || !call_id[0])
		return NULL;
	if (!from_tag)
		from_tag = "";
	uint32_t h = hash_str(call_id);
	for (struct session *s = t->buckets[h & (t->n_buckets - 1)]; s; s = s->hnext)
		if (s->hash == h && strcmp(s->call_id, call_id) == 0 &&
		    tag_eq(s->from_tag, from_tag))
			return NULL;

	struct session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->call_id = strdup(call_id);
	s->from_tag = strdup(from_tag);
	if (!s->call_id || !s->from_tag) {
		session_free(s);
		return NULL;
	}
	s->hash = h;
	s->start_ms = now_ms;
	s->deadline_ms = t->max_duration_ms > 0 ? now_ms + t->max_duration_ms : 0;
	util_uuid4(s->gvp_session_id);

	if (t->count >= t->n_buckets)
		grow(t);
	size_t i = h & (t->n_buckets - 1);
	s->hnext = t->buckets[i];
	t->buckets[i] = s;
	s->prev = t->tail;
	if (t->tail)
		t->tail->next = s;
	else
		t->head = s;
	t->tail = s;
	t->count++;
	return s;
}

struct session *session_lookup(const struct session_table *t, const char *call_id,
			       const char *tag_a, const char *tag_b)
{
	if (!call_id)
		return NULL;
	uint32_t h = hash_str(call_id);
	struct session *found = NULL;
	for (struct session *s = t->buckets[h & (t->n_buckets - 1)]; s; s = s->hnext) {
		if (s->hash != h || strcmp(s->call_id, call_id) != 0)
			continue;
		if (!tag_a && !tag_b) {
			/* Chains are newest first: keep going to return the oldest. */
			found = s;
			continue;
		}
		if ((tag_a && strcmp(s->from_tag, tag_a) == 0) ||
		    (tag_b && strcmp(s->from_tag, tag_b) == 0))
			return s;
	}
	return found;
}

static void unlink_session(struct session_table *t, struct session *s)
{
	struct session **pp = &t->buckets[s->hash & (t->n_buckets - 1)];
	while (*pp && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = s->hnext;
	if (s->prev)
		s->prev->next = s->next;
	else
		t->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		t->tail = s->prev;
	t->count--;
}

void session_remove(struct session_table *t, struct session *s)
{
	unlink_session(t, s);
	session_free(s);
}

void session_end(struct session_table *t, struct session *s, int final_status,
		 enum session_ender who, int64_t now_ms)
{
	if (!s->end_ms)
		s->end_ms = now_ms;
	if (!s->final_status)
		s->final_status = final_status;
	if (s->ended_by == SESSION_END_NONE)
		s->ended_by = who;
	unlink_session(t, s);
	if (t->on_end)
		t->on_end(s, t->arg);
	session_free(s);
}

void session_end_all(struct session_table *t, int final_status, enum session_ender who,
		     int64_t now_ms)
{
	struct session *s, *n;
	for (s = t->head; s; s = n) {
		n = s->next;
		session_end(t, s, final_status, who, now_ms);
	}
}

size_t session_count(const struct session_table *t)
{
	return t->count;
}

struct session *session_first(const struct session_table *t)
{
	return t->head;
}

struct session *session_last(const struct session_table *t)
{
	return t->tail;
}

struct session *session_prev(const struct session *s)
{
	return s->prev;
}

struct session *session_next(const struct session *s)
{
	return s->next;
}

size_t session_expire(const struct session_table *t, int64_t now_ms, struct session **out,
		      size_t cap)
{
	size_t n = 0;
	for (struct session *s = t->head; s && n < cap; s = s->next)
		if (s->deadline_ms && s->deadline_ms <= now_ms)
			out[n++] = s;
	return n;
}

int session_gvp_header(const struct session *s, char *out, size_t outlen)
{
	return route_gvp_session_id(out, outlen, s->gvp_session_id, s->tenant);
}
