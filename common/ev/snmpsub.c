/*
 * snmpsub: net-snmp subagent glue for libevent. See snmpsub.h for the model.
 *
 * net-snmp wants a select() loop; we give it the same through libevent: after every
 * piece of work we ask snmp_select_info2() which sockets and which timeout it needs,
 * and (re)arm one read event per socket plus one timer. Alarms (the AgentX ping and
 * the reconnect attempts) run from that timer because we tell the library not to use
 * SIGALRM.
 */
#include "snmpsub.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/library/large_fd_set.h>

#include "log.h"
#include "oid.h"

#define AX_MAX_FDS 16

struct snmpsub {
	struct event_base *base;
	char prog[64];
	oid root[SNMPSUB_OID_MAX];
	size_t root_len;
	snmpsub_collect_fn collect;
	void *arg;
	struct event *timer;
	struct event *fd_ev[AX_MAX_FDS];
	int fds[AX_MAX_FDS];
	int nfds;
	netsnmp_handler_registration *reg;
	/* The snapshot of one request batch, sorted by OID. */
	snmpsub_value_t *snap;
	size_t snap_len, snap_cap;
};

/* One agent per process: net-snmp's state is global. */
static snmpsub_t *ax_current;

int snmpsub_parse_oid(const char *text, uint32_t *out, size_t max)
{
	return oid_parse(text, out, max);
}

static int ax_cmp_oid(const uint32_t *a, size_t alen, const uint32_t *b, size_t blen)
{
	size_t i, n = alen < blen ? alen : blen;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return alen == blen ? 0 : (alen < blen ? -1 : 1);
}

static int ax_cmp_value(const void *a, const void *b)
{
	const snmpsub_value_t *x = a, *y = b;

	return ax_cmp_oid(x->oid, x->oid_len, y->oid, y->oid_len);
}

/* Take a fresh, sorted snapshot from the program. 0, or -1 on out of memory. */
static int ax_snapshot(snmpsub_t *ax)
{
	size_t n;

	for (;;) {
		n = ax->collect(ax->arg, ax->snap, ax->snap_cap);
		if (n <= ax->snap_cap)
			break;
		snmpsub_value_t *s = realloc(ax->snap, n * 2 * sizeof(*s));
		if (!s)
			return -1;
		ax->snap = s;
		ax->snap_cap = n * 2;
	}
	ax->snap_len = n;
	qsort(ax->snap, n, sizeof(*ax->snap), ax_cmp_value);
	return 0;
}

/* Put one value into a varbind, with its full OID root.suffix. */
static void ax_set_var(snmpsub_t *ax, netsnmp_variable_list *vb, const snmpsub_value_t *v,
		       int set_name)
{
	if (set_name) {
		oid full[2 * SNMPSUB_OID_MAX];
		size_t i;

		memcpy(full, ax->root, ax->root_len * sizeof(oid));
		for (i = 0; i < v->oid_len; i++)
			full[ax->root_len + i] = v->oid[i];
		snmp_set_var_objid(vb, full, ax->root_len + v->oid_len);
	}
	switch (v->type) {
	case SNMPSUB_COUNTER64: {
		struct counter64 c;
		uint64_t u = v->num < 0 ? 0 : (uint64_t)v->num;

		c.high = (u_long)(u >> 32);
		c.low = (u_long)(u & 0xffffffffu);
		snmp_set_var_typed_value(vb, ASN_COUNTER64, &c, sizeof(c));
		break;
	}
	case SNMPSUB_GAUGE32: {
		u_long g = v->num < 0 ? 0 : v->num > 0xffffffffLL ? 0xffffffffUL : (u_long)v->num;

		snmp_set_var_typed_value(vb, ASN_GAUGE, &g, sizeof(g));
		break;
	}
	case SNMPSUB_INTEGER: {
		long i = (long)v->num;

		snmp_set_var_typed_value(vb, ASN_INTEGER, &i, sizeof(i));
		break;
	}
	case SNMPSUB_STRING:
		snmp_set_var_typed_value(vb, ASN_OCTET_STR, v->str, strlen(v->str));
		break;
	}
}

/* The request's OID relative to our root: *rel/relen, or -1 if it sorts before the
 * root (then every value of ours is "next"), 1 if after. */
static int ax_relative(snmpsub_t *ax, const netsnmp_variable_list *vb, uint32_t *rel,
		       size_t *rellen)
{
	size_t i, n = vb->name_length;

	for (i = 0; i < ax->root_len; i++) {
		if (i >= n)
			return -1;
		if (vb->name[i] != ax->root[i])
			return vb->name[i] < ax->root[i] ? -1 : 1;
	}
	*rellen = 0;
	for (; i < n && *rellen < 2 * SNMPSUB_OID_MAX; i++)
		rel[(*rellen)++] = (uint32_t)vb->name[i];
	return 0;
}

static int ax_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reg,
		      netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	snmpsub_t *ax = ax_current;
	netsnmp_request_info *r;

	if (!ax || ax_snapshot(ax) < 0)
		return SNMP_ERR_GENERR;
	for (r = requests; r; r = r->next) {
		uint32_t rel[2 * SNMPSUB_OID_MAX];
		size_t rellen = 0, i;
		int pos = ax_relative(ax, r->requestvb, rel, &rellen);

		if (r->processed)
			continue;
		switch (reqinfo->mode) {
		case MODE_GET:
			for (i = 0; pos == 0 && i < ax->snap_len; i++)
				if (!ax_cmp_oid(ax->snap[i].oid, ax->snap[i].oid_len, rel, rellen))
					break;
			if (pos == 0 && i < ax->snap_len)
				ax_set_var(ax, r->requestvb, &ax->snap[i], 0);
			else
				netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
			break;
		case MODE_GETNEXT:
			if (pos > 0)
				break; /* past our subtree: the master moves on */
			for (i = 0; i < ax->snap_len; i++)
				if (pos < 0 || ax_cmp_oid(ax->snap[i].oid, ax->snap[i].oid_len,
							  rel, rellen) > 0)
					break;
			if (i < ax->snap_len)
				ax_set_var(ax, r->requestvb, &ax->snap[i], 1);
			break;
		default:
			netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOTWRITABLE);
			break;
		}
	}
	return SNMP_ERR_NOERROR;
}

static int ax_log_cb(int major, int minor, void *server_arg, void *client_arg)
{
	struct snmp_log_message *m = server_arg;
	char line[512];
	size_t n;

	snprintf(line, sizeof(line), "snmp: %s", m && m->msg ? m->msg : "");
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (m && m->priority <= LOG_ERR)
		log_warn("%s", line);
	else
		log_debug("%s", line);
	return 0;
}

static void ax_rearm(snmpsub_t *ax);

static void ax_work(snmpsub_t *ax)
{
	netsnmp_check_outstanding_agent_requests();
	ax_rearm(ax);
}

static void ax_on_read(evutil_socket_t fd, short what, void *arg)
{
	snmpsub_t *ax = arg;
	netsnmp_large_fd_set set;

	netsnmp_large_fd_set_init(&set, fd + 1);
	NETSNMP_LARGE_FD_SET(fd, &set);
	snmp_read2(&set);
	netsnmp_large_fd_set_cleanup(&set);
	ax_work(ax);
}

static void ax_on_timer(evutil_socket_t fd, short what, void *arg)
{
	snmpsub_t *ax = arg;

	snmp_timeout();
	run_alarms();
	ax_work(ax);
}

/* Ask net-snmp what it waits for and mirror it in libevent. Cheap: a handful of
 * sockets at most. */
static void ax_rearm(snmpsub_t *ax)
{
	netsnmp_large_fd_set set;
	struct timeval tv = { 1, 0 }, cap = { 1, 0 };
	int maxfd = 0, block = 0, fd, i;

	netsnmp_large_fd_set_init(&set, FD_SETSIZE);
	snmp_select_info2(&maxfd, &set, &tv, &block);
	for (i = 0; i < ax->nfds; i++)
		event_free(ax->fd_ev[i]);
	ax->nfds = 0;
	for (fd = 0; fd < maxfd && ax->nfds < AX_MAX_FDS; fd++) {
		if (!NETSNMP_LARGE_FD_ISSET(fd, &set))
			continue;
		ax->fds[ax->nfds] = fd;
		ax->fd_ev[ax->nfds] = event_new(ax->base, fd, EV_READ, ax_on_read, ax);
		event_add(ax->fd_ev[ax->nfds], NULL);
		ax->nfds++;
	}
	netsnmp_large_fd_set_cleanup(&set);
	/* Never sleep longer than a second: the reconnect alarm must get its chance. */
	if (block || timercmp(&tv, &cap, >))
		tv = cap;
	evtimer_add(ax->timer, &tv);
}

snmpsub_t *snmpsub_start(struct event_base *base, const char *prog, const char *master,
		       const char *root, snmpsub_collect_fn collect, void *arg, char *err,
		       size_t errlen)
{
	snmpsub_t *ax = NULL;
	uint32_t parts[SNMPSUB_OID_MAX];
	int n, i;

	if (ax_current) {
		snprintf(err, errlen, "snmp: only one subagent per process");
		return NULL;
	}
	n = snmpsub_parse_oid(root, parts, SNMPSUB_OID_MAX);
	if (n < 0) {
		snprintf(err, errlen, "snmp: base OID \"%s\" is not a dotted list of numbers",
			 root);
		return NULL;
	}
	ax = calloc(1, sizeof(*ax));
	if (!ax)
		goto fail;
	ax->base = base;
	snprintf(ax->prog, sizeof(ax->prog), "%s", prog);
	for (i = 0; i < n; i++)
		ax->root[i] = parts[i];
	ax->root_len = (size_t)n;
	ax->collect = collect;
	ax->arg = arg;
	ax->timer = evtimer_new(base, ax_on_timer, ax);
	if (!ax->timer)
		goto fail;

	/* No MIB files, no persistent state on disk, no SIGALRM, logs into ours. */
	setenv("MIBS", "", 0);
	snmp_disable_log();
	snmp_enable_calllog();
	snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, ax_log_cb, NULL);
	/* (NULL: snmp_shutdown frees a callback's client_arg.) */
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
	netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET, master);
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL, 1);
	if (init_agent(ax->prog) != 0) {
		snprintf(err, errlen, "snmp: net-snmp agent initialisation failed");
		goto fail;
	}
	ax_current = ax;
	ax->reg = netsnmp_create_handler_registration(ax->prog, ax_handler, ax->root,
						      ax->root_len, HANDLER_CAN_RONLY);
	if (!ax->reg || netsnmp_register_handler(ax->reg) != MIB_REGISTERED_OK) {
		snprintf(err, errlen, "snmp: cannot register subtree %s", root);
		goto fail;
	}
	init_snmp(ax->prog);
	/* Only now: init_snmp resets it from (absent) config files. A 1 s ping makes a
	 * restarted master visible, and reconnection follows within about a second. */
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL, 1);
	ax_rearm(ax);
	log_info("snmp: subagent %s serving %s via master %s", ax->prog, root, master);
	return ax;
fail:
	if (ax) {
		if (ax->timer)
			event_free(ax->timer);
		free(ax);
	}
	ax_current = NULL;
	if (err && !*err)
		snprintf(err, errlen, "snmp: out of memory");
	return NULL;
}

int snmpsub_connected(const snmpsub_t *ax)
{
	return ax && ax->nfds > 0;
}

int snmpsub_notify(snmpsub_t *ax, uint32_t notif, const snmpsub_value_t *vars, size_t n)
{
	static const oid trap_oid_oid[] = { 1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0 };
	netsnmp_variable_list *list = NULL;
	oid trap[SNMPSUB_OID_MAX + 2];
	size_t i;

	if (!ax)
		return -1;
	memcpy(trap, ax->root, ax->root_len * sizeof(oid));
	trap[ax->root_len] = 0;
	trap[ax->root_len + 1] = notif;
	snmp_varlist_add_variable(&list, trap_oid_oid, OID_LENGTH(trap_oid_oid),
				  ASN_OBJECT_ID, (u_char *)trap,
				  (ax->root_len + 2) * sizeof(oid));
	for (i = 0; i < n; i++) {
		netsnmp_variable_list *vb =
			snmp_varlist_add_variable(&list, trap, 1, ASN_NULL, NULL, 0);
		if (vb)
			ax_set_var(ax, vb, &vars[i], 1);
	}
	if (!snmpsub_connected(ax))
		log_warn("snmp: notification %u not sent: no AgentX master", notif);
	send_v2trap(list);
	snmp_free_varbind(list);
	ax_work(ax);
	return snmpsub_connected(ax) ? 0 : -1;
}

void snmpsub_stop(snmpsub_t *ax)
{
	int i;

	if (!ax)
		return;
	for (i = 0; i < ax->nfds; i++)
		event_free(ax->fd_ev[i]);
	event_free(ax->timer);
	snmp_shutdown(ax->prog);
	free(ax->snap);
	free(ax);
	ax_current = NULL;
}
