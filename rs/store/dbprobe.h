/*
 * dbprobe: watch whether the database answers, from a thread of its own and on a
 * connection of its own, so the writer thread never blocks on a database that is
 * down or hung: it journals while the probe waits out the timeouts.
 *
 * The probe pings (store_ping: connect if needed, SELECT 1, each bounded by the
 * store's deadlines) every up_ms while the database answers and every down_ms while
 * it does not, and calls report(arg, ok, why, started_us) from its thread after
 * every ping; started_us (util_mono_us) is when that ping began, so a caller can
 * tell an answer from before an event from one after it.
 *
 * The ping also creates or migrates the schema on first contact (store_ping), so a
 * PostgreSQL that is away when rs starts gets it once it answers: rs/main.c does not
 * wait for it. The cost of the design is one more PostgreSQL connection per rs;
 * sharing the writer's would put two threads on one libpq connection, or the writer
 * back behind a hung server.
 */
#ifndef RS_DBPROBE_H
#define RS_DBPROBE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct dbprobe dbprobe_t;

/* Open a store of its own for cfg and start the thread. NULL with err on failure.
 * why is "" when ok. */
dbprobe_t *dbprobe_start(const rs_config_t *cfg, int up_ms, int down_ms,
			 void (*report)(void *arg, int ok, const char *why, int64_t started_us),
			 void *arg,
			 char *err, size_t errlen);

/* Stop the thread (waits for a ping in progress: at most the store's deadline),
 * close its store and free it. NULL is fine. */
void dbprobe_stop(dbprobe_t *p);

#endif
