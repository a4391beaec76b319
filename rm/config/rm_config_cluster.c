/* rm_config_cluster: the "cluster" section (rm_config.h; the protocol is README
 * "Cluster"). */
#include "rm_config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cfg.h"
#include "hostport.h"
#include "tls.h"

#define CLUSTER_PEERS_MAX 16
#define CLUSTER_KEY_MIN_LEN 16

/* A node id as the protocol carries it: [A-Za-z0-9._-]. */
static bool node_id_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

static int load_peers(cfg_ctx_t *c, const cJSON *o, struct rm_config *cfg)
{
	char *buf = NULL;
	size_t n = 0;

	if (rmc_read_str_list(c, o, "cluster", "peers", NULL, RM_HOST_MAX, &buf, &n) != 0) {
		free(buf);
		return -1;
	}
	cfg->cluster_peers = (char(*)[RM_HOST_MAX])buf;
	cfg->n_cluster_peers = n;
	if (n > CLUSTER_PEERS_MAX)
		return cfg_fail(c, "cluster", "peers", "at most %d peers; got %zu",
				CLUSTER_PEERS_MAX, n);
	for (size_t i = 0; i < n; i++)
		if (!hostport_valid(cfg->cluster_peers[i]))
			return cfg_fail(c, "cluster", "peers",
					"item %zu: expected \"host:port\"; got \"%s\"", i,
					cfg->cluster_peers[i]);
	return 0;
}

/* cluster.tls: read with the client's keys (tls.h); a node also listens, so it needs
 * a certificate, and with verify + ca_file its listener checks dialers' certificates. */
static int load_tls(cfg_ctx_t *c, const cJSON *o, struct rm_config *cfg)
{
	tls_config_t *t = &cfg->cluster_tls;
	tls_config_t srv;
	const char *bad = NULL;
	char err[512];

	tls_config_defaults(t, TLS_CLIENT);
	if (tls_config_read(c, o, "cluster", "tls", TLS_CLIENT, t) < 0)
		return -1;
	if (!t->enabled)
		return 0;
	rm_config_cluster_tls_server(t, &srv);
	struct ssl_ctx_st *ctx = tls_ctx_new(&srv, TLS_SERVER, &bad, err, sizeof err);
	if (!ctx)
		return cfg_fail(c, "cluster.tls", bad ? bad : "enabled", "%s", err);
	tls_ctx_free(ctx);
	return 0;
}

int rmc_load_cluster(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg)
{
	static const char *const known[] = { "node", "listen", "port", "peers", "key",
					     "heartbeat_ms", "dead_after_ms", "publish_ms",
					     "limits", "nodes", "tls", "adopt", NULL };
	const cJSON *o = cfg_object(c, root, "", "cluster", false);
	const char *env = getenv("RM_CLUSTER_KEY");
	long long port, hb, dead, pub, nodes;
	char limits[16], adopt[16];

	cfg->cluster_present = o != NULL;
	cfg_no_unknown(c, o, "cluster", known);
	cfg_str(c, o, "cluster", "node", false, "", cfg->cluster_node, sizeof(cfg->cluster_node));
	cfg_str(c, o, "cluster", "listen", false, "0.0.0.0", cfg->cluster_listen,
		sizeof(cfg->cluster_listen));
	cfg_int(c, o, "cluster", "port", false, 9801, 1, 65535, &port);
	cfg_str(c, o, "cluster", "key", false, "", cfg->cluster_key, sizeof(cfg->cluster_key));
	cfg_int(c, o, "cluster", "heartbeat_ms", false, 150, 20, 10000, &hb);
	cfg_int(c, o, "cluster", "dead_after_ms", false, 850, 50, 60000, &dead);
	cfg_int(c, o, "cluster", "publish_ms", false, 10, 1, 1000, &pub);
	cfg_str(c, o, "cluster", "limits", false, "normal", limits, sizeof limits);
	cfg_int(c, o, "cluster", "nodes", false, 0, 0, CLUSTER_PEERS_MAX + 1, &nodes);
	cfg_str(c, o, "cluster", "adopt", false, "end", adopt, sizeof adopt);
	if (c->failed)
		return -1;
	cfg->cluster_port = (int)port;
	cfg->cluster_heartbeat_ms = (int)hb;
	cfg->cluster_dead_after_ms = (int)dead;
	cfg->cluster_publish_ms = (int)pub;
	cfg->cluster_nodes = (int)nodes;
	if (strcmp(limits, "strict") != 0 && strcmp(limits, "normal") != 0)
		return cfg_fail(c, "cluster", "limits", "expected one of normal, strict; got \"%s\"",
				limits);
	cfg->cluster_strict = strcmp(limits, "strict") == 0;
	if (strcmp(adopt, "end") != 0 && strcmp(adopt, "keep") != 0)
		return cfg_fail(c, "cluster", "adopt", "expected one of end, keep; got \"%s\"",
				adopt);
	cfg->cluster_adopt_keep = strcmp(adopt, "keep") == 0;
	/* sip.advertise is still as the file gave it here (rm_config_env.c fills it from
	 * sip.listen or POD_IP later): a node's own address would send the in-dialog
	 * requests of its calls to the dead node, where nobody keeps them */
	if (cfg->cluster_adopt_keep && (!cfg->sip_advertise[0] ||
					strcmp(cfg->sip_advertise, cfg->sip_listen) == 0))
		return cfg_fail(c, "cluster", "adopt", "\"keep\" needs sip.advertise set to an "
				"address every node answers (a shared Service or virtual "
				"address), not this node's own sip.listen; got \"%s\"",
				cfg->sip_advertise);
	if (cfg->cluster_strict && nodes < 2)
		return cfg_fail(c, "cluster", "nodes", "limits \"strict\" needs the cluster's "
				"size (2..%d) to split every limit into shares", CLUSTER_PEERS_MAX + 1);
	if (!cfg->cluster_listen[0])
		return cfg_fail(c, "cluster", "listen", "must not be empty");
	if (!node_id_ok(cfg->cluster_node))
		return cfg_fail(c, "cluster", "node",
				"only letters, digits, '.', '_' and '-'; got \"%s\"",
				cfg->cluster_node);
	if (dead <= 2 * hb)
		return cfg_fail(c, "cluster", "dead_after_ms",
				"must be more than two heartbeats (2 x %lld ms); got %lld", hb,
				dead);
	if (env && *env) {
		if (strlen(env) >= sizeof(cfg->cluster_key))
			return cfg_fail(c, "cluster", "key", "RM_CLUSTER_KEY is longer than %zu "
					"bytes", sizeof(cfg->cluster_key) - 1);
		snprintf(cfg->cluster_key, sizeof(cfg->cluster_key), "%s", env);
	}
	if (cfg->cluster_key[0] && strlen(cfg->cluster_key) < CLUSTER_KEY_MIN_LEN)
		return cfg_fail(c, "cluster", "key", "must be at least %d bytes (a shared secret); "
				"got %zu", CLUSTER_KEY_MIN_LEN, strlen(cfg->cluster_key));
	if (load_peers(c, o, cfg) < 0 || load_tls(c, o, cfg) < 0)
		return -1;
	cfg->cluster_enabled = cfg->cluster_present && cfg->cluster_key[0];
	return 0;
}

void rm_config_cluster_tls_server(const tls_config_t *t, tls_config_t *srv)
{
	*srv = *t;
	srv->verify = t->verify && t->ca_file[0];
}
