/* hostport: see hostport.h. */
#include "hostport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hostport_split(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon = strrchr(s, ':');
	const char *h = s, *hend = colon;
	char *end;
	long p;

	if (!colon || colon == s || !colon[1])
		return -1;
	if (s[0] == '[') {
		/* [v6]:port: the colon must follow the closing bracket */
		if (colon[-1] != ']' || colon - s < 3)
			return -1;
		h = s + 1;
		hend = colon - 1;
	} else if (memchr(s, ':', (size_t)(colon - s))) {
		return -1; /* a bare IPv6 address needs brackets before a port */
	}
	if (colon[1] < '0' || colon[1] > '9')
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (*end || p < 1 || p > 65535)
		return -1;
	if (host) {
		if ((size_t)(hend - h) >= hostlen)
			return -1;
		snprintf(host, hostlen, "%.*s", (int)(hend - h), h);
	}
	if (port)
		*port = (int)p;
	return 0;
}

bool hostport_valid(const char *s)
{
	return hostport_split(s, NULL, 0, NULL) == 0;
}
