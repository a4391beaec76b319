/* fdlimit: see fdlimit.h. */
#include "fdlimit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

/* rlim_t as a long we can print and compute with (RLIM_INFINITY -> 1 << 20). */
static long lim_long(rlim_t v)
{
	if (v == RLIM_INFINITY || v > (rlim_t)(1L << 30))
		return 1L << 20;
	return (long)v;
}

int fdlimit_raise(long *before, long *after, char *err, size_t errlen)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl)) {
		snprintf(err, errlen, "cannot read the open-file limit: %s", strerror(errno));
		return -1;
	}
	*before = *after = lim_long(rl.rlim_cur);
	if (rl.rlim_cur == rl.rlim_max)
		return 0;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		*after = lim_long(rl.rlim_cur);
	return 0;
}

long fdlimit_current(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 1024;
	return lim_long(rl.rlim_cur);
}

int fdlimit_http_default(long nofile)
{
	long n = (nofile - FDLIMIT_RESERVE) / 8;

	if (n < 4)
		n = 4;
	if (n > 1024)
		n = 1024;
	return (int)n;
}

int fdlimit_plan(long nofile, int stomp_cfg, int http_cfg, bool http_on,
		 fdlimit_plan_t *out, char *err, size_t errlen)
{
	long avail = nofile - FDLIMIT_RESERVE;
	long http = 0, stomp;

	memset(out, 0, sizeof(*out));
	out->nofile = nofile;
	out->reserve = FDLIMIT_RESERVE;
	if (http_on) {
		http = http_cfg ? http_cfg : fdlimit_http_default(nofile);
		/* An automatic HTTP share gives way to a configured STOMP cap. */
		if (!http_cfg && stomp_cfg && avail - stomp_cfg < http)
			http = avail - stomp_cfg < 4 ? 4 : avail - stomp_cfg;
	}
	stomp = stomp_cfg ? stomp_cfg : avail - http;
	if (!stomp_cfg && stomp > FDLIMIT_STOMP_MAX)
		stomp = FDLIMIT_STOMP_MAX;
	if (stomp < 1 || stomp + http > avail) {
		snprintf(err, errlen,
			 "the open-file limit is %ld: %s%ld STOMP + %ld HTTP connections and %d"
			 " descriptors of rs's own need %ld; raise the limit (ulimit -n,"
			 " LimitNOFILE=) or lower stomp.max_connections / http.max_connections",
			 nofile, stomp_cfg || http_cfg ? "the configured " : "", stomp < 1 ? 1 : stomp,
			 http, FDLIMIT_RESERVE, (stomp < 1 ? 1 : stomp) + http + FDLIMIT_RESERVE);
		return -1;
	}
	out->stomp = (int)stomp;
	out->http = (int)http;
	return 0;
}
