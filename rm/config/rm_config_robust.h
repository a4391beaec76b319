/*
 * rm_config_robust: the configuration keys of rm's robustness features (issue 10):
 * sip.dns, http.watchdog_s, session.keepalive_s, logging.rate_per_s. Kept apart from
 * rm_config.c so that the main loader stays about the call model.
 */
#ifndef RM_CONFIG_ROBUST_H
#define RM_CONFIG_ROBUST_H

#include <cjson/cJSON.h>

#include "cfg.h"
#include "rm_config.h"

/* Read the keys above from the parsed tree root into cfg (defaults when absent) and,
 * with sip.dns "off", refuse any MCP URI or SIP Server named by host name. The
 * sections' unknown-key checks are rm_config.c's. Returns 0, or -1 with the error
 * recorded in c. */
int rm_config_load_robust(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg);

#endif
