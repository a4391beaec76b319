/* cluster_health: this node's MCP verdicts (the SIP thread's "h" lines) kept and sent
 * to the peers in health frames (cluster.h "MCP health"; what a peer's verdicts do
 * here is cluster_peer.c apply_health and monitor.h monitor_hint). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"

/* The health lines (cluster_frame.h "health") of every MCP (all) or of those
 * changed since the last send. Returns a malloc'd body (*len bytes; 0: none), or
 * NULL when out of memory. */
static char *health_body(struct cluster *cl, bool all, size_t *len)
{
	size_t cap = 1 + cl->n_health * (RM_URI_MAX + 4);
	char *buf = malloc(cap);

	*len = 0;
	for (size_t i = 0; buf && i < cl->n_health; i++) {
		const struct cluster_health *h = &cl->health[i];
		if (all || h->dirty)
			*len += (size_t)snprintf(buf + *len, cap - *len, "%c %s\n", h->up ? 'u' : 'd',
						 h->uri);
	}
	return buf;
}

void cluster_health_send(struct out_link *l, bool all)
{
	size_t len;
	char *body = health_body(l->cl, all, &len);

	if (body && len)
		cluster_out_send(l, STOMP_CMD_SEND, CLUSTER_T_HEALTH, body, len);
	free(body);
}

/* The changed health lines, to every synced link (at the tick). */
void cluster_health_flush(struct cluster *cl)
{
	if (!cl->health_dirty)
		return;
	for (size_t k = 0; k < cl->n_out; k++) {
		struct out_link *l = &cl->out[k];
		if (l->open && !l->need_full)
			cluster_health_send(l, false);
	}
	for (size_t i = 0; i < cl->n_health; i++)
		cl->health[i].dirty = false;
	cl->health_dirty = false;
}

/* "h u <uri>" / "h d <uri>" from the SIP thread's monitor: this node's verdict on an
 * MCP changed. */
void cluster_health_local(struct cluster *cl, const char *line)
{
	const char *uri = line + 4;
	size_t i;

	if (strlen(line) < 5 || (line[2] != 'u' && line[2] != 'd') || strlen(uri) >= RM_URI_MAX)
		return;
	for (i = 0; i < cl->n_health; i++)
		if (strcmp(cl->health[i].uri, uri) == 0)
			break;
	if (i == cl->n_health) {
		if (cl->n_health == cl->cap_health) {
			size_t cap = cl->cap_health ? 2 * cl->cap_health : 16;
			struct cluster_health *nh = realloc(cl->health, cap * sizeof *nh);
			if (!nh)
				return;
			cl->health = nh;
			cl->cap_health = cap;
		}
		snprintf(cl->health[i].uri, sizeof cl->health[i].uri, "%s", uri);
		cl->n_health++;
	}
	cl->health[i].up = line[2] == 'u';
	cl->health[i].dirty = true;
	cl->health_dirty = true;
}
