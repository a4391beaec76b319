/*
 * cluster_board: the usage table rm's two threads share for the cluster, with
 * atomics only (no lock, no queue).
 *
 * Why not the bridge (rm/bridge.h): admission reads other nodes' usage on every
 * INVITE and reports its own changes on every admit/pick/release; going through the
 * bridge would cost a queued message per change and a SIP-side consumer inside the
 * proxy. Here the SIP thread reads and writes plain atomic counters in place through
 * route.h's usage hook (cluster_board_hook), and the service thread (rm/cluster/
 * cluster.c) reads `local` to publish it and writes `remote`, the sum of what the
 * other nodes published. Each counter has one writer: `local` the SIP thread,
 * `remote` the service thread.
 *
 * Keys are (kind, name): tenant, profile, LRG name or MCP URI. A key, once added, is
 * never removed (the names come from the configuration and the peers' configurations:
 * bounded by CLUSTER_BOARD_CAP; a key beyond it is not counted, see `full`). Both
 * threads may add keys: a slot is claimed with a compare-and-swap, written, then
 * published; a reader that meets a slot being written waits for it (a few stores).
 *
 * Every local change bumps `generation`, so the publisher scans only when something
 * changed.
 */
#ifndef RM_CLUSTER_BOARD_H
#define RM_CLUSTER_BOARD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "rm_config.h"
#include "route.h"

#define CLUSTER_BOARD_CAP 2048 /* keys; a power of two */

struct cluster_board_slot {
	atomic_int state; /* 0 empty, 1 being written, 2 ready */
	enum route_usage_kind kind;
	char name[RM_URI_MAX];
	atomic_int local;  /* this node's live count (SIP thread writes) */
	atomic_int remote; /* the other nodes' sum (service thread writes) */
};

struct cluster_board {
	struct cluster_board_slot slot[CLUSTER_BOARD_CAP];
	atomic_uint generation; /* bumped on every local change */
	atomic_uint used;       /* slots claimed */
	atomic_uint full;       /* keys refused because the board is full */
	int strict_nodes;       /* cluster.limits strict: N nodes; 0 = normal */
	/* strict: the share units this node holds, of strict_nodes x CLUSTER_UNITS in
	 * the cluster (CLUSTER_UNITS its own; more when a leaving peer handed its units
	 * over; 0 once this node handed its own over). Service thread writes, SIP thread
	 * reads (hook share). */
	atomic_int units;
};

#define CLUSTER_UNITS 60 /* one node's units: split evenly among 2..6 survivors */

/* calloc'd board; free() it. NULL on out of memory. */
struct cluster_board *cluster_board_new(void);

/* The slot index of (kind, name), adding the key when add is true. -1: absent (add
 * false), the board is full, or name is empty / too long. Any thread. */
int cluster_board_find(struct cluster_board *b, enum route_usage_kind kind, const char *name,
		       bool add);

/* Add delta to the local count of (kind, name) and bump the generation. */
void cluster_board_local_add(struct cluster_board *b, enum route_usage_kind kind,
			     const char *name, int delta);
/* The other nodes' count of (kind, name); 0 when unknown. */
int cluster_board_remote(struct cluster_board *b, enum route_usage_kind kind,
			 const char *name);

/* route.h's hook on this board (arg = b); with b->strict_nodes > 0 (set before),
 * the share of a limit l3 is l3 x units / (strict_nodes x CLUSTER_UNITS), rounded
 * down (l3 / N with a node's own units; the remainder is left unused: a share never
 * depends on who is reachable, only on units handed over by a peer that stopped
 * admitting, README "rm cluster"). */
void cluster_board_hook(struct cluster_board *b, struct route_usage_hook *h);

#endif
