/*
 * cluster_seen: with cluster.adopt "keep" every node advertises one shared address,
 * so an in-dialog request of a call may reach a node other than the one carrying it.
 * That node routes it all the same (its Route set suffices), and tells the peers: the
 * SIP thread's "a" (ACK) and "b" (BYE) lines for calls it does not hold go to every
 * peer in "seen" frames (cluster_frame.h), and a peer's lines go to this node's SIP
 * thread (rm/sip/proxy_cluster.c), where the node that holds the call takes the ACK
 * as its own (no "no ACK" BYE) or ends the call on the BYE (its record, its usage).
 *
 * Line: "a|b TAB call_id TAB from_tag TAB to_tag LF" (the request's own tags: the
 * holder's session matches either); fields carry no TAB, CR or LF (the SIP thread
 * sends none that do). Queued lines are dropped beyond CLUSTER_MAX_PENDING.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "log.h"

void cluster_seen_local(struct cluster *cl, char *line)
{
	size_t n = strlen(line);

	if (cl->seen_len + n + 1 > cl->seen_cap && cl->seen_len + n < CLUSTER_MAX_PENDING) {
		size_t cap = cl->seen_cap ? cl->seen_cap * 2 : 4096;
		while (cap < cl->seen_len + n + 1)
			cap *= 2;
		char *np = realloc(cl->seen_pend, cap);
		if (np) {
			cl->seen_pend = np;
			cl->seen_cap = cap;
		}
	}
	if (cl->seen_len + n + 1 <= cl->seen_cap) {
		memcpy(cl->seen_pend + cl->seen_len, line, n + 1);
		cl->seen_len += n;
	} else {
		cluster_sess_lost(cl);
	}
	free(line);
}

void cluster_seen_flush(struct cluster *cl)
{
	if (!cl->seen_len)
		return;
	for (size_t k = 0; k < cl->n_out; k++) {
		struct out_link *l = &cl->out[k];
		if (l->open && !l->need_full)
			cluster_out_send(l, STOMP_CMD_SEND, CLUSTER_T_SEEN, cl->seen_pend,
					 cl->seen_len);
	}
	cl->seen_len = 0;
}

void cluster_seen_apply(struct cluster *cl, struct peer *p, const struct cluster_msg *m)
{
	const char *s = m->body, *end = m->body + m->body_len;

	while (cl->adopt && s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = (size_t)((nl ? nl : end) - s);
		if (cluster_seen_line_ok(s, n)) {
			struct cluster_adopt *a = malloc(sizeof *a + n + 1);
			if (a) {
				snprintf(a->owner, sizeof a->owner, "%s", p->node);
				memcpy(a->line, s, n);
				a->line[n] = '\0';
				if (cl->adopt(cl->adopt_arg, a) < 0)
					log_warn("cluster: a request %s saw not passed on (SIP queue "
						 "full)", p->node);
			}
		} else if (n) {
			metric_inc(cl->mm.cluster_dropped[CLUSTER_DROP_MALFORMED]);
			return;
		}
		s += n + 1;
	}
}
