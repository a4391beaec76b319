/*
 * rm_preflight: what rm checks on the host before it starts, run both by `rm -c` and
 * by `rm --check-config`, so that "OK" means rm starts (see common/preflight.h).
 *
 * Checks: sip.listen and http.listen are numeric addresses of this host; the log
 * file (logging.file) can be opened for writing; billing.spool_dir (unless billing
 * is off) is or can be made a writable directory. Not checked: whether the ports
 * are free (a running instance may hold them), cluster.listen (the cluster binds it
 * at start and fails there with the reason), billing endpoints and SNMP master (connected to
 * later, with retries).
 */
#ifndef RM_PREFLIGHT_H
#define RM_PREFLIGHT_H

#include <stddef.h>

#include "rm_config.h"

/* 0, or -1 with "FILE: KEY: reason" in err (FILE is cfg->file). */
int rm_preflight(const struct rm_config *cfg, char *err, size_t errlen);

#endif
