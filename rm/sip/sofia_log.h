/*
 * sofia_log: sofia-sip's own diagnostics (su_log: "tport: ...", "nta: ...",
 * "sres: ...") go through rm's log (common/log.h) instead of straight to stderr, so
 * they are counted, rate-limited and land in logging.file like rm's own lines.
 */
#ifndef RM_SOFIA_LOG_H
#define RM_SOFIA_LOG_H

/* Redirect su_log's default log (every sofia-sip module that has no logger of its
 * own) to log_msg at level info. Call once after su_init(). */
void sofia_log_redirect(void);

#endif
