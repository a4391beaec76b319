/* rm_config_read: the value readers the section loaders share (see rm_config_int.h). */
#include "rm_config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cfg.h"


void rmc_where_fmt(char *out, size_t len, const char *kind, const char *name)
{
	snprintf(out, len, "%s \"%s\"", kind, name);
}

bool rmc_is_sip_uri(const char *s)
{
	return (strncmp(s, "sip:", 4) == 0 && s[4]) || (strncmp(s, "sips:", 5) == 0 && s[5]);
}

/* A required, non-empty name. */
int rmc_read_name(cfg_ctx_t *c, const cJSON *o, const char *where, const char *key,
		  char *out)
{
	if (cfg_str(c, o, where, key, true, NULL, out, RM_NAME_MAX) != 0)
		return -1;
	if (!out[0])
		return cfg_fail(c, where, key, "must not be empty");
	return 0;
}

/* An array of strings into a malloc'd array of fixed-size slots. Absent: one default
 * entry (def) or none (def NULL). */
int rmc_read_str_list(cfg_ctx_t *c, const cJSON *obj, const char *where, const char *key,
		      const char *def, size_t slot, char **out, size_t *n)
{
	const cJSON *a = cfg_array(c, obj, where, key, false);
	*out = NULL;
	*n = 0;
	if (c->failed)
		return -1;
	if (!a) {
		if (!def)
			return 0;
		*out = calloc(1, slot);
		if (!*out)
			return cfg_fail(c, where, key, "out of memory");
		snprintf(*out, slot, "%s", def);
		*n = 1;
		return 0;
	}
	if (!cJSON_IsArray(a))
		return cfg_fail(c, where, key, "expected an array");
	size_t cnt = (size_t)cJSON_GetArraySize(a);
	*out = calloc(cnt ? cnt : 1, slot);
	if (!*out)
		return cfg_fail(c, where, key, "out of memory");
	size_t i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, a)
	{
		if (!cJSON_IsString(e))
			return cfg_fail(c, where, key, "item %zu: expected a string", i);
		if (strlen(e->valuestring) >= slot)
			return cfg_fail(c, where, key, "item %zu: longer than %zu characters", i,
					slot - 1);
		memcpy(*out + i * slot, e->valuestring, strlen(e->valuestring) + 1);
		i++;
	}
	*n = i;
	return 0;
}

int rmc_read_limits(cfg_ctx_t *c, const cJSON *owner, const char *where,
		    struct rm_limits *l)
{
	static const char *const known[] = {"l1", "l2", "l3", NULL};
	char w[RM_NAME_MAX + 64];
	long long l1, l2, l3;

	memset(l, 0, sizeof(*l));
	const cJSON *o = cfg_object(c, owner, where, "limits", false);
	if (c->failed || !o)
		return c->failed ? -1 : 0;
	snprintf(w, sizeof(w), "%s.limits", where);
	cfg_no_unknown(c, o, w, known);
	cfg_int(c, o, w, "l3", false, 0, 0, 10000000, &l3);
	cfg_int(c, o, w, "l2", false, l3, 0, 10000000, &l2);
	cfg_int(c, o, w, "l1", false, l2, 0, 10000000, &l1);
	if (c->failed)
		return -1;
	if (l3 == 0) {
		if (l1 || l2)
			return cfg_fail(c, w, "l3",
					"is 0 (unlimited) but l1/l2 are set; set l3 too");
	} else {
		if (l1 < 1)
			return cfg_fail(c, w, "l1", "must be at least 1 when l3 is set");
		if (l2 < l1)
			return cfg_fail(c, w, "l2", "must be >= l1 (%lld); got %lld", l1, l2);
		if (l3 < l2)
			return cfg_fail(c, w, "l3", "must be >= l2 (%lld); got %lld", l2, l3);
	}
	l->l1 = (int)l1;
	l->l2 = (int)l2;
	l->l3 = (int)l3;
	return 0;
}
