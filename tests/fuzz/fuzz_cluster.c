/*
 * libFuzzer target for rm's cluster frames (rm/cluster/cluster_frame.c).
 *
 * First byte = mode:
 *  0: the rest is a byte stream from a peer: every STOMP frame it holds goes through
 *     cluster_frame_decode (as rm does), and the body of any frame through
 *     cluster_usage_parse; each line parsed is written again with cluster_usage_put
 *     and must parse back to the same kind, value and name. The body also goes
 *     through the session codec (rm/cluster/cluster_sess.c): into a session set, and
 *     line by line through cluster_sess_parse; a line it accepts, written again,
 *     must parse back to the same fields.
 *  1: the rest makes a message (type, ids, numbers, body) that is encoded with
 *     cluster_frame_encode; when that succeeds, the frame must parse and decode to
 *     exactly the same message, and one flipped byte of its body must be refused.
 *  2: the rest is the body of a "seen" frame: each line goes through
 *     cluster_seen_line_ok (cluster_seen.c cluster_seen_apply), and one it passes, in
 *     a buffer of exactly its size as the SIP thread gets it, through
 *     cluster_seen_split (rm/sip/proxy_cluster.c seen_by_peer); four fields it
 *     accepts, written again as the SIP thread writes them, must split the same.
 *  3: the rest is the body of a "units" frame: each line through cluster_units_line
 *     (cluster_peer.c apply_units: give, held, free); a give/held line it accepts,
 *     written again as cluster_peer.c writes it, must read back the same.
 *  4: the rest is a body of ringing-call lines ("+" with answer_ms 0, as
 *     rm/sip/proxy_cluster.c sends them): each line as in mode 0, and one that parses
 *     with answer_ms 0 gets the record id its adopter writes (cluster_record_id),
 *     which must be the same from the line written again.
 * Other first bytes: as 0 (even) or 1 (odd).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_frame.h"
#include "cluster_sess.h"

static const unsigned char KEY[] = "fuzzing-key-0123456789";
#define KEYLEN (sizeof KEY - 1)

struct got {
	int n, k, v;
	char name[RM_URI_MAX];
};

static void got_line(void *a, enum route_usage_kind k, int v, const char *name)
{
	struct got *g = a;

	g->n++;
	g->k = k;
	g->v = v;
	snprintf(g->name, sizeof g->name, "%s", name);
}

/* A line rm accepted: written again, it must read back the same. */
static void on_line(void *arg, enum route_usage_kind k, int value, const char *name)
{
	char buf[RM_URI_MAX + 32];
	size_t len = 0;
	struct got g = { 0 };

	(void)arg;
	if (cluster_usage_put(buf, sizeof buf, &len, k, value, name) < 0)
		return; /* a name the writer refuses: never sent */
	if (cluster_usage_parse(buf, len, got_line, &g) != 1 || g.k != (int)k || g.v != value ||
	    strcmp(g.name, name) != 0)
		abort();
}

static int str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* One session line rm accepted: written again, it must read back the same. */
static void sess_line(const char *line, size_t len)
{
	char *copy = malloc(len + 1), *again = NULL;
	struct cluster_sess a, b;
	bool add, add2;

	memcpy(copy, line, len);
	copy[len] = '\0';
	if (cluster_sess_parse(copy, &add, &a) == 0) {
		again = add ? cluster_sess_add_line(&a) : cluster_sess_del_line(a.call_id, a.from_tag);
		if (!again)
			abort();
		again[strlen(again) - 1] = '\0'; /* its LF */
		if (cluster_sess_parse(again, &add2, &b) != 0 || add2 != add ||
		    !str_eq(a.call_id, b.call_id) || !str_eq(a.from_tag, b.from_tag))
			abort();
		if (add && (!str_eq(a.from, b.from) || !str_eq(a.to, b.to) ||
			    !str_eq(a.route[0], b.route[0]) || !str_eq(a.route[1], b.route[1]) ||
			    !str_eq(a.target[0], b.target[0]) || !str_eq(a.node, b.node) ||
			    a.start_ms != b.start_ms || a.answer_ms != b.answer_ms ||
			    a.cseq[0] != b.cseq[0] || a.cseq[1] != b.cseq[1] ||
			    a.attempts != b.attempts || a.usage_level != b.usage_level))
			abort();
	}
	free(again);
	free(copy);
}

static void sess_body(const char *body, size_t len)
{
	struct cluster_sess_set *set = cluster_sess_set_new();
	size_t i = 0, blen;

	cluster_sess_set_apply_body(set, body, len);
	char *out = cluster_sess_set_body(set, &blen);
	struct cluster_sess_set *copy = cluster_sess_set_new();
	/* what a set holds is a valid full state */
	if (!out || cluster_sess_set_apply_body(copy, out, blen) !=
			    (int)cluster_sess_set_count(set))
		abort();
	free(out);
	cluster_sess_set_free(copy);
	cluster_sess_set_free(set);
	while (i < len) {
		const char *nl = memchr(body + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (body + i)) : len - i;
		sess_line(body + i, l);
		i += l + 1;
	}
}

static void stream(const uint8_t *d, size_t n)
{
	stomp_parser_t *p = stomp_parser_new(NULL);
	stomp_frame_t f;
	size_t used;
	char err[256];

	while (p && n > 0) {
		enum stomp_status st = stomp_parser_feed(p, (const char *)d, n, &used, &f, NULL, err,
							 sizeof err);
		if (st != STOMP_FRAME)
			break;
		struct cluster_msg m;
		cluster_frame_decode(&f, KEY, KEYLEN, "rm-a", &m);
		cluster_usage_parse(f.body, f.body_len, on_line, NULL);
		sess_body(f.body, f.body_len);
		d += used;
		n -= used;
	}
	stomp_parser_free(p);
}

/* Take up to max bytes of d as a NUL-terminated string. */
static size_t take(const uint8_t **d, size_t *n, char *out, size_t max)
{
	size_t k = *n ? (**d % max) : 0;

	if (*n)
		(*d)++, (*n)--;
	if (k > *n)
		k = *n;
	memcpy(out, *d, k);
	out[k] = '\0';
	*d += k;
	*n -= k;
	return k;
}

static void roundtrip(const uint8_t *d, size_t n)
{
	struct cluster_msg m = { 0 }, got;
	static const enum stomp_command cmds[] = { STOMP_CMD_CONNECT, STOMP_CMD_CONNECTED,
						   STOMP_CMD_SEND };
	if (n < 4)
		return;
	m.cmd = cmds[d[0] % 3];
	m.type = (enum cluster_type)(d[1] % 8);
	d += 2, n -= 2;
	take(&d, &n, m.from, CLUSTER_NODE_MAX);
	take(&d, &n, m.to, CLUSTER_NODE_MAX);
	if (n >= 8) {
		memcpy(&m.inc, d, 8);
		d += 8, n -= 8;
	}
	m.seq = n;
	m.body = (const char *)d;
	m.body_len = n;
	size_t cap = n + 2048;
	char *buf = malloc(cap);
	size_t len = cluster_frame_encode(buf, cap, &m, KEY, KEYLEN);
	if (len == 0 || len >= cap) {
		free(buf);
		return;
	}
	stomp_parser_t *p = stomp_parser_new(NULL);
	stomp_frame_t f;
	size_t used;
	char err[256];
	if (stomp_parser_feed(p, buf, len, &used, &f, NULL, err, sizeof err) != STOMP_FRAME)
		abort();
	const char *me = m.to;
	if (cluster_frame_decode(&f, KEY, KEYLEN, strcmp(m.from, me) ? me : NULL, &got) !=
		    CLUSTER_DROP_NONE ||
	    got.cmd != m.cmd || got.type != m.type || strcmp(got.from, m.from) ||
	    strcmp(got.to, m.to) || got.inc != m.inc || got.seq != m.seq ||
	    got.body_len != m.body_len || memcmp(got.body, m.body, m.body_len))
		abort();
	stomp_parser_free(p);
	if (m.body_len > 0) { /* one flipped body byte must break the MAC */
		/* the frame ends with the body and its NUL */
		size_t at = len - 1 - m.body_len + m.body_len / 2;
		if (buf[at] != '\0' && buf[at] != '\x01') {
			buf[at] ^= 0x01;
			p = stomp_parser_new(NULL);
			if (stomp_parser_feed(p, buf, len, &used, &f, NULL, err, sizeof err) ==
				    STOMP_FRAME &&
			    cluster_frame_decode(&f, KEY, KEYLEN, NULL, &got) == CLUSTER_DROP_NONE)
				abort();
			stomp_parser_free(p);
		}
	}
	free(buf);
}

/* Call fn with each line of body (its length; no LF), as the cluster's loops do. */
static void each_line(const uint8_t *d, size_t n, void (*fn)(const char *s, size_t n))
{
	const char *s = (const char *)d, *end = s + n;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t l = (size_t)((nl ? nl : end) - s);
		fn(s, l);
		s += l + 1;
	}
}

static bool field_ok(const char *f, const char *lo, const char *hi)
{
	return f >= lo && f < hi && *f && !strchr(f, '\t') && f + strlen(f) <= hi;
}

static void seen_line(const char *s, size_t n)
{
	char *f[4], *g[4];

	if (!cluster_seen_line_ok(s, n))
		return;
	if (n < 3 || n >= CLUSTER_SEEN_LINE_MAX || memchr(s, '\0', n))
		abort();
	char *line = malloc(n + 1); /* exactly as cluster_seen_apply hands it over */
	memcpy(line, s, n);
	line[n] = '\0';
	if (cluster_seen_split(line, f) == 0) {
		if (strcmp(f[0], "a") != 0 && strcmp(f[0], "b") != 0)
			abort();
		for (int i = 1; i < 4; i++)
			if (!field_ok(f[i], line, line + n))
				abort();
		char *again = NULL;
		int len = asprintf(&again, "%c\t%s\t%s\t%s", f[0][0], f[1], f[2], f[3]);
		if (len < 0)
			abort();
		if ((size_t)len < CLUSTER_SEEN_LINE_MAX) {
			if (!cluster_seen_line_ok(again, (size_t)len) ||
			    cluster_seen_split(again, g) != 0 || strcmp(g[0], f[0]) ||
			    strcmp(g[1], f[1]) || strcmp(g[2], f[2]) || strcmp(g[3], f[3]))
				abort();
		}
		free(again);
	}
	free(line);
}

#define UNITS_MAX (60 * 16) /* CLUSTER_UNITS x CLUSTER_MAX_PEERS (cluster_peer.c) */

static void units_line(const char *s, size_t n)
{
	char node[CLUSTER_NODE_MAX], node2[CLUSTER_NODE_MAX], buf[CLUSTER_NODE_MAX + 24];
	int units = -1, units2 = -1;
	int k = cluster_units_line(s, n, UNITS_MAX, node, &units);

	if (k == 0 || k < 0)
		return;
	if (strlen(node) >= CLUSTER_NODE_MAX || !*node)
		abort();
	if (k == 'f')
		return;
	if ((k != 'g' && k != 'h') || units < 0 || units > UNITS_MAX)
		abort();
	int len = snprintf(buf, sizeof buf, "%s %s %d", k == 'g' ? "give" : "held", node, units);
	if (len < 0 || (size_t)len >= sizeof buf ||
	    cluster_units_line(buf, (size_t)len, UNITS_MAX, node2, &units2) != k ||
	    strcmp(node, node2) != 0 || units != units2)
		abort();
}

static void ring_line(const char *s, size_t n)
{
	char *line = malloc(n + 1), *again = NULL;
	struct cluster_sess a, b;
	char id[129], id2[129];
	bool add, add2;

	memcpy(line, s, n);
	line[n] = '\0';
	sess_line(s, n);
	if (cluster_sess_parse(line, &add, &a) == 0 && add && a.answer_ms == 0) {
		cluster_record_id(a.node, a.start_ms, a.call_id, a.from_tag, id);
		if (memchr(id, '\0', sizeof id) == NULL)
			abort();
		again = cluster_sess_add_line(&a);
		if (!again)
			abort();
		again[strlen(again) - 1] = '\0';
		if (cluster_sess_parse(again, &add2, &b) != 0 || !add2 || b.answer_ms != 0)
			abort();
		cluster_record_id(b.node, b.start_ms, b.call_id, b.from_tag, id2);
		if (strcmp(id, id2) != 0)
			abort();
	}
	free(again);
	free(line);
}

static void ring_body(const uint8_t *d, size_t n)
{
	struct cluster_sess_set *set = cluster_sess_set_new();

	cluster_sess_set_apply_body(set, (const char *)d, n);
	cluster_sess_set_free(set);
	each_line(d, n, ring_line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 7) {
	case 2:
		each_line(data + 1, size - 1, seen_line);
		break;
	case 3:
		each_line(data + 1, size - 1, units_line);
		break;
	case 4:
		ring_body(data + 1, size - 1);
		break;
	default:
		if (data[0] & 1)
			roundtrip(data + 1, size - 1);
		else
			stream(data + 1, size - 1);
	}
	return 0;
}
