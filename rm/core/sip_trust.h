/*
 * sip_trust: who may send SIP to rm, decided by the packet's transport source address
 * (never by Via, which the sender writes itself). Pure: no sockets, no sofia-sip, no
 * clocks, no name resolution (the caller resolves names and adds addresses).
 *
 * A table holds three kinds of entries:
 *   SIP_TRUST_SIP_SERVER  a configured SIP Server's address (sip.sip_servers);
 *   SIP_TRUST_MCP         an LRG member's address and SIP port (lrgs[].members[]);
 *   SIP_TRUST_CIDR        a sip.trusted network ("10.0.0.0/8", "::1/128", "192.0.2.7").
 *
 * sip_trust_classify() answers, for one source address:
 *   SIP_ORIGIN_MCP     the source is an MCP: its address and port match a member
 *                      exactly, or its address is an MCP's and no SIP Server's (over
 *                      TCP the source port is ephemeral);
 *   SIP_ORIGIN_CALLER  a SIP Server's address or a trusted network (caller side);
 *   SIP_ORIGIN_NONE    anybody else: refuse (403) or drop.
 * When one host runs an MCP and a SIP Server (tests, a lab) and the port does not
 * match the MCP's, the source is caller side; the caller may then break the tie with
 * sip_trust_mcp_port() (a Via naming the source's own address and an MCP's port on a
 * connection-oriented transport), which is the only use of Via and cannot widen trust.
 *
 * Limits: SIP_TRUST_MAX entries; IPv4 and IPv6 only.
 */
#ifndef RM_SIP_TRUST_H
#define RM_SIP_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIP_TRUST_MAX 512

enum sip_trust_kind { SIP_TRUST_SIP_SERVER = 0, SIP_TRUST_MCP, SIP_TRUST_CIDR };

enum sip_origin { SIP_ORIGIN_NONE = 0, SIP_ORIGIN_CALLER, SIP_ORIGIN_MCP };

struct sip_trust_entry {
	enum sip_trust_kind kind;
	int family;          /* AF_INET or AF_INET6 */
	uint8_t addr[16];    /* network order; IPv4 in the first 4 bytes */
	unsigned prefix;     /* bits that must match (32/128 for a host) */
	uint16_t port;       /* MCP: its SIP port; 0 = any */
};

struct sip_trust {
	struct sip_trust_entry e[SIP_TRUST_MAX];
	size_t n;
};

/* An empty table (nobody trusted). t must not be NULL. */
void sip_trust_init(struct sip_trust *t);

/* Parse "ADDR" or "ADDR/PREFIX" (IPv4 or IPv6, numeric) into out (kind CIDR, port 0).
 * Returns 0, or -1 with a sentence in err naming what is wrong. */
int sip_trust_parse_cidr(const char *s, struct sip_trust_entry *out, char *err,
			 size_t errlen);

/* Add one numeric host address (no prefix) of `kind`, port in host order (0 = any).
 * Returns 0; -1 if host is not a numeric address (a name: resolve it first) or the
 * table is full. */
int sip_trust_add_host(struct sip_trust *t, enum sip_trust_kind kind, const char *host,
		       uint16_t port);

/* Add a parsed entry (from sip_trust_parse_cidr). Returns 0, -1 when full. */
int sip_trust_add(struct sip_trust *t, const struct sip_trust_entry *e);

/* Who sent a packet from (family, addr, port)? addr: 4 or 16 bytes in network order;
 * port in host order. An IPv4-mapped IPv6 source is compared as IPv4. */
enum sip_origin sip_trust_classify(const struct sip_trust *t, int family,
				   const uint8_t *addr, uint16_t port);

/* True when (family, addr) is an MCP's address and `port` is that MCP's SIP port. */
bool sip_trust_mcp_port(const struct sip_trust *t, int family, const uint8_t *addr,
			uint16_t port);

#endif
