/* rm_config_sip: the "sip" section (listen, transports, SIP Servers, trust). */
#include "rm_config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cfg.h"
#include "sip_trust.h"

/* sip.trusted (CIDR list) and sip.untrusted (reject|drop). */
static int load_sip_trust(cfg_ctx_t *c, const cJSON *o, struct rm_config *cfg)
{
	char untrusted[16], err[160], *buf;
	size_t n;
	struct sip_trust_entry e;

	if (rmc_read_str_list(c, o, "sip", "trusted", NULL, RM_CIDR_MAX, &buf, &n) != 0) {
		free(buf);
		return -1;
	}
	cfg->sip_trusted = (char(*)[RM_CIDR_MAX])buf;
	cfg->n_sip_trusted = n;
	for (size_t i = 0; i < n; i++)
		if (sip_trust_parse_cidr(cfg->sip_trusted[i], &e, err, sizeof err) < 0)
			return cfg_fail(c, "sip", "trusted", "item %zu: %s", i, err);
	cfg_str(c, o, "sip", "untrusted", false, "reject", untrusted, sizeof untrusted);
	if (c->failed)
		return -1;
	if (strcmp(untrusted, "drop") == 0)
		cfg->sip_untrusted_drop = true;
	else if (strcmp(untrusted, "reject") != 0)
		return cfg_fail(c, "sip", "untrusted", "expected one of reject, drop; got \"%s\"",
				untrusted);
	return 0;
}

int rmc_load_sip(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
{
	static const char *const known[] = {"listen", "port", "transports", "sip_servers",
					    "advertise", "trusted", "untrusted", "dns",
					    "udp_rmem", "udp_wmem", NULL};
	const cJSON *o = cfg_object(c, root, "", "sip", false);
	long long port;
	char *buf;
	size_t n;

	cfg_no_unknown(c, o, "sip", known);
	cfg_str(c, o, "sip", "listen", false, "127.0.0.1", cfg->sip_listen,
		sizeof(cfg->sip_listen));
	/* A bare IPv6 address gets brackets: SIP URIs (and sofia's bind) want "[::1]". */
	n = strlen(cfg->sip_listen);
	if (strchr(cfg->sip_listen, ':') && cfg->sip_listen[0] != '[' &&
	    n + 2 < sizeof(cfg->sip_listen)) {
		memmove(cfg->sip_listen + 1, cfg->sip_listen, n);
		cfg->sip_listen[0] = '[';
		cfg->sip_listen[n + 1] = ']';
		cfg->sip_listen[n + 2] = '\0';
	}
	cfg_str(c, o, "sip", "advertise", false, "", cfg->sip_advertise,
		sizeof(cfg->sip_advertise));
	cfg_int(c, o, "sip", "port", false, 5060, 1, 65535, &port);
	cfg->sip_port = (int)port;
	cfg_int(c, o, "sip", "udp_rmem", false, 4 << 20, 65536, 1 << 30, &port);
	cfg->sip_udp_rmem = (int)port;
	cfg_int(c, o, "sip", "udp_wmem", false, 4 << 20, 65536, 1 << 30, &port);
	cfg->sip_udp_wmem = (int)port;
	if (c->failed)
		return -1;

	if (rmc_read_str_list(c, o, "sip", "transports", NULL, 8, &buf, &n) != 0) {
		free(buf);
		return -1;
	}
	if (!buf || n == 0) {
		cfg->sip_udp = cfg->sip_tcp = true;
		if (buf) {
			free(buf);
			return cfg_fail(c, "sip", "transports", "must not be empty");
		}
	}
	for (size_t i = 0; i < n; i++) {
		const char *t = buf + i * 8;
		if (strcmp(t, "udp") == 0)
			cfg->sip_udp = true;
		else if (strcmp(t, "tcp") == 0)
			cfg->sip_tcp = true;
		else {
			cfg_fail(c, "sip", "transports",
				 "expected one of udp, tcp; got \"%s\"", t);
			free(buf);
			return -1;
		}
	}
	free(buf);

	if (rmc_read_str_list(c, o, "sip", "sip_servers", "sip:127.0.0.1:5090", RM_URI_MAX, &buf,
			      &n) != 0) {
		free(buf);
		return -1;
	}
	cfg->sip_servers = (char(*)[RM_URI_MAX])buf;
	cfg->n_sip_servers = n;
	if (n == 0)
		return cfg_fail(c, "sip", "sip_servers", "must not be empty");
	for (size_t i = 0; i < n; i++)
		if (!rmc_is_sip_uri(cfg->sip_servers[i]))
			return cfg_fail(c, "sip", "sip_servers",
					"item %zu: expected a sip: URI; got \"%s\"", i,
					cfg->sip_servers[i]);
	return load_sip_trust(c, o, cfg);
}
