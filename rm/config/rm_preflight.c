/*
 * rm_preflight: rm's start-up checks on the host (see rm_preflight.h).
 */
#include "rm_preflight.h"

#include "cfg.h"
#include "preflight.h"

int rm_preflight(const struct rm_config *cfg, char *err, size_t errlen)
{
	cfg_ctx_t c;

	cfg_ctx_init(&c, cfg->file[0] ? cfg->file : "rm.json", err, errlen);
	preflight_listen(&c, "sip", "listen", cfg->sip_listen);
	preflight_listen(&c, "http", "listen", cfg->http_listen);
	preflight_file(&c, "logging", "file", cfg->log_file);
	if (cfg->billing_mode != RM_BILLING_OFF)
		preflight_dir(&c, "billing", "spool_dir", cfg->billing_spool_dir);
	return c.failed ? -1 : 0;
}
