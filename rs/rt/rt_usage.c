/* rt_usage: real-time usage from call events and CDRs. Rules in rt_usage.h. */
#include "rt_usage.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* One RT_SLOT_MS of an entity's day: arrivals (calls whose start_ms falls in it) and
 * the most calls in progress at once while it ran (from the calls carried in at its
 * start), first reached peak_off ms after its start. */
struct rt_slot {
	uint32_t arrivals, peak, peak_off;
};

/* A tenant, MCP or rm node. slot[k % RT_SLOTS] is absolute slot k (UTC ms /
 * RT_SLOT_MS) for k in (cur - RT_SLOTS, cur]. */
struct rt_ent {
	char *name;
	int64_t cur;
	int64_t in_progress;
	struct rt_slot slot[RT_SLOTS];
};

struct rt_ents {
	struct rt_ent *v;
	size_t n, cap;
	size_t last; /* the entity found last: calls of one tenant come in runs */
};

/* A call remembered: in progress, or ended less than RT_KEEP_ENDED_MS ago. Entity
 * indexes into u->ents[scope] (-1: none, only for the MCP). */
struct rt_call {
	struct rt_call *next;
	uint64_t hash;
	int ent[3];
	int64_t start_ms, ended_at; /* ended_at: now_ms when it ended; 0 in progress */
	char key[]; /* node \x1f call_id \x1f start_ms, in the same allocation */
};

struct rt_usage {
	struct rt_ents ents[3];
	struct rt_call **buckets;
	size_t nbuckets, ncalls;
	int64_t clock;   /* the latest now_ms fed (never goes back) */
	size_t sweep_at; /* the next bucket rt_usage_tick looks at */
};

/* What one event or CDR says about a call. */
struct rt_obs {
	const char *node, *call_id, *tenant, *mcp;
	int64_t start_ms;
	bool ends;
};

rt_usage_t *rt_usage_new(void)
{
	rt_usage_t *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->nbuckets = 1024;
	u->buckets = calloc(u->nbuckets, sizeof(*u->buckets));
	if (!u->buckets) {
		free(u);
		return NULL;
	}
	return u;
}

void rt_usage_free(rt_usage_t *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nbuckets; i++)
		for (struct rt_call *c = u->buckets[i], *nx; c; c = nx) {
			nx = c->next;
			free(c);
		}
	free(u->buckets);
	for (int s = 0; s < 3; s++) {
		for (size_t i = 0; i < u->ents[s].n; i++)
			free(u->ents[s].v[i].name);
		free(u->ents[s].v);
	}
	free(u);
}

size_t rt_usage_calls(const rt_usage_t *u)
{
	return u->ncalls;
}

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int64_t slot_of(int64_t ms)
{
	return ms >= 0 ? ms / RT_SLOT_MS : -((-ms + RT_SLOT_MS - 1) / RT_SLOT_MS);
}

/* The index of absolute slot k in an entity's ring (k may be negative near the epoch). */
static size_t ring(int64_t k)
{
	return (size_t)(((k % RT_SLOTS) + RT_SLOTS) % RT_SLOTS);
}

/* Bring e to slot cur: each new slot starts with no arrivals and the calls still in
 * progress as its peak so far. */
static void ent_roll(struct rt_ent *e, int64_t cur)
{
	if (e->cur >= cur)
		return;
	int64_t from = cur - e->cur > RT_SLOTS ? cur - RT_SLOTS + 1 : e->cur + 1;
	for (int64_t k = from; k <= cur; k++)
		e->slot[ring(k)] = (struct rt_slot){ 0, (uint32_t)e->in_progress, 0 };
	e->cur = cur;
}

/* The entity of that name in scope s, made if new. -1 on out of memory. */
static int ent_find(rt_usage_t *u, int s, const char *name)
{
	struct rt_ents *es = &u->ents[s];
	if (es->last < es->n && !strcmp(es->v[es->last].name, name))
		return (int)es->last;
	for (size_t i = 0; i < es->n; i++)
		if (!strcmp(es->v[i].name, name))
			return (int)(es->last = i);
	if (es->n == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 16;
		struct rt_ent *v = realloc(es->v, cap * sizeof(*v));
		if (!v)
			return -1;
		es->v = v;
		es->cap = cap;
	}
	struct rt_ent *e = &es->v[es->n];
	memset(e, 0, sizeof(*e));
	if (!(e->name = strdup(name)))
		return -1;
	e->cur = slot_of(u->clock);
	es->last = es->n;
	return (int)es->n++;
}

/* The call arrived (counted once per entity, in the slot of its start) and, unless it
 * already ended, is now in progress there: in every slot from its start's (or the
 * oldest kept) to now's, the calls in progress reached at least today's count. */
static void ent_arrive(rt_usage_t *u, int s, int idx, int64_t start_ms, bool in_progress)
{
	struct rt_ent *e = &u->ents[s].v[idx];
	int64_t cur = slot_of(u->clock), k = slot_of(start_ms);

	ent_roll(e, cur);
	if (k > cur)
		k = cur; /* a start ahead of the clock (skew) counts now */
	if (k > cur - RT_SLOTS)
		e->slot[ring(k)].arrivals++;
	if (!in_progress)
		return;
	e->in_progress++;
	if (k <= cur - RT_SLOTS)
		k = cur - RT_SLOTS + 1;
	for (int64_t j = k; j <= cur; j++) {
		struct rt_slot *sl = &e->slot[ring(j)];
		if ((int64_t)sl->peak >= e->in_progress)
			continue;
		sl->peak = (uint32_t)e->in_progress;
		int64_t off = start_ms - j * RT_SLOT_MS;
		sl->peak_off = off > 0 && off < RT_SLOT_MS ? (uint32_t)off : 0;
	}
}

static void ent_leave(rt_usage_t *u, int s, int idx)
{
	struct rt_ent *e = &u->ents[s].v[idx];
	ent_roll(e, slot_of(u->clock));
	if (e->in_progress > 0)
		e->in_progress--;
}

static void call_end(rt_usage_t *u, struct rt_call *c, int64_t now_ms)
{
	for (int s = 0; s < 3; s++)
		if (c->ent[s] >= 0)
			ent_leave(u, s, c->ent[s]);
	c->ended_at = now_ms ? now_ms : 1;
}

static int grow(rt_usage_t *u)
{
	size_t n = u->nbuckets * 2;
	struct rt_call **b = calloc(n, sizeof(*b));
	if (!b)
		return -1;
	for (size_t i = 0; i < u->nbuckets; i++)
		for (struct rt_call *c = u->buckets[i], *nx; c; c = nx) {
			nx = c->next;
			size_t h = c->hash & (n - 1);
			c->next = b[h];
			b[h] = c;
		}
	free(u->buckets);
	u->buckets = b;
	u->nbuckets = n;
	return 0;
}

/* Move the clock to now_ms (never back). 1 when that entered a new slot (not the
 * first time). Entities follow lazily (ent_roll). */
static int roll(rt_usage_t *u, int64_t now_ms)
{
	int changed = 0;
	if (now_ms > u->clock) {
		changed = u->clock != 0 && slot_of(now_ms) != slot_of(u->clock);
		u->clock = now_ms;
	}
	return changed;
}

/* Apply one observation. 1 changed, 0 not, -1 out of memory. */
static int observe(rt_usage_t *u, const struct rt_obs *o, int64_t now_ms)
{
	char key[512];
	struct rt_call *c;
	int changed = 0;

	roll(u, now_ms);
	int klen = snprintf(key, sizeof key, "%s\x1f%s\x1f%lld", o->node, o->call_id,
			    (long long)o->start_ms);
	if (klen < 0 || (size_t)klen >= sizeof key)
		klen = (int)sizeof key - 1; /* node and call_id are bounded well below */
	uint64_t hv = hash(key);
	size_t h = hv & (u->nbuckets - 1);
	for (c = u->buckets[h]; c && (c->hash != hv || strcmp(c->key, key)); c = c->next)
		;
	if (!c) {
		int t = ent_find(u, RT_TENANT, o->tenant ? o->tenant : "");
		int r = ent_find(u, RT_RM, o->node);
		if (t < 0 || r < 0 || !(c = malloc(sizeof(*c) + (size_t)klen + 1)))
			return -1;
		memset(c, 0, sizeof(*c));
		memcpy(c->key, key, (size_t)klen + 1);
		c->hash = hv;
		c->start_ms = o->start_ms;
		c->ent[RT_TENANT] = t;
		c->ent[RT_RM] = r;
		c->ent[RT_MCP] = -1;
		c->next = u->buckets[h];
		u->buckets[h] = c;
		u->ncalls++;
		ent_arrive(u, RT_TENANT, t, o->start_ms, !o->ends);
		ent_arrive(u, RT_RM, r, o->start_ms, !o->ends);
		if (o->ends)
			c->ended_at = now_ms ? now_ms : 1;
		changed = 1;
		if (u->ncalls > u->nbuckets)
			grow(u); /* on failure the chains just get longer */
	}
	if (o->mcp && o->mcp[0] && c->ent[RT_MCP] < 0) {
		int m = ent_find(u, RT_MCP, o->mcp);
		if (m < 0)
			return -1;
		c->ent[RT_MCP] = m;
		ent_arrive(u, RT_MCP, m, c->start_ms, !c->ended_at && !o->ends);
		changed = 1;
	}
	if (o->ends && !c->ended_at) {
		call_end(u, c, now_ms);
		changed = 1;
	}
	return changed;
}

static const char *str_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int rt_usage_event(rt_usage_t *u, const char *body, size_t len, int64_t now_ms, char *err,
		   size_t errlen)
{
	cJSON *o = cJSON_ParseWithLength(body, len);
	struct rt_obs ob = { 0 };
	const char *type, *missing = NULL;
	int rc = -1;

	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "not a JSON object");
		goto out;
	}
	type = str_of(o, "type");
	if (!type || (strcmp(type, "call.start") && strcmp(type, "call.answer") &&
		      strcmp(type, "call.end"))) {
		rc = 0; /* another kind of event: not ours */
		goto out;
	}
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "start_ms");
	ob.node = str_of(o, "node");
	ob.call_id = str_of(o, "call_id");
	ob.tenant = str_of(o, "tenant");
	ob.mcp = str_of(o, "mcp");
	ob.ends = !strcmp(type, "call.end");
	if (!ob.node || !ob.node[0])
		missing = "node";
	else if (!ob.call_id || !ob.call_id[0])
		missing = "call_id";
	else if (!cJSON_IsNumber(st) || st->valuedouble < 0)
		missing = "start_ms";
	if (missing) {
		snprintf(err, errlen, "%s event without a valid '%s'", type, missing);
		goto out;
	}
	ob.start_ms = (int64_t)st->valuedouble;
	rc = observe(u, &ob, now_ms);
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
out:
	cJSON_Delete(o);
	return rc;
}

int rt_usage_cdr(rt_usage_t *u, const record_t *r, int64_t now_ms)
{
	struct rt_obs ob = { .node = r->node, .call_id = r->call_id, .tenant = r->tenant,
			     .mcp = r->mcp, .start_ms = r->start_ms, .ends = true };
	return observe(u, &ob, now_ms);
}

int rt_usage_tick(rt_usage_t *u, int64_t now_ms, unsigned parts)
{
	int changed = roll(u, now_ms);
	size_t n = parts > 1 ? (u->nbuckets + parts - 1) / parts : u->nbuckets;

	if (parts <= 1 || u->sweep_at >= u->nbuckets)
		u->sweep_at = 0;
	for (size_t i = u->sweep_at; n-- && i < u->nbuckets; i = ++u->sweep_at) {
		struct rt_call **pp = &u->buckets[i];
		while (*pp) {
			struct rt_call *c = *pp;
			if (!c->ended_at && c->start_ms < now_ms - RT_MAX_CALL_MS) {
				call_end(u, c, now_ms);
				changed = 1;
			}
			if (c->ended_at && c->ended_at < now_ms - RT_KEEP_ENDED_MS) {
				*pp = c->next;
				free(c);
				u->ncalls--;
			} else {
				pp = &c->next;
			}
		}
	}
	return changed;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const rt_stat_t *)a)->name, ((const rt_stat_t *)b)->name);
}

rt_window_t rt_window_utc(int64_t now_ms)
{
	rt_window_t w = { .day_start = now_ms - ((now_ms % RT_DAY_MS) + RT_DAY_MS) % RT_DAY_MS };
	w.hour_start = now_ms - ((now_ms % RT_HOUR_MS) + RT_HOUR_MS) % RT_HOUR_MS;
	return w;
}

/* e's numbers over the slots from `from` (UTC ms, floored to a slot) to cur. */
static void ent_sum(const struct rt_ent *e, int64_t from, int64_t cur, int64_t *arrivals,
		    int64_t *peak, int64_t *peak_at)
{
	int64_t k = slot_of(from);
	if (k <= cur - RT_SLOTS)
		k = cur - RT_SLOTS + 1;
	*arrivals = 0;
	*peak = e->in_progress; /* now is inside the window */
	*peak_at = -1;
	for (; k <= cur; k++) {
		const struct rt_slot *sl = &e->slot[ring(k)];
		*arrivals += sl->arrivals;
		if ((int64_t)sl->peak > *peak || ((int64_t)sl->peak == *peak && *peak_at < 0)) {
			*peak = sl->peak;
			*peak_at = k * RT_SLOT_MS + sl->peak_off;
		}
	}
	if (*peak_at < 0 || *peak_at < from)
		*peak_at = *peak_at < 0 ? cur * RT_SLOT_MS : from;
}

size_t rt_usage_snapshot(rt_usage_t *u, enum rt_scope scope, const char *only,
			 int64_t now_ms, const rt_window_t *win, rt_stat_t **out)
{
	struct rt_ents *es = &u->ents[scope];
	rt_window_t w = win ? *win : rt_window_utc(now_ms);
	int64_t cur = slot_of(now_ms > u->clock ? now_ms : u->clock), unused;
	size_t n = 0;

	*out = malloc((es->n ? es->n : 1) * sizeof(**out));
	if (!*out)
		return (size_t)-1;
	for (size_t i = 0; i < es->n; i++) {
		struct rt_ent *e = &es->v[i];
		if (only && strcmp(only, e->name))
			continue;
		ent_roll(e, cur);
		rt_stat_t *s = &(*out)[n++];
		s->scope = scope;
		s->name = e->name;
		s->in_progress = e->in_progress;
		ent_sum(e, w.day_start, cur, &s->arrivals_today, &s->peak_today,
			&s->peak_today_at);
		ent_sum(e, w.hour_start, cur, &s->arrivals_this_hour, &unused, &unused);
	}
	qsort(*out, n, sizeof(**out), by_name);
	return n;
}
