/* pg_params: see pg_params.h. */
#include "pg_params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Add key=val unless the conninfo set key. */
static void pg_params_default(pg_params_t *p, size_t *n, const char *key, const char *val)
{
	if (pg_params_get(p, key))
		return;
	if (*n < PG_PARAMS_MAX) {
		p->keys[*n] = key;
		p->vals[(*n)++] = val;
		p->keys[*n] = p->vals[*n] = NULL;
	}
}

int pg_params_build(pg_params_t *p, const char *conninfo, int statement_timeout_ms,
		    char *err, size_t errlen)
{
	char *msg = NULL;
	size_t n = 0;
	const char *user_options = NULL;

	memset(p, 0, sizeof(*p));
	p->parsed = PQconninfoParse(conninfo, &msg);
	if (!p->parsed) {
		snprintf(err, errlen, "postgresql: conninfo: %.*s",
			 msg ? (int)strcspn(msg, "\n") : 13, msg ? msg : "out of memory");
		PQfreemem(msg);
		return -1;
	}
	p->connect_ms = 3000;
	for (PQconninfoOption *o = p->parsed; o->keyword && n < PG_PARAMS_MAX; o++) {
		if (!o->val || !o->val[0])
			continue;
		if (!strcmp(o->keyword, "options")) {
			user_options = o->val;
			continue;
		}
		if (!strcmp(o->keyword, "connect_timeout") && atoi(o->val) > 0)
			p->connect_ms = atoi(o->val) * 1000;
		p->keys[n] = o->keyword;
		p->vals[n++] = o->val;
	}
	p->keys[n] = p->vals[n] = NULL;
	snprintf(p->connect_s, sizeof(p->connect_s), "%d", p->connect_ms / 1000);
	pg_params_default(p, &n, "connect_timeout", p->connect_s);
	pg_params_default(p, &n, "keepalives", "1");
	pg_params_default(p, &n, "keepalives_idle", "10");
	pg_params_default(p, &n, "keepalives_interval", "5");
	pg_params_default(p, &n, "keepalives_count", "3");
	p->answer_ms = statement_timeout_ms + 500;
	if (user_options && strstr(user_options, "statement_timeout"))
		snprintf(p->options, sizeof(p->options), "%s", user_options);
	else
		snprintf(p->options, sizeof(p->options), "%s%s-c statement_timeout=%d",
			 user_options ? user_options : "", user_options ? " " : "",
			 statement_timeout_ms);
	pg_params_default(p, &n, "options", p->options);
	return 0;
}

const char *pg_params_get(const pg_params_t *p, const char *key)
{
	for (size_t i = 0; p->keys[i]; i++)
		if (!strcmp(p->keys[i], key))
			return p->vals[i];
	return NULL;
}

void pg_params_free(pg_params_t *p)
{
	PQconninfoFree(p->parsed);
	memset(p, 0, sizeof(*p));
}
