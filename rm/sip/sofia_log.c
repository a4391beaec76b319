/*
 * sofia_log: su_log -> common/log (see sofia_log.h).
 *
 * sofia-sip may print one line in several calls (a format without '\n' first), so
 * fragments are gathered per thread until the newline; a line is cut at 1 KiB.
 */
#include "sofia_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sofia-sip/su_log.h>

#include "log.h"

static _Thread_local char frag[1024];
static _Thread_local size_t frag_len;

static void sofia_logger(void *stream, char const *fmt, va_list ap)
{
	int n;

	if (frag_len < sizeof frag - 1) {
		n = vsnprintf(frag + frag_len, sizeof frag - frag_len, fmt, ap);
		if (n > 0)
			frag_len += (size_t)n < sizeof frag - frag_len ? (size_t)n
								 : sizeof frag - 1 - frag_len;
	}
	if (frag_len == 0 || (frag[frag_len - 1] != '\n' && frag_len < sizeof frag - 1))
		return;
	while (frag_len && (frag[frag_len - 1] == '\n' || frag[frag_len - 1] == '\r'))
		frag[--frag_len] = '\0';
	if (frag_len)
		log_info("sofia-sip: %s", frag);
	frag_len = 0;
}

void sofia_log_redirect(void)
{
	su_log_redirect(NULL, sofia_logger, NULL);
}
