/*
 * keepalive: dead dialogs end (issue 10). Every session.keepalive_s seconds rm sends
 * an OPTIONS inside each answered dialog to both sides (proxy_dialog.c builds it as
 * the other side would: Call-ID, tags, route set, that side's CSeq). A side that
 * answers anything but 408/481 is alive (a 405 or 501 still proves the dialog's UA
 * is there). 408, 481, an error of nta's own (ICMP unreachable, transport error) or
 * no final answer by the next round ends the call: BYE to both sides (proxy_dialog.c)
 * and a record with ended_by "rm-keepalive". A caller that vanished thus frees its
 * MCP port within two rounds (about a minute at the default 30 s) instead of at
 * session.max_duration_s.
 *
 * Pings are tracked by dialog identity (Call-ID, From tag), never by pointer: a
 * session that ends meanwhile (BYE) is simply not found when the answer comes.
 */
#include "proxy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

struct ka_ping {
	struct keepalive *ka;
	nta_outgoing_t *orq;
	enum dialog_side side;
	char *call_id, *from_tag;
	struct ka_ping *prev, *next;
};

struct keepalive {
	struct proxy *p;
	int64_t next_round_ms;
	struct ka_ping *pings; /* this round's, unanswered */
	metric_t *m_sent, *m_dead;
};

static void ping_free(struct ka_ping *pg)
{
	struct keepalive *ka = pg->ka;

	if (pg->prev)
		pg->prev->next = pg->next;
	else
		ka->pings = pg->next;
	if (pg->next)
		pg->next->prev = pg->prev;
	if (pg->orq)
		nta_outgoing_destroy(pg->orq);
	free(pg->call_id);
	free(pg->from_tag);
	free(pg);
}

/* End the session the ping belongs to (if it still lives): `why` for the log. */
static void ka_end(struct keepalive *ka, const char *call_id, const char *from_tag,
		   enum dialog_side side, const char *why)
{
	struct proxy *p = ka->p;
	struct session *s = session_lookup(p->sessions, call_id, from_tag, NULL);
	struct call *c = s ? s->user : NULL;

	if (!s || !c || !c->answered)
		return;
	log_info("keepalive: the %s of call-id=%s %s; ending the call",
		 side == DIALOG_CALLER ? "caller" : "MCP", call_id, why);
	metric_inc(ka->m_dead);
	dialog_bye(p, s, c->dlg, "SIP;cause=408;text=\"dialog keepalive failed\"");
	session_end(p->sessions, s, 408, SESSION_END_RM_KEEPALIVE, util_now_ms());
	proxy_sessions_changed(p);
}

static int ping_answer(void *magic, nta_outgoing_t *orq, const sip_t *sip)
{
	struct ka_ping *pg = magic;
	int status = sip && sip->sip_status ? sip->sip_status->st_status
					    : nta_outgoing_status(orq);
	bool own = !sip || nta_sip_is_internal(sip);
	char why[64];

	if (status < 200)
		return 0;
	if (status == 408 || status == 481 || (own && status >= 300)) {
		snprintf(why, sizeof why, "answered keepalive OPTIONS %d%s", status,
			 own ? " (no answer)" : "");
		/* copy what ka_end needs: ending the session may not free pg, but be safe */
		struct keepalive *ka = pg->ka;
		char *cid = pg->call_id, *tag = pg->from_tag;
		enum dialog_side side = pg->side;
		pg->call_id = pg->from_tag = NULL;
		ping_free(pg);
		ka_end(ka, cid, tag, side, why);
		free(cid);
		free(tag);
		return 0;
	}
	ping_free(pg);
	return 0;
}

static void ping_send(struct keepalive *ka, struct session *s, struct call *c,
		      enum dialog_side side)
{
	struct ka_ping *pg = calloc(1, sizeof *pg);

	if (!pg)
		return;
	pg->ka = ka;
	pg->side = side;
	pg->call_id = strdup(s->call_id);
	pg->from_tag = strdup(s->from_tag ? s->from_tag : "");
	if (pg->call_id && pg->from_tag)
		pg->orq = dialog_request(ka->p, s, c->dlg, side, SIP_METHOD_OPTIONS, ping_answer,
					 pg);
	if (!pg->orq) {
		free(pg->call_id);
		free(pg->from_tag);
		free(pg);
		return;
	}
	pg->next = ka->pings;
	if (ka->pings)
		ka->pings->prev = pg;
	ka->pings = pg;
	metric_inc(ka->m_sent);
}

/* One round: whatever the last round's pings did not hear back ends its call, then
 * every answered session is pinged on both sides. */
static void ka_round(struct keepalive *ka)
{
	struct proxy *p = ka->p;
	struct session *s, *n;

	while (ka->pings) {
		struct ka_ping *pg = ka->pings;
		char *cid = pg->call_id, *tag = pg->from_tag;
		enum dialog_side side = pg->side;
		pg->call_id = pg->from_tag = NULL;
		ping_free(pg);
		ka_end(ka, cid, tag, side, "did not answer keepalive OPTIONS");
		free(cid);
		free(tag);
	}
	for (s = session_first(p->sessions); s; s = n) {
		n = session_next(s);
		struct call *c = s->user;
		if (!c || !c->answered || !c->dlg || !s->answer_ms)
			continue;
		ping_send(ka, s, c, DIALOG_CALLER);
		ping_send(ka, s, c, DIALOG_MCP);
	}
}

struct keepalive *keepalive_new(struct proxy *p)
{
	struct keepalive *ka = calloc(1, sizeof *ka);

	if (!ka)
		return NULL;
	ka->p = p;
	ka->m_sent = p->rmm.keepalive_sent;
	ka->m_dead = p->rmm.keepalive_failed;
	return ka;
}

void keepalive_free(struct keepalive *ka)
{
	if (!ka)
		return;
	while (ka->pings)
		ping_free(ka->pings);
	free(ka);
}

void keepalive_tick(struct keepalive *ka, int64_t now_ms)
{
	int every;

	if (!ka)
		return;
	every = ka->p->cfg->keepalive_s;
	if (every <= 0 || ka->p->stopped) {
		while (ka->pings)
			ping_free(ka->pings);
		return;
	}
	if (!ka->next_round_ms)
		ka->next_round_ms = now_ms + (int64_t)every * 1000;
	if (now_ms < ka->next_round_ms)
		return;
	ka->next_round_ms = now_ms + (int64_t)every * 1000;
	ka_round(ka);
}
