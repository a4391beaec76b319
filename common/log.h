/*
 * log: leveled logging to stderr or a file, as plain text or JSON lines.
 *
 * Thread-safe: each line is written with one write(2). log_reopen() is what SIGHUP
 * calls to reopen a rotated file; it is safe to call from the main loop, not from a
 * signal handler.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOGL_ERROR = 0, LOGL_WARN, LOGL_INFO, LOGL_DEBUG };

/* Start logging as `prog`. path NULL or "-" means stderr. Returns 0, or -1 with a
 * sentence in err (e.g. the file cannot be opened). May be called again to change
 * settings. */
int log_init(const char *prog, const char *path, enum log_level level, bool json,
	     char *err, size_t errlen);
/* Reopen the log file (after rotation). No-op for stderr. Returns 0 or -1. */
int log_reopen(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "error", "warn", "info", "debug" -> level. Returns 0, or -1 if unknown. */
int log_level_parse(const char *name, enum log_level *out);
void log_close(void);

/* Log one message. Every message at an enabled level is counted (log_count); at most
 * log_set_rate() lines per second are written per format string (per call site, in
 * effect), the others are counted (log_suppressed) and reported by one line
 * "log: suppressed K similar lines (FORMAT)" when that format logs again in a later
 * second, or at the next log_flush_suppressed(). */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Lines per second per format string; 0 (the default) = no limit. Any thread. */
void log_set_rate(int per_s);
/* Messages logged at level since start (suppressed ones included). Any thread. */
unsigned long long log_count(enum log_level level);
/* Messages the rate limit did not write. Any thread. */
unsigned long long log_suppressed(void);
/* Report the suppressed counts of seconds that are over (call about once a second). */
void log_flush_suppressed(void);

#define log_error(...) log_msg(LOGL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOGL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOGL_INFO, __VA_ARGS__)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_get_level() >= LOGL_DEBUG)                             \
			log_msg(LOGL_DEBUG, __VA_ARGS__);                      \
	} while (0)

#endif
