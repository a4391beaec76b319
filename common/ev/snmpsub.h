/*
 * snmpsub: an AgentX subagent (net-snmp) driven from a libevent event_base.
 *
 * The program owns one subtree (for rm: BASE.1, for rs: BASE.2; see etc/mibs). It
 * does not register objects one by one: whenever the master asks, snmpsub calls the
 * program's collect function for a snapshot of every (OID suffix, value) under its
 * subtree, sorts it and answers GET / GETNEXT / GETBULK from it. Scalars and tables
 * are the same to it (a table cell is suffix entry.column.index). Values normally come
 * from the metrics registry, so SNMP and /metrics agree by construction.
 *
 * net-snmp keeps process-wide state: one snmpsub_t per process, used from the thread
 * that runs its event_base only. It can be started once per process: net-snmp does not
 * reopen its AgentX session after snmp_shutdown, so changing the master or the base
 * OID takes a restart of the program. If the master is not there (or restarts), snmpsub
 * keeps trying to reconnect every second; nothing else in the program waits on it.
 */
#ifndef COMMON_SNMPSUB_H
#define COMMON_SNMPSUB_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

#define SNMPSUB_OID_MAX 16

enum snmpsub_type {
	SNMPSUB_COUNTER64 = 0,
	SNMPSUB_GAUGE32,
	SNMPSUB_INTEGER,
	SNMPSUB_STRING,
};

typedef struct snmpsub_value {
	uint32_t oid[SNMPSUB_OID_MAX]; /* suffix under the program's subtree */
	size_t oid_len;
	enum snmpsub_type type;
	int64_t num;   /* COUNTER64, GAUGE32 (clamped to 2^32-1), INTEGER */
	char str[256]; /* STRING */
} snmpsub_value_t;

/* Fill at most cap values into out (any order) and return how many there are in
 * all; if that is more than cap, snmpsub calls again with a bigger buffer. Runs on the
 * event_base's thread. */
typedef size_t (*snmpsub_collect_fn)(void *arg, snmpsub_value_t *out, size_t cap);

typedef struct snmpsub snmpsub_t;

/* Parse "1.3.6.1.4.1.99999.1" into oid (at most max parts). Returns the number of
 * parts, or -1 if the text is not a dotted list of unsigned numbers: oid_parse
 * (common/oid.h, the one OID parser). */
int snmpsub_parse_oid(const char *text, uint32_t *oid, size_t max);

/* Connect to the master at `master` (net-snmp transport syntax, e.g.
 * "tcp:127.0.0.1:1705") as subagent `prog`, serving the subtree `root` (dotted
 * numeric). Returns the agent, or NULL with a sentence in err (bad OID, net-snmp
 * failed to initialise). A master that is down is not an error. */
snmpsub_t *snmpsub_start(struct event_base *base, const char *prog, const char *master,
		       const char *root, snmpsub_collect_fn collect, void *arg, char *err,
		       size_t errlen);

/* Send notification root.0.<notif> with the given varbinds (their OIDs are suffixes
 * under root, like collected values). Returns 0, or -1 when not connected (the
 * notification is dropped and logged). */
int snmpsub_notify(snmpsub_t *ax, uint32_t notif, const snmpsub_value_t *vars, size_t n);

/* 1 while the session with the master is open. */
int snmpsub_connected(const snmpsub_t *ax);

/* Close the session and free everything. ax may be NULL. */
void snmpsub_stop(snmpsub_t *ax);

#endif
