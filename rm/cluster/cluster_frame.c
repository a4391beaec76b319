/* cluster_frame: cluster messages as authenticated STOMP frames (cluster_frame.h). */
#include "cluster_frame.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define MAC_LEN 32
#define MAC_HEX (2 * MAC_LEN)

static const char *const type_names[] = { "none", "hello", "hb", "state", "delta", "resync",
					  "sess", "sstate", "health", "units", "seen" };
static const char *const drop_names[] = { "none",	"malformed",	   "unauthenticated",
					  "bad-mac",	"wrong-node",	   "replay",
					  "old-incarnation", "peers-full" };
static const char kind_chars[ROUTE_USAGE_KINDS] = { 't', 'p', 'l', 'm' };

const char *cluster_type_name(enum cluster_type t)
{
	return (unsigned)t < sizeof type_names / sizeof type_names[0] ? type_names[t] : "?";
}

const char *cluster_drop_name(enum cluster_drop d)
{
	return (unsigned)d < CLUSTER_DROP_COUNT ? drop_names[d] : "?";
}

static enum cluster_type type_parse(const char *s)
{
	for (size_t i = 1; i < sizeof type_names / sizeof type_names[0]; i++)
		if (strcmp(s, type_names[i]) == 0)
			return (enum cluster_type)i;
	return CLUSTER_T_NONE;
}

bool cluster_node_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return n > 0 && n < CLUSTER_NODE_MAX;
}

/* The type may travel on that command: hello only on CONNECT/CONNECTED, the rest only
 * on SEND. */
static bool type_fits(enum stomp_command cmd, enum cluster_type t)
{
	if (cmd == STOMP_CMD_CONNECT || cmd == STOMP_CMD_CONNECTED)
		return t == CLUSTER_T_HELLO;
	return cmd == STOMP_CMD_SEND && t > CLUSTER_T_HELLO && t < CLUSTER_T_COUNT;
}

/* HMAC-SHA256 of the canonical form (cluster_frame.h) into hex (MAC_HEX + 1). */
static int mac_hex(const struct cluster_msg *m, const unsigned char *key, size_t keylen,
		   char *hex)
{
	char head[4 * CLUSTER_NODE_MAX + 128];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	int n = snprintf(head, sizeof head, "rmc1\n%s\n%s\n%s\n%s\n%" PRIu64 "\n%" PRIu64
			 "\n%" PRIu64 "\n", stomp_command_name(m->cmd), cluster_type_name(m->type),
			 m->from, m->to, m->inc, m->seq, m->ts);
	if (n < 0 || (size_t)n >= sizeof head)
		return -1;
	size_t total = (size_t)n + m->body_len;
	unsigned char *buf = malloc(total ? total : 1);
	if (!buf)
		return -1;
	memcpy(buf, head, (size_t)n);
	if (m->body_len)
		memcpy(buf + n, m->body, m->body_len);
	unsigned char *r = HMAC(EVP_sha256(), key, (int)keylen, buf, total, mac, &maclen);
	free(buf);
	if (!r || maclen != MAC_LEN)
		return -1;
	for (unsigned i = 0; i < maclen; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	return 0;
}

size_t cluster_frame_encode(char *out, size_t cap, const struct cluster_msg *m,
			    const unsigned char *key, size_t keylen)
{
	char inc[24], seq[24], ts[24], mac[MAC_HEX + 1];

	bool any = m->cmd == STOMP_CMD_CONNECT && strcmp(m->to, CLUSTER_TO_ANY) == 0;
	if (!type_fits(m->cmd, m->type) || !cluster_node_valid(m->from) ||
	    (!any && !cluster_node_valid(m->to)) || mac_hex(m, key, keylen, mac) < 0)
		return 0;
	snprintf(inc, sizeof inc, "%" PRIu64, m->inc);
	snprintf(seq, sizeof seq, "%" PRIu64, m->seq);
	snprintf(ts, sizeof ts, "%" PRIu64, m->ts);
	stomp_header_t h[9];
	size_t nh = 0;
	if (m->cmd == STOMP_CMD_CONNECT) {
		h[nh++] = (stomp_header_t){ "accept-version", "1.2" };
		h[nh++] = (stomp_header_t){ "host", m->to };
	} else if (m->cmd == STOMP_CMD_CONNECTED) {
		h[nh++] = (stomp_header_t){ "version", "1.2" };
	} else {
		h[nh++] = (stomp_header_t){ "destination", "/rm/cluster" };
	}
	h[nh++] = (stomp_header_t){ "type", cluster_type_name(m->type) };
	h[nh++] = (stomp_header_t){ "from", m->from };
	h[nh++] = (stomp_header_t){ "to", m->to };
	h[nh++] = (stomp_header_t){ "inc", inc };
	h[nh++] = (stomp_header_t){ "seq", seq };
	h[nh++] = (stomp_header_t){ "ts", ts };
	h[nh++] = (stomp_header_t){ "mac", mac };
	return stomp_encode(out, cap, m->cmd, h, nh, m->body, m->body_len);
}

/* A decimal u64 with no sign, no spaces, no leading junk. */
static int u64_parse(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

static int node_copy(char *dst, const char *src)
{
	if (!cluster_node_valid(src))
		return -1;
	snprintf(dst, CLUSTER_NODE_MAX, "%s", src);
	return 0;
}

/* "to" is a node id, or "*" in a dialer's CONNECT (it does not know yet whom it
 * reached; the CONNECTED answer says). */
static int to_copy(enum stomp_command cmd, char *dst, const char *src)
{
	if (cmd == STOMP_CMD_CONNECT && src && strcmp(src, CLUSTER_TO_ANY) == 0) {
		snprintf(dst, CLUSTER_NODE_MAX, "%s", src);
		return 0;
	}
	return node_copy(dst, src);
}

enum cluster_drop cluster_frame_decode(const stomp_frame_t *f, const unsigned char *key,
				       size_t keylen, const char *me, struct cluster_msg *out)
{
	char want[MAC_HEX + 1];
	const char *type = stomp_frame_header(f, "type");
	const char *mac = stomp_frame_header(f, "mac");

	memset(out, 0, sizeof *out);
	out->cmd = f->command;
	out->type = type ? type_parse(type) : CLUSTER_T_NONE;
	if (!type_fits(out->cmd, out->type) ||
	    node_copy(out->from, stomp_frame_header(f, "from")) < 0 ||
	    to_copy(out->cmd, out->to, stomp_frame_header(f, "to")) < 0 ||
	    u64_parse(stomp_frame_header(f, "inc"), &out->inc) < 0 ||
	    u64_parse(stomp_frame_header(f, "seq"), &out->seq) < 0 ||
	    u64_parse(stomp_frame_header(f, "ts"), &out->ts) < 0)
		return CLUSTER_DROP_MALFORMED;
	out->body = f->body;
	out->body_len = f->body_len;
	if (!mac)
		return CLUSTER_DROP_UNAUTHENTICATED;
	if (strlen(mac) != MAC_HEX || mac_hex(out, key, keylen, want) < 0 ||
	    CRYPTO_memcmp(mac, want, MAC_HEX) != 0)
		return CLUSTER_DROP_BAD_MAC;
	/* after the MAC: an unauthenticated sender learns nothing from the reason */
	bool any = strcmp(out->to, CLUSTER_TO_ANY) == 0;
	if (me && ((!any && strcmp(out->to, me) != 0) || strcmp(out->from, me) == 0))
		return CLUSTER_DROP_WRONG_NODE;
	return CLUSTER_DROP_NONE;
}

enum cluster_seq_verdict cluster_seq_check(struct cluster_seq *s, uint64_t inc, uint64_t seq)
{
	enum cluster_seq_verdict v;

	if (!s->known || inc > s->inc)
		v = CLUSTER_SEQ_NEW_INC;
	else if (inc < s->inc)
		return CLUSTER_SEQ_OLD_INC;
	else if (seq <= s->seq)
		return CLUSTER_SEQ_REPLAY;
	else
		v = seq == s->seq + 1 ? CLUSTER_SEQ_NEXT : CLUSTER_SEQ_GAP;
	s->known = true;
	s->inc = inc;
	s->seq = seq;
	return v;
}

int cluster_usage_put(char *out, size_t cap, size_t *len, enum route_usage_kind k,
		      int value, const char *name)
{
	if ((unsigned)k >= ROUTE_USAGE_KINDS || value < 0 || !name[0] || strchr(name, '\n'))
		return -1;
	int n = snprintf(out + *len, cap > *len ? cap - *len : 0, "%c %d %s\n", kind_chars[k],
			 value, name);
	if (n < 0 || *len + (size_t)n >= cap) {
		if (*len < cap)
			out[*len] = '\0';
		return -1;
	}
	*len += (size_t)n;
	return 0;
}

/* One line "<k> <value> <name>" (no newline) into fn. 0 / -1. */
static int usage_line(const char *s, size_t n, cluster_usage_fn fn, void *arg)
{
	char name[RM_URI_MAX];
	int k = -1;
	long v = 0;
	size_t i = 2;

	if (n < 5 || s[1] != ' ')
		return -1;
	for (int j = 0; j < ROUTE_USAGE_KINDS; j++)
		if (s[0] == kind_chars[j])
			k = j;
	if (k < 0 || s[i] < '0' || s[i] > '9')
		return -1;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (s[i] - '0');
		if (v > 100000000)
			return -1;
	}
	if (i >= n || s[i] != ' ' || n - i - 1 == 0 || n - i - 1 >= sizeof name)
		return -1;
	memcpy(name, s + i + 1, n - i - 1);
	name[n - i - 1] = '\0';
	if (memchr(name, '\0', n - i - 1))
		return -1;
	fn(arg, (enum route_usage_kind)k, (int)v, name);
	return 0;
}

int cluster_usage_parse(const char *body, size_t len, cluster_usage_fn fn, void *arg)
{
	int lines = 0;
	size_t at = 0;

	while (at < len) {
		const char *nl = memchr(body + at, '\n', len - at);
		if (!nl)
			return -1;
		size_t n = (size_t)(nl - (body + at));
		if (usage_line(body + at, n, fn, arg) < 0)
			return -1;
		lines++;
		at += n + 1;
	}
	return lines;
}
