/*
 * sip_trust: source-address trust table (see sip_trust.h).
 */
#include "sip_trust.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void sip_trust_init(struct sip_trust *t)
{
	t->n = 0;
}

/* Numeric IPv4 or IPv6 text into family + 16 bytes. Returns 0 or -1. */
static int parse_addr(const char *s, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

int sip_trust_parse_cidr(const char *s, struct sip_trust_entry *out, char *err,
			 size_t errlen)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;

	memset(out, 0, sizeof *out);
	out->kind = SIP_TRUST_CIDR;
	if (hl == 0 || hl >= sizeof host) {
		snprintf(err, errlen, "expected an address or ADDRESS/PREFIX; got \"%s\"", s);
		return -1;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (parse_addr(host, &out->family, out->addr) < 0) {
		snprintf(err, errlen, "\"%s\" is not a numeric IPv4 or IPv6 address", host);
		return -1;
	}
	max = out->family == AF_INET ? 32 : 128;
	out->prefix = max;
	if (slash) {
		char *end;
		unsigned long v = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || v > max) {
			snprintf(err, errlen, "\"%s\": the prefix must be 0..%u", s, max);
			return -1;
		}
		out->prefix = (unsigned)v;
	}
	return 0;
}

int sip_trust_add(struct sip_trust *t, const struct sip_trust_entry *e)
{
	if (t->n >= SIP_TRUST_MAX)
		return -1;
	t->e[t->n++] = *e;
	return 0;
}

int sip_trust_add_host(struct sip_trust *t, enum sip_trust_kind kind, const char *host,
		       uint16_t port)
{
	struct sip_trust_entry e = { .kind = kind, .port = port };
	char h[64];
	size_t l = strlen(host);

	/* "[::1]" as it appears in a SIP URI */
	if (l >= 2 && host[0] == '[' && host[l - 1] == ']' && l - 2 < sizeof h) {
		memcpy(h, host + 1, l - 2);
		h[l - 2] = '\0';
		host = h;
	}
	if (parse_addr(host, &e.family, e.addr) < 0)
		return -1;
	e.prefix = e.family == AF_INET ? 32 : 128;
	return sip_trust_add(t, &e);
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes IPv4. */
static void normalise(int *family, const uint8_t *in, uint8_t out[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(out, 0, 16);
	if (*family == AF_INET6 && memcmp(in, mapped, 12) == 0) {
		*family = AF_INET;
		memcpy(out, in + 12, 4);
	} else {
		memcpy(out, in, *family == AF_INET ? 4 : 16);
	}
}

static bool entry_match(const struct sip_trust_entry *e, int family, const uint8_t *addr)
{
	return e->family == family && prefix_match(e->addr, addr, e->prefix);
}

bool sip_trust_mcp_port(const struct sip_trust *t, int family, const uint8_t *addr0,
			uint16_t port)
{
	uint8_t addr[16];

	normalise(&family, addr0, addr);
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].kind == SIP_TRUST_MCP && t->e[i].port == port &&
		    entry_match(&t->e[i], family, addr))
			return true;
	return false;
}

enum sip_origin sip_trust_classify(const struct sip_trust *t, int family,
				   const uint8_t *addr0, uint16_t port)
{
	uint8_t addr[16];
	bool mcp_host = false, server = false, cidr = false;

	normalise(&family, addr0, addr);
	for (size_t i = 0; i < t->n; i++) {
		const struct sip_trust_entry *e = &t->e[i];
		if (!entry_match(e, family, addr))
			continue;
		switch (e->kind) {
		case SIP_TRUST_MCP:
			if (e->port == port)
				return SIP_ORIGIN_MCP;
			mcp_host = true;
			break;
		case SIP_TRUST_SIP_SERVER:
			server = true;
			break;
		case SIP_TRUST_CIDR:
			cidr = true;
			break;
		}
	}
	if (mcp_host && !server)
		return SIP_ORIGIN_MCP;
	if (server || cidr || mcp_host)
		return SIP_ORIGIN_CALLER;
	return SIP_ORIGIN_NONE;
}
