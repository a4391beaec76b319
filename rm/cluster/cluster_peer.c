/* cluster_peer: peer nodes as their frames make them known; their usage summed into
 * the board's remote counts; death by silence; GET /cluster. See cluster.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cluster_int.h"
#include "httpd.h"
#include "log.h"
#include "rm_snmp.h"

static const char *const state_names[] = { "down", "syncing", "up" };

/* The table is full: forget the peer down the longest, if down for PEER_FORGET_MS
 * (pods replaced under new names must not lock the table for good). Its replay
 * state goes with it: a frame of it replayed later is taken as a new incarnation
 * and, without fresh frames behind it, is down again after dead_after_ms. */
#define PEER_FORGET_MS 60000
static struct peer *peer_evict(struct cluster *cl)
{
	struct peer *old = NULL;
	int64_t now = cluster_mono_ms();

	for (int i = 0; i < CLUSTER_MAX_PEERS; i++) {
		struct peer *p = &cl->peer[i];
		if (p->state == PEER_DOWN && now - p->last_ms > PEER_FORGET_MS &&
		    (!old || p->last_ms < old->last_ms))
			old = p;
	}
	if (!old)
		return NULL;
	log_info("cluster: forgetting peer %s (down for %lld s) to make room", old->node,
		 (long long)(now - old->last_ms) / 1000);
	free(old->contrib); /* all zero: dropped when it went down */
	cluster_sess_set_free(old->sess); /* empty: orphaned when it went down */
	memset(old, 0, sizeof *old);
	return old;
}

static struct peer *peer_get(struct cluster *cl, const char *node)
{
	struct peer *free_slot = NULL;

	for (int i = 0; i < CLUSTER_MAX_PEERS; i++) {
		struct peer *p = &cl->peer[i];
		if (p->used && strcmp(p->node, node) == 0)
			return p;
		if (!p->used && !free_slot)
			free_slot = p;
	}
	if (!free_slot)
		free_slot = peer_evict(cl);
	if (!free_slot)
		return NULL;
	free_slot->contrib = calloc(CLUSTER_BOARD_CAP, sizeof(int));
	free_slot->sess = cluster_sess_set_new();
	if (!free_slot->contrib || !free_slot->sess) {
		free(free_slot->contrib);
		cluster_sess_set_free(free_slot->sess);
		free_slot->contrib = NULL;
		free_slot->sess = NULL;
		return NULL;
	}
	free_slot->used = true;
	snprintf(free_slot->node, sizeof free_slot->node, "%s", node);
	return free_slot;
}

/* The peer's count on board slot i becomes v; the board's remote sum follows. */
static void set_contrib(struct cluster *cl, struct peer *p, int i, int v)
{
	int diff = v - p->contrib[i];

	if (diff) {
		atomic_fetch_add_explicit(&cl->board->slot[i].remote, diff, memory_order_relaxed);
		p->contrib[i] = v;
	}
}

static void drop_contrib(struct cluster *cl, struct peer *p)
{
	for (int i = 0; i < CLUSTER_BOARD_CAP; i++)
		set_contrib(cl, p, i, 0);
	p->synced = false;
}

struct apply {
	struct cluster *cl;
	struct peer *p;
	int *state; /* a full state being collected; NULL: a delta, applied line by line */
};

static void apply_line(void *arg, enum route_usage_kind k, int value, const char *name)
{
	struct apply *a = arg;
	int i = cluster_board_find(a->cl->board, k, name, true);

	if (i < 0)
		return; /* board full: counted there */
	if (a->state)
		a->state[i] = value;
	else
		set_contrib(a->cl, a->p, i, value);
}

static void apply_state(struct cluster *cl, struct peer *p, const struct cluster_msg *m)
{
	struct apply a = { cl, p, calloc(CLUSTER_BOARD_CAP, sizeof(int)) };

	if (!a.state) {
		log_error("cluster: out of memory applying %s's state", p->node);
		return;
	}
	if (cluster_usage_parse(m->body, m->body_len, apply_line, &a) < 0) {
		metric_inc(cl->mm.cluster_dropped[CLUSTER_DROP_MALFORMED]);
		log_warn("cluster: %s sent a state we cannot read: asking again", p->node);
		free(a.state);
		p->synced = false;
		cluster_ask_resync(cl, p);
		return;
	}
	for (int i = 0; i < CLUSTER_BOARD_CAP; i++)
		set_contrib(cl, p, i, a.state[i]);
	free(a.state);
	p->synced = true;
	if (p->state != PEER_UP)
		log_info("cluster: peer %s up (state applied)", p->node);
	p->state = PEER_UP;
}

static void apply_delta(struct cluster *cl, struct peer *p, const struct cluster_msg *m)
{
	struct apply a = { cl, p, NULL };

	if (!p->synced) {
		cluster_ask_resync(cl, p);
		return;
	}
	if (cluster_usage_parse(m->body, m->body_len, apply_line, &a) < 0) {
		metric_inc(cl->mm.cluster_dropped[CLUSTER_DROP_MALFORMED]);
		p->synced = false;
		cluster_ask_resync(cl, p);
	}
}

/* "sstate" replaces p's set; "sess" changes it (only once a whole set is held:
 * lines after a gap wait for the set the resync brings). */
static void apply_sess(struct cluster *cl, struct peer *p, const struct cluster_msg *m,
		       bool full)
{
	if (full) {
		cluster_sess_set_clear(p->sess);
		p->sess_synced = true;
	} else if (!p->sess_synced) {
		cluster_ask_resync(cl, p);
		return;
	}
	if (cluster_sess_set_apply_body(p->sess, m->body, m->body_len) < 0) {
		metric_inc(cl->mm.cluster_dropped[CLUSTER_DROP_MALFORMED]);
		log_warn("cluster: %s sent session lines we cannot read: asking again", p->node);
		p->sess_synced = false;
		p->synced = false;
		cluster_ask_resync(cl, p);
	}
}

struct adopt_ctx {
	struct cluster *cl;
	const char *owner;
	size_t passed, failed;
};

static void adopt_line(void *arg, char *line)
{
	struct adopt_ctx *a = arg;
	size_t n = strlen(line);
	struct cluster_adopt *ad = malloc(sizeof *ad + n + 1);

	if (ad) {
		snprintf(ad->owner, sizeof ad->owner, "%s", a->owner);
		memcpy(ad->line, line, n + 1);
		if (ad->line[n ? n - 1 : 0] == '\n')
			ad->line[n - 1] = '\0';
	}
	free(line);
	if (!ad || a->cl->adopt(a->cl->adopt_arg, ad) < 0)
		a->failed++;
	else
		a->passed++;
}

static void drop_line(void *arg, char *line)
{
	free(line);
}

void cluster_peer_orphaned(struct cluster *cl, struct peer *p, const char *why)
{
	const char *live[CLUSTER_MAX_PEERS];
	size_t n_live = 0, n = cluster_sess_set_count(p->sess);
	const char *adopter = cl->me;

	p->sess_synced = false;
	if (!n)
		return;
	for (int i = 0; i < CLUSTER_MAX_PEERS; i++) {
		const struct peer *q = &cl->peer[i];
		if (q->used && q != p && q->state != PEER_DOWN) {
			live[n_live++] = q->node;
			if (strcmp(q->node, adopter) < 0)
				adopter = q->node;
		}
	}
	if (!cl->adopt || !cluster_adopter_is_me(cl->me, live, n_live)) {
		log_warn("cluster: peer %s %s: its %zu calls are %s's to end", p->node, why, n,
			 cl->adopt ? adopter : "another node");
		cluster_sess_set_drain(p->sess, drop_line, NULL);
		return;
	}
	struct adopt_ctx a = { cl, p->node, 0, 0 };
	cluster_sess_set_drain(p->sess, adopt_line, &a);
	metric_add(cl->mm.cluster_adopted, a.passed);
	log_warn("cluster: peer %s %s: this node adopts its %zu calls (%s)%s", p->node, why,
		 a.passed, cl->adopt_keep ? "kept: their in-dialog requests are routed here"
		 : "BYE both sides, record ended_by rm-peer-lost",
		 a.failed ? "; some could not be handed to the SIP thread" : "");
	if (a.failed)
		log_error("cluster: %zu calls of %s not adopted (SIP queue full or out of "
			  "memory): they get no record from this node", a.failed, p->node);
}

/* A peer's MCP verdicts ("u <uri>" / "d <uri>" lines): an input, not a vote. Each
 * goes to the SIP thread as an "h" item (cluster_adopt, owner = the peer), where the
 * monitor probes an MCP at once when the peer's verdict differs from its own
 * (monitor_hint); only this node's own OPTIONS change its view. */
static void apply_health(struct cluster *cl, struct peer *p, const struct cluster_msg *m)
{
	const char *s = m->body, *end = m->body + m->body_len;

	while (cl->adopt && s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = (size_t)((nl ? nl : end) - s);
		if (n > 2 && n < RM_URI_MAX + 2 && (s[0] == 'u' || s[0] == 'd') && s[1] == ' ') {
			struct cluster_adopt *a = malloc(sizeof *a + n + 3);
			if (a) {
				snprintf(a->owner, sizeof a->owner, "%s", p->node);
				memcpy(a->line, "h ", 2);
				memcpy(a->line + 2, s, n);
				a->line[n + 2] = '\0';
				if (cl->adopt(cl->adopt_arg, a) < 0)
					log_warn("cluster: %s's view of an MCP not passed on (SIP "
						 "queue full)", p->node);
			}
		} else if (n) {
			metric_inc(cl->mm.cluster_dropped[CLUSTER_DROP_MALFORMED]);
			return;
		}
		s += n + 1;
	}
}

/* ---- strict shares handed over (README "rm cluster": shares on membership change) -- */

static int units_now(struct cluster *cl)
{
	return atomic_load_explicit(&cl->board->units, memory_order_relaxed);
}

static void units_add(struct cluster *cl, int n)
{
	atomic_fetch_add_explicit(&cl->board->units, n, memory_order_relaxed);
}

static int node_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void cluster_units_hand_over(struct cluster *cl)
{
	const char *to[CLUSTER_MAX_PEERS];
	size_t n = 0, len = 0;
	int units = units_now(cl);
	char body[CLUSTER_MAX_PEERS * (CLUSTER_NODE_MAX + 24)];

	if (units <= 0)
		return;
	for (int i = 0; i < CLUSTER_MAX_PEERS; i++)
		if (cl->peer[i].used && cl->peer[i].state == PEER_UP)
			to[n++] = cl->peer[i].node;
	if (!n) {
		log_info("cluster: leaving with no peer up: this node's share (%d units) is "
			 "handed to nobody", units);
		return;
	}
	/* first the whole share leaves this node (it admits nothing anyway), then the
	 * same body goes to every survivor: each takes the line naming it */
	qsort(to, n, sizeof to[0], node_cmp);
	units_add(cl, -units);
	for (size_t k = 0; k < n; k++) {
		int part = units / (int)n + ((int)k < units % (int)n ? 1 : 0);
		len += (size_t)snprintf(body + len, sizeof body - len, "give %s %d\n", to[k], part);
	}
	for (size_t k = 0; k < n; k++)
		if (cluster_send_to(cl, to[k], CLUSTER_T_UNITS, body, len) < 0)
			log_warn("cluster: cannot hand %s its part of this node's share (no link): "
				 "that part is unused until this node returns", to[k]);
	log_info("cluster: leaving: this node's share (%d units) handed to %zu peer(s)", units,
		 n);
}

static struct units_part *part_of(struct units_part *v, size_t *n, const char *node, bool add)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(v[i].node, node) == 0)
			return &v[i];
	if (!add || *n >= CLUSTER_MAX_PEERS)
		return NULL;
	snprintf(v[*n].node, sizeof v[*n].node, "%s", node);
	v[*n].units = 0;
	return &v[(*n)++];
}

/* p said it holds none of this node's units: if the join left units away with p
 * (another peer said p held them, and p was silent then), they are this node's now. */
static void units_freed_by(struct cluster *cl, struct peer *p)
{
	struct units_part *h = part_of(cl->held, &cl->n_held, p->node, false);

	p->freed_me = true;
	if (cl->joining || cl->units_away <= 0 || !h || h->units <= 0)
		return;
	int n = h->units < cl->units_away ? h->units : cl->units_away;
	units_add(cl, n);
	cl->units_away -= n;
	h->units = 0;
	log_info("cluster: peer %s gave back this node's %d share units it held: %d units "
		 "now", p->node, n, units_now(cl));
}

/* Units lines from p: "give <node> <units>" (p has stopped admitting: the ones naming
 * this node grow its share; all are kept as p's split), "held <node> <units>" (this
 * node's units that node holds, as p knows), "free <node>". */
static void apply_units(struct cluster *cl, struct peer *p, const struct cluster_msg *m)
{
	const char *s = m->body, *end = m->body + m->body_len;
	bool first_give = true;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = (size_t)((nl ? nl : end) - s);
		char node[CLUSTER_NODE_MAX];
		int units = 0;
		int kind = cluster_units_line(s, n, CLUSTER_UNITS * CLUSTER_MAX_PEERS, node, &units);
		if (kind) {
			if (kind == 'f') {
				if (strcmp(node, cl->me) == 0)
					units_freed_by(cl, p);
				s += n + 1;
				continue;
			}
			if (kind < 0) {
				metric_inc(cl->mm.cluster_dropped[CLUSTER_DROP_MALFORMED]);
				return;
			}
			if (kind == 'h') {
				struct units_part *h = strcmp(node, cl->me) != 0
						? part_of(cl->held, &cl->n_held, node, true) : NULL;
				if (h && units > h->units)
					h->units = units;
				s += n + 1;
				continue;
			}
			if (first_give)
				p->n_split = 0;
			first_give = false;
			struct units_part *sp = part_of(p->split, &p->n_split, node, true);
			if (sp)
				sp->units = units;
			if (strcmp(node, cl->me) == 0 && units > 0) {
				units_add(cl, units);
				p->units_from += units;
				p->units_from_inc = p->seq.inc;
				log_info("cluster: peer %s left and handed this node %d share units: "
					 "%d units now (of %d per node)", p->node, units,
					 units_now(cl), CLUSTER_UNITS);
			}
		}
		s += n + 1;
	}
}

/* p restarted: the units its previous incarnation handed over go back (this node
 * shrinks at once; the new incarnation starts with its own units). */
static void units_give_back(struct cluster *cl, struct peer *p)
{
	if (p->units_from <= 0)
		return;
	units_add(cl, -p->units_from);
	log_info("cluster: peer %s is back: the %d share units it handed over are its own "
		 "again (%d units here now)", p->node, p->units_from, units_now(cl));
	p->units_from = 0;
}

void cluster_units_connected(struct cluster *cl, const char *node, uint64_t inc)
{
	for (int i = 0; i < CLUSTER_MAX_PEERS; i++) {
		struct peer *p = &cl->peer[i];
		if (p->used && strcmp(p->node, node) == 0 && p->units_from > 0 &&
		    inc > p->units_from_inc)
			units_give_back(cl, p);
	}
}

static const struct peer *peer_find(const struct cluster *cl, const char *node);

void cluster_units_join_check(struct cluster *cl, int64_t now)
{
	bool waited = now - cl->started_ms > cl->dead_ms;
	int away = 0;

	for (size_t k = 0; k < cl->n_out; k++) {
		const struct out_link *l = &cl->out[k];
		const struct peer *p = l->node[0] ? peer_find(cl, l->node) : NULL;
		if (l->self || (p && p->freed_me))
			continue;
		if (!waited || (p && p->state != PEER_DOWN))
			return; /* it may hold our units: wait for its word */
	}
	/* what a peer that answered says a silent one holds stays away until it says
	 * "free" (units_freed_by): a node restarted while partitioned from the peer
	 * holding part of its share must not count that part twice */
	for (size_t i = 0; i < cl->n_held; i++) {
		const struct peer *p = peer_find(cl, cl->held[i].node);
		if (!p || !p->freed_me)
			away += cl->held[i].units;
	}
	away = away > CLUSTER_UNITS ? CLUSTER_UNITS : away;
	cl->joining = false;
	cl->units_away = away;
	units_add(cl, CLUSTER_UNITS - away);
	log_info("cluster: strict share taken (%d units of %d): %s%s", units_now(cl),
		 cl->board->strict_nodes * CLUSTER_UNITS,
		 away ? "the rest is held by a silent peer until it says free" : "no peer holds it",
		 waited && !away ? " (a peer silent for dead_after_ms since the start is taken to "
				    "hold none)" : "");
}

void cluster_units_send_free(struct out_link *l)
{
	const struct peer *p = peer_find(l->cl, l->node);
	char body[(CLUSTER_MAX_PEERS + 1) * (CLUSTER_NODE_MAX + 24)];
	size_t len = 0;

	for (size_t i = 0; p && i < p->n_split; i++)
		if (strcmp(p->split[i].node, l->cl->me) != 0 && strcmp(p->split[i].node, l->node) != 0)
			len += (size_t)snprintf(body + len, sizeof body - len, "held %s %d\n",
						p->split[i].node, p->split[i].units);
	len += (size_t)snprintf(body + len, sizeof body - len, "free %s\n", l->node);
	cluster_out_send(l, STOMP_CMD_SEND, CLUSTER_T_UNITS, body, len);
}

static int64_t wall_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cluster_peer_frame(struct cluster *cl, const struct cluster_msg *m, const char *addr)
{
	struct peer *p = peer_get(cl, m->from);
	bool was_known;

	if (!p) {
		metric_inc(cl->mm.cluster_dropped[CLUSTER_DROP_PEERS_FULL]);
		return;
	}
	was_known = p->seq.known;
	switch (cluster_seq_check(&p->seq, m->inc, m->seq)) {
	case CLUSTER_SEQ_REPLAY:
		metric_inc(cl->mm.cluster_dropped[CLUSTER_DROP_REPLAY]);
		return;
	case CLUSTER_SEQ_OLD_INC:
		metric_inc(cl->mm.cluster_dropped[CLUSTER_DROP_OLD_INCARNATION]);
		return;
	case CLUSTER_SEQ_NEW_INC:
		if (was_known)
			log_info("cluster: peer %s restarted (incarnation %llu)", p->node,
				 (unsigned long long)m->inc);
		drop_contrib(cl, p);
		units_give_back(cl, p);
		/* the old incarnation's calls died with it (a restart quicker than
		 * dead_after_ms is a death all the same) */
		cluster_peer_orphaned(cl, p, "restarted");
		break;
	case CLUSTER_SEQ_GAP:
		p->synced = false; /* frames were lost: its state again, please */
		break;
	case CLUSTER_SEQ_NEXT:
		break;
	}
	metric_inc(cl->mm.cluster_frames_received);
	p->last_ms = cluster_mono_ms();
	p->lag_ms = wall_now_ms() - (int64_t)m->ts;
	if (p->lag_ms < 0)
		p->lag_ms = 0;
	snprintf(p->addr, sizeof p->addr, "%s", addr);
	if (p->state == PEER_DOWN) {
		log_info("cluster: peer %s heard from %s (syncing)", p->node, addr);
		p->state = PEER_SYNCING;
		cluster_peer_heard(cl, p->node);
	}
	switch (m->type) {
	case CLUSTER_T_STATE:
		apply_state(cl, p, m);
		break;
	case CLUSTER_T_DELTA:
		apply_delta(cl, p, m);
		break;
	case CLUSTER_T_RESYNC:
		cluster_resync_asked(cl, p->node);
		break;
	case CLUSTER_T_SSTATE:
	case CLUSTER_T_SESS:
		apply_sess(cl, p, m, m->type == CLUSTER_T_SSTATE);
		break;
	case CLUSTER_T_HEALTH:
		apply_health(cl, p, m);
		break;
	case CLUSTER_T_UNITS:
		apply_units(cl, p, m);
		break;
	case CLUSTER_T_SEEN:
		cluster_seen_apply(cl, p, m);
		break;
	default:
		if (!p->synced)
			cluster_ask_resync(cl, p);
		break;
	}
	if (!p->synced && p->state == PEER_UP)
		p->state = PEER_SYNCING;
}

void cluster_peers_credit(struct cluster *cl, int64_t stall_ms, int64_t now)
{
	for (int i = 0; i < CLUSTER_MAX_PEERS; i++) {
		struct peer *p = &cl->peer[i];
		if (!p->used || p->state == PEER_DOWN || !p->last_ms)
			continue;
		p->last_ms += stall_ms;
		if (p->last_ms > now)
			p->last_ms = now;
	}
}

void cluster_peers_check(struct cluster *cl, int64_t now)
{
	int up = 0;

	for (int i = 0; i < CLUSTER_MAX_PEERS; i++) {
		struct peer *p = &cl->peer[i];
		if (!p->used || p->state == PEER_DOWN)
			continue;
		if (now - p->last_ms > cl->dead_ms) {
			log_warn("cluster: peer %s down: no frame for %lld ms; its usage is "
				 "dropped", p->node, (long long)(now - p->last_ms));
			p->state = PEER_DOWN;
			drop_contrib(cl, p);
			metric_inc(cl->mm.cluster_deaths);
			cluster_peer_orphaned(cl, p, "down");
			continue;
		}
		if (p->state == PEER_UP)
			up++;
	}
	size_t sessions = 0;
	for (int i = 0; i < CLUSTER_MAX_PEERS; i++)
		sessions += cluster_sess_set_count(cl->peer[i].sess);
	metric_set(cl->mm.cluster_peers_up, up);
	metric_set(cl->mm.cluster_sessions_remote, (double)sessions);
}

static const struct peer *peer_find(const struct cluster *cl, const char *node)
{
	for (int i = 0; i < CLUSTER_MAX_PEERS; i++)
		if (cl->peer[i].used && strcmp(cl->peer[i].node, node) == 0)
			return &cl->peer[i];
	return NULL;
}

bool cluster_ready(void *arg, char *why, size_t len)
{
	const struct cluster *cl = arg;

	for (int i = 0; i < CLUSTER_MAX_PEERS; i++)
		if (cl->peer[i].used && cl->peer[i].state == PEER_SYNCING) {
			snprintf(why, len, "cluster: syncing with %s", cl->peer[i].node);
			return false;
		}
	if (cluster_mono_ms() - cl->started_ms > cl->dead_ms)
		return true;
	for (size_t k = 0; k < cl->n_out; k++) {
		const struct out_link *l = &cl->out[k];
		const struct peer *p = l->node[0] ? peer_find(cl, l->node) : NULL;
		if (!l->self && (!p || p->state != PEER_UP)) {
			snprintf(why, len, "cluster: waiting for peer %s", l->addr);
			return false;
		}
	}
	return true;
}

/* The configured address of node, if an out link reached it. */
static const struct out_link *link_of(const struct cluster *cl, const char *node)
{
	const struct out_link *found = NULL;

	for (size_t k = 0; k < cl->n_out; k++)
		if (cl->out[k].node[0] && strcmp(cl->out[k].node, node) == 0 &&
		    (!found || cl->out[k].open))
			found = &cl->out[k];
	return found;
}

static const char *link_state(const struct out_link *l)
{
	if (!l)
		return "none";
	if (l->self)
		return "self";
	return l->open ? "connected" : l->sc ? "connecting" : "idle";
}

/* "usage": {"tenant:acme": 3, "mcp:sip:...": 1, ...}: the peer's contribution as
 * held here (non-zero keys). */
static void add_usage(const struct cluster *cl, const struct peer *p, cJSON *o)
{
	static const char *const kinds[ROUTE_USAGE_KINDS] = { "tenant", "profile", "lrg", "mcp" };
	cJSON *u = cJSON_AddObjectToObject(o, "usage");
	char key[RM_URI_MAX + 16];

	for (int i = 0; u && i < CLUSTER_BOARD_CAP; i++) {
		if (!p->contrib[i])
			continue;
		const struct cluster_board_slot *s = &cl->board->slot[i];
		snprintf(key, sizeof key, "%s:%s", kinds[s->kind], s->name);
		cJSON_AddNumberToObject(u, key, p->contrib[i]);
	}
}

void cluster_http(struct evhttp_request *req, const char *path, void *arg)
{
	struct cluster *cl = arg;
	int64_t now = cluster_mono_ms();
	cJSON *r = cJSON_CreateObject(), *peers;
	char *body;

	cJSON_AddStringToObject(r, "node", cl->me);
	cJSON_AddStringToObject(r, "address", cl->listen_at);
	cJSON_AddNumberToObject(r, "incarnation", (double)cl->inc);
	cJSON_AddStringToObject(r, "state", "up");
	if (cl->board->strict_nodes > 0) { /* strict: this node's share, in units */
		cJSON_AddNumberToObject(r, "share_units", units_now(cl));
		cJSON_AddNumberToObject(r, "share_units_total",
					(double)cl->board->strict_nodes * CLUSTER_UNITS);
	}
	peers = cJSON_AddArrayToObject(r, "peers");
	for (int i = 0; i < CLUSTER_MAX_PEERS; i++) {
		const struct peer *p = &cl->peer[i];
		if (!p->used)
			continue;
		const struct out_link *l = link_of(cl, p->node);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "node", p->node);
		cJSON_AddStringToObject(o, "address", l ? l->addr : p->addr);
		cJSON_AddStringToObject(o, "state", state_names[p->state]);
		cJSON_AddNumberToObject(o, "last_heartbeat_age_ms",
					p->last_ms ? (double)(now - p->last_ms) : -1);
		cJSON_AddNumberToObject(o, "replication_lag_ms", (double)p->lag_ms);
		cJSON_AddStringToObject(o, "link", link_state(l));
		cJSON_AddNumberToObject(o, "calls", (double)cluster_sess_set_count(p->sess));
		add_usage(cl, p, o);
		cJSON_AddItemToArray(peers, o);
	}
	/* addresses not (yet) answered by any node, except this node's own */
	for (size_t k = 0; k < cl->n_out; k++) {
		const struct out_link *l = &cl->out[k];
		bool known = false;
		for (int i = 0; i < CLUSTER_MAX_PEERS && l->node[0]; i++)
			known |= cl->peer[i].used && strcmp(cl->peer[i].node, l->node) == 0;
		if (known || l->self)
			continue;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "node", l->node);
		cJSON_AddStringToObject(o, "address", l->addr);
		cJSON_AddStringToObject(o, "state", "down");
		cJSON_AddNumberToObject(o, "last_heartbeat_age_ms", -1);
		cJSON_AddNumberToObject(o, "replication_lag_ms", 0);
		cJSON_AddStringToObject(o, "link", link_state(l));
		cJSON_AddItemToArray(peers, o);
	}
	body = cJSON_PrintUnformatted(r);
	cJSON_Delete(r);
	if (!body) {
		httpd_reply(req, 500, "Internal Server Error", "text/plain", "out of memory\n", 14);
		return;
	}
	httpd_reply(req, 200, "OK", "application/json", body, strlen(body));
	free(body);
}

size_t cluster_snmp_peers(void *arg, struct rm_snmp_peer *out, size_t cap)
{
	const struct cluster *cl = arg;
	int64_t now = cluster_mono_ms();
	size_t n = 0;

	for (int i = 0; i < CLUSTER_MAX_PEERS; i++) {
		const struct peer *p = &cl->peer[i];
		if (!p->used)
			continue;
		if (n < cap) {
			const struct out_link *l = link_of(cl, p->node);
			struct rm_snmp_peer *o = &out[n];
			snprintf(o->node, sizeof o->node, "%s", p->node);
			snprintf(o->address, sizeof o->address, "%s", l ? l->addr : p->addr);
			o->state = p->state == PEER_UP ? 1 : p->state == PEER_SYNCING ? 3 : 2;
			o->heartbeat_age_ms = p->last_ms ? now - p->last_ms : -1;
			o->sessions = (int64_t)cluster_sess_set_count(p->sess);
		}
		n++;
	}
	return n;
}
