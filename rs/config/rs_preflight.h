/*
 * rs_preflight: what rs checks on the host before it starts, run both by `rs` and by
 * `rs --check-config`, so that "ok" means rs starts (see common/preflight.h).
 *
 * Checks: stomp.listen and http.listen (when http.port is not 0) are numeric
 * addresses of this host; log.file can be opened for writing; journal.dir is or can
 * be made a writable directory; with the sqlite backend, storage.sqlite.path can be
 * created or written in a writable directory; with the postgresql backend, the
 * conninfo (or env RS_PG_URL) parses as a libpq key=value string or URL (no
 * connection is made: the database may be down at start, rs journals meanwhile).
 * Not checked: whether the ports are free, broker endpoints (connected to later).
 */
#ifndef RS_PREFLIGHT_H
#define RS_PREFLIGHT_H

#include <stddef.h>

#include "config.h"

/* `file` names the config in messages ("(defaults)" when rs runs without -c);
 * pg_from_env says the conninfo came from env RS_PG_URL (named so in the message).
 * 0, or -1 with "FILE: KEY: reason" in err. */
int rs_preflight(const rs_config_t *cfg, const char *file, int pg_from_env, char *err,
		 size_t errlen);

#endif
