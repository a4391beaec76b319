/*
 * cluster_ring: ringing calls' lines (README "rm cluster", "Replicated sessions").
 *
 * The SIP thread describes every admitted call as soon as its INVITE goes to an MCP
 * (a "+" line with answer_ms 0), so that if this node dies while the call still
 * rings, the adopter can write its record. Sending each such line would cost the link
 * about as much again as the answered line that usually follows within milliseconds;
 * so the line is held here, in ring[0], and the sets turn every CLUSTER_RING_HOLD_MS:
 * what is still in ring[1] at a turn (a call ringing 100 to 200 ms) is sent like any
 * other line. The answer ("+" with answer_ms) or the end ("-") of a held call takes
 * its line out; a "-" of a call the peers never heard of is dropped as well.
 *
 * Gap: a call that dies with its node within its first 100-200 ms of ringing gets no
 * record (as one answered within the last replication window).
 */
#include "cluster_int.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

bool cluster_ring_local(struct cluster *cl, char *line, size_t n)
{
	bool held = cluster_sess_set_remove(cl->ring[0], line, n);

	held = cluster_sess_set_remove(cl->ring[1], line, n) || held;
	if (line[0] == '+' && cluster_sess_line_ringing(line, n)) {
		if (cluster_sess_set_apply_own(cl->ring[0], line, n) < 0)
			return false; /* out of memory: sent at once */
		free(line);
		return true;
	}
	if (line[0] == '-' && (held || !cluster_sess_set_has(cl->local_sess, line, n))) {
		free(line);
		return true;
	}
	return false;
}

static void promote(void *arg, char *line)
{
	struct cluster *cl = arg;
	size_t n = strlen(line);

	if (cluster_sess_set_apply_own(cl->local_sess, line, n) < 0) {
		log_warn("cluster: a ringing call's line cannot be kept: %.120s", line);
		free(line);
		return;
	}
	cluster_sess_pend(cl, line, n);
}

void cluster_ring_tick(struct cluster *cl, int64_t now_ms)
{
	struct cluster_sess_set *t;

	if (now_ms - cl->ring_since_ms < CLUSTER_RING_HOLD_MS)
		return;
	cluster_sess_set_drain(cl->ring[1], promote, cl);
	t = cl->ring[1];
	cl->ring[1] = cl->ring[0];
	cl->ring[0] = t;
	cl->ring_since_ms = now_ms;
}
