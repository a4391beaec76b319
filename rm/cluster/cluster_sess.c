/* cluster_sess: replicated sessions as lines, and a peer's set (cluster_sess.h). */
#include "cluster_sess.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

/* ---- lines ----------------------------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 2 > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		while (b->len + n + 2 > cap)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* A TAB, then s escaped. */
static void field(struct buf *b, const char *s)
{
	put(b, "\t", 1);
	for (; s && *s; s++) {
		char e[4];
		if (*s == '%' || *s == '\t' || *s == '\r' || *s == '\n') {
			snprintf(e, sizeof e, "%%%02X", (unsigned char)*s);
			put(b, e, 3);
		} else {
			put(b, s, 1);
		}
	}
}

static void field_num(struct buf *b, int64_t v)
{
	char n[32];

	snprintf(n, sizeof n, "%" PRId64, v);
	field(b, n);
}

static char *finish(struct buf *b)
{
	put(b, "\n", 1);
	if (b->oom) {
		free(b->p);
		return NULL;
	}
	return b->p;
}

char *cluster_sess_add_line(const struct cluster_sess *s)
{
	struct buf b = { 0 };

	if (!s->call_id || !*s->call_id)
		return NULL;
	put(&b, "+", 1);
	field(&b, s->call_id);
	field(&b, s->from_tag);
	field(&b, s->to_tag);
	field(&b, s->session_id);
	field(&b, s->tenant);
	field(&b, s->profile);
	field(&b, s->service_type);
	field(&b, s->lrg);
	field(&b, s->mcp);
	field(&b, s->caller);
	field(&b, s->dnis);
	field_num(&b, s->attempts);
	field_num(&b, s->usage_level);
	field_num(&b, s->start_ms);
	field_num(&b, s->answer_ms);
	field_num(&b, s->cseq[0]);
	field_num(&b, s->cseq[1]);
	field(&b, s->from);
	field(&b, s->to);
	field(&b, s->target[0]);
	field(&b, s->target[1]);
	field(&b, s->route[0]);
	field(&b, s->route[1]);
	field(&b, s->node);
	return finish(&b);
}

char *cluster_sess_del_line(const char *call_id, const char *from_tag)
{
	struct buf b = { 0 };

	if (!call_id || !*call_id)
		return NULL;
	put(&b, "-", 1);
	field(&b, call_id);
	field(&b, from_tag);
	return finish(&b);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Unescape s in place. -1 on a bad escape. */
static int unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r != '%') {
			*w++ = *r;
			continue;
		}
		int h = hexval(r[1]), l = h < 0 ? -1 : hexval(r[2]);
		if (l < 0)
			return -1;
		*w++ = (char)(h * 16 + l);
		r += 2;
	}
	*w = '\0';
	return 0;
}

static int num(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long v;

	if (!*s)
		return -1;
	v = strtoll(s, &end, 10);
	if (*end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int cluster_sess_parse(char *line, bool *add, struct cluster_sess *out)
{
	char *f[CLUSTER_SESS_FIELDS];
	size_t n = 0;
	char *p;
	int64_t v[6];

	memset(out, 0, sizeof *out);
	if ((line[0] != '+' && line[0] != '-') || line[1] != '\t')
		return -1;
	*add = line[0] == '+';
	p = line + 2;
	for (;;) {
		if (n == CLUSTER_SESS_FIELDS)
			return -1;
		f[n++] = p;
		char *t = strchr(p, '\t');
		if (!t)
			break;
		*t = '\0';
		p = t + 1;
	}
	if (n != (*add ? CLUSTER_SESS_FIELDS : 2u))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (unescape(f[i]) < 0)
			return -1;
	out->call_id = f[0];
	out->from_tag = f[1];
	if (!*out->call_id)
		return -1;
	if (!*add)
		return 0;
	out->to_tag = f[2];
	out->session_id = f[3];
	out->tenant = f[4];
	out->profile = f[5];
	out->service_type = f[6];
	out->lrg = f[7];
	out->mcp = f[8];
	out->caller = f[9];
	out->dnis = f[10];
	if (num(f[11], 0, 100, &v[0]) < 0 || num(f[12], 0, 3, &v[1]) < 0 ||
	    num(f[13], 0, INT64_MAX, &v[2]) < 0 || num(f[14], 0, INT64_MAX, &v[3]) < 0 ||
	    num(f[15], 0, UINT32_MAX, &v[4]) < 0 || num(f[16], 0, UINT32_MAX, &v[5]) < 0)
		return -1;
	out->attempts = (int)v[0];
	out->usage_level = (int)v[1];
	out->start_ms = v[2];
	out->answer_ms = v[3];
	out->cseq[0] = (uint32_t)v[4];
	out->cseq[1] = (uint32_t)v[5];
	out->from = f[17];
	out->to = f[18];
	out->target[0] = f[19];
	out->target[1] = f[20];
	out->route[0] = f[21];
	out->route[1] = f[22];
	out->node = f[23];
	return 0;
}

/* ---- a node's set ------------------------------------------------------------------ */

#define SET_BUCKETS 4096 /* a power of two */

struct entry {
	char *line;    /* the "+" line, LF-terminated */
	size_t keylen; /* line + 2 .. + keylen: the escaped call_id TAB from_tag */
	struct entry *next;
};

struct cluster_sess_set {
	struct entry *b[SET_BUCKETS];
	size_t count;
};

struct cluster_sess_set *cluster_sess_set_new(void)
{
	return calloc(1, sizeof(struct cluster_sess_set));
}

void cluster_sess_set_clear(struct cluster_sess_set *set)
{
	for (size_t i = 0; i < SET_BUCKETS; i++) {
		while (set->b[i]) {
			struct entry *e = set->b[i];
			set->b[i] = e->next;
			free(e->line);
			free(e);
		}
	}
	set->count = 0;
}

void cluster_sess_set_free(struct cluster_sess_set *set)
{
	if (!set)
		return;
	cluster_sess_set_clear(set);
	free(set);
}

size_t cluster_sess_set_count(const struct cluster_sess_set *set)
{
	return set ? set->count : 0;
}

/* The key of a line: from line + 2 to the TAB (or end) after its second field. */
static size_t key_len(const char *line, size_t len)
{
	const char *t = memchr(line + 2, '\t', len - 2);
	if (!t)
		return 0;
	const char *u = memchr(t + 1, '\t', len - (size_t)(t + 1 - line));
	const char *end = u ? u : line + len;
	while (end > t + 1 && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	return (size_t)(end - (line + 2));
}

static uint32_t hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static int set_apply(struct cluster_sess_set *set, const char *line, size_t len,
		     bool trusted)
{
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len < 3 || (line[0] != '+' && line[0] != '-') || line[1] != '\t' ||
	    memchr(line, '\0', len))
		return -1;
	char *copy = malloc(len + 2);
	struct cluster_sess tmp;
	bool add = line[0] == '+';
	if (!copy)
		return -1;
	memcpy(copy, line, len);
	copy[len] = '\0';
	/* a peer's line is validated whole (on the copy); this node's own are not */
	if (!trusted) {
		if (cluster_sess_parse(copy, &add, &tmp) < 0) {
			free(copy);
			return -1;
		}
		memcpy(copy, line, len); /* parsed in place: restore the text */
	}
	copy[len] = '\n';
	copy[len + 1] = '\0';
	size_t kl = key_len(copy, len);
	uint32_t h = hash(copy + 2, kl) & (SET_BUCKETS - 1);
	struct entry **pp = &set->b[h];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->keylen == kl && memcmp((*pp)->line + 2, copy + 2, kl) == 0)
			break;
	if (!add) {
		if (*pp) {
			struct entry *e = *pp;
			*pp = e->next;
			free(e->line);
			free(e);
			set->count--;
		}
		free(copy);
		return 0;
	}
	if (*pp) {
		free((*pp)->line);
		(*pp)->line = copy;
		return 0;
	}
	struct entry *e = calloc(1, sizeof *e);
	if (!e) {
		free(copy);
		return -1;
	}
	e->line = copy;
	e->keylen = kl;
	e->next = set->b[h];
	set->b[h] = e;
	set->count++;
	return 0;
}

int cluster_sess_set_apply(struct cluster_sess_set *set, const char *line, size_t len)
{
	return set_apply(set, line, len, false);
}

int cluster_sess_set_apply_own(struct cluster_sess_set *set, const char *line, size_t len)
{
	return set_apply(set, line, len, true);
}

int cluster_sess_set_apply_body(struct cluster_sess_set *set, const char *body, size_t len)
{
	int n = 0;
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(body + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (body + i)) : len - i;
		if (l > 0) {
			if (cluster_sess_set_apply(set, body + i, l) < 0)
				return -1;
			n++;
		}
		i += l + 1;
	}
	return n;
}

char *cluster_sess_set_body(const struct cluster_sess_set *set, size_t *len)
{
	struct buf b = { 0 };

	put(&b, "", 0);
	for (size_t i = 0; i < SET_BUCKETS; i++)
		for (const struct entry *e = set->b[i]; e; e = e->next)
			put(&b, e->line, strlen(e->line));
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

void cluster_sess_set_drain(struct cluster_sess_set *set, void (*fn)(void *arg, char *line),
			    void *arg)
{
	for (size_t i = 0; i < SET_BUCKETS; i++) {
		while (set->b[i]) {
			struct entry *e = set->b[i];
			set->b[i] = e->next;
			set->count--;
			fn(arg, e->line);
			free(e);
		}
	}
}

/* ---- record ids and the adopter ------------------------------------------------------ */

void cluster_record_id(const char *node, int64_t start_ms, const char *call_id,
		       const char *from_tag, char out[129])
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE] = { 0 };
	size_t lc = call_id ? strlen(call_id) : 0, lf = from_tag ? strlen(from_tag) : 0;
	char buf[1024], hex[33];

	/* every call's record takes this path (a single node too): one-shot SHA256 over a
	 * stack copy, not an EVP context and an algorithm fetch per call (~27 K
	 * instructions, 5% of rm's per-call total, issue 12) */
	if (lc + 1 + lf <= sizeof buf) {
		if (lc)
			memcpy(buf, call_id, lc);
		buf[lc] = '\n';
		if (lf)
			memcpy(buf + lc + 1, from_tag, lf);
		SHA256((const unsigned char *)buf, lc + 1 + lf, md);
	} else {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		unsigned int mdlen = 0;

		if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1) {
			EVP_DigestUpdate(ctx, call_id, lc);
			EVP_DigestUpdate(ctx, "\n", 1);
			EVP_DigestUpdate(ctx, from_tag ? from_tag : "", lf);
			EVP_DigestFinal_ex(ctx, md, &mdlen);
		}
		EVP_MD_CTX_free(ctx);
	}
	for (int i = 0; i < 16; i++) {
		hex[2 * i] = hexd[md[i] >> 4];
		hex[2 * i + 1] = hexd[md[i] & 15];
	}
	hex[32] = '\0';
	snprintf(out, 129, "%.63s-%lld-%s", node && *node ? node : "rm", (long long)start_ms, hex);
}

bool cluster_adopter_is_me(const char *me, const char *const *live, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(live[i], me) < 0)
			return false;
	return true;
}

/* ---- the other line kinds of peer frames: "seen" and "units" ---------------------- */

bool cluster_seen_line_ok(const char *s, size_t n)
{
	return n > 2 && n < CLUSTER_SEEN_LINE_MAX && (s[0] == 'a' || s[0] == 'b') &&
	       s[1] == '\t' && !memchr(s, '\0', n);
}

int cluster_seen_split(char *line, char *f[4])
{
	int n = 0;

	/* exactly four non-empty TAB-separated fields: an empty one or a fifth is a
	 * sender's bug, and reading past it would look up another call */
	for (char *t = line;; n++) {
		char *tab = strchr(t, '\t');

		if (n == 4 || tab == t || !*t)
			return -1;
		f[n] = t;
		if (!tab)
			return n == 3 ? 0 : -1;
		*tab = '\0';
		t = tab + 1;
	}
}

int cluster_units_line(const char *s, size_t n, int max, char node[64], int *units)
{
	char line[64 + 32], *save = NULL, *tok[3], *end;
	int k = 0;
	long v;

	*units = 0;
	if (!n || n >= sizeof line)
		return 0;
	memcpy(line, s, n);
	line[n] = '\0';
	for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (k == 3)
			return -1;
		tok[k++] = t;
	}
	/* a node name longer than rm's (63) is refused, never cut to another node's */
	if (k < 2 || strlen(tok[1]) > 63)
		return -1;
	if (k == 2 && strcmp(tok[0], "free") == 0) {
		strcpy(node, tok[1]);
		return 'f';
	}
	if (k != 3 || (strcmp(tok[0], "give") != 0 && strcmp(tok[0], "held") != 0))
		return -1;
	v = strtol(tok[2], &end, 10);
	if (end == tok[2] || *end || v < 0 || v > max)
		return -1;
	strcpy(node, tok[1]);
	*units = (int)v;
	return tok[0][0];
}
