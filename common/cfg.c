/*
 * cfg: typed reads from a cJSON config tree (see cfg.h).
 *
 * Every message has the shape "FILE: WHERE.KEY: reason", and type errors say
 * "expected X; got Y" with Y shown as JSON, so the user sees what they wrote.
 */
#include "cfg.h"
#include "jsonlint.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cfg_ctx_init(cfg_ctx_t *c, const char *file, char *err, size_t errlen)
{
	c->file = file ? file : "config";
	c->err = err;
	c->errlen = errlen;
	c->failed = 0;
	if (err && errlen)
		err[0] = '\0';
}

/* Write "FILE: [WHERE[.KEY]: ]" + formatted reason, unless an error is already
 * recorded. Always returns -1. */
static int cfg_vfail(cfg_ctx_t *c, const char *where, const char *key, const char *fmt,
		     va_list ap)
{
	size_t pos;
	int n;

	if (c->failed)
		return -1;
	c->failed = 1;
	if (!c->err || !c->errlen)
		return -1;
	where = where ? where : "";
	key = key ? key : "";
	n = snprintf(c->err, c->errlen, "%s: %s%s%s%s", c->file, where,
		     *where && *key ? "." : "", key, *where || *key ? ": " : "");
	pos = n < 0 ? 0 : (size_t)n;
	if (pos < c->errlen)
		vsnprintf(c->err + pos, c->errlen - pos, fmt, ap);
	return -1;
}

int cfg_fail(cfg_ctx_t *c, const char *where, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_vfail(c, where, key, fmt, ap);
	va_end(ap);
	return -1;
}

/* Record "FILE:LINE:COL: reason" for a syntax error: the position comes
 * first, as compilers print it, so editors can jump to it. */
static void cfg_syntax_fail(cfg_ctx_t *c, const struct jsonlint_error *e)
{
	c->failed = 1;
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s:%d:%d: %s", c->file, e->line, e->column,
			 e->reason);
}

/* Refuse an object member whose key repeats an earlier one of the same object (cJSON
 * keeps both and every lookup would silently take the first). `path` is the key path
 * of obj ("" for the root), as in every other message. */
static int cfg_no_duplicates(cfg_ctx_t *c, const cJSON *obj, const char *path)
{
	char sub[256];
	int i = 0;

	for (const cJSON *m = obj->child; m; m = m->next, i++) {
		if (cJSON_IsObject(obj)) {
			for (const cJSON *p = obj->child; p != m; p = p->next)
				if (m->string && p->string && strcmp(m->string, p->string) == 0)
					return cfg_fail(c, path, m->string,
							"duplicate key: given more than once in "
							"the same object; keep one");
			snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "",
				 m->string ? m->string : "");
		} else {
			snprintf(sub, sizeof(sub), "%s[%d]", path, i);
		}
		if ((cJSON_IsObject(m) || cJSON_IsArray(m)) && cfg_no_duplicates(c, m, sub) < 0)
			return -1;
	}
	return 0;
}

cJSON *cfg_parse_text(cfg_ctx_t *c, const char *text, size_t len)
{
	struct jsonlint_error e;
	const char *end = NULL;
	cJSON *root;

	if (c->failed)
		return NULL;
	/* jsonlint is the judge of syntax (cJSON lets through raw control characters,
	 * leading zeros and "1."); cJSON only builds the tree. */
	if (jsonlint_check(text, len, &e) < 0) {
		cfg_syntax_fail(c, &e);
		return NULL;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		/* Valid JSON that cJSON refuses (its nesting limit, memory). */
		end = end ? end : cJSON_GetErrorPtr();
		e.offset = end && end >= text && end <= text + len ? (size_t)(end - text) : len;
		jsonlint_position(text, len, e.offset, &e.line, &e.column);
		snprintf(e.reason, sizeof(e.reason), "cannot parse (nested too deeply or out "
			 "of memory)");
		cfg_syntax_fail(c, &e);
		return NULL;
	}
	if (cfg_no_duplicates(c, root, "") < 0) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

cJSON *cfg_load_file(cfg_ctx_t *c, const char *path)
{
	FILE *f = NULL;
	char *text = NULL;
	size_t len = 0, cap = 0;
	cJSON *root = NULL;

	if (c->failed)
		return NULL;
	f = fopen(path, "rb");
	if (!f) {
		cfg_fail(c, NULL, NULL, "cannot read: %s", strerror(errno));
		goto fail;
	}
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *nt = realloc(text, cap ? cap * 2 : 8192);

			if (!nt) {
				cfg_fail(c, NULL, NULL, "cannot read: out of memory");
				goto fail;
			}
			text = nt;
			cap = cap ? cap * 2 : 8192;
		}
		n = fread(text + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		cfg_fail(c, NULL, NULL, "cannot read: %s", strerror(errno ? errno : EIO));
		goto fail;
	}
	text[len] = '\0';
	root = cfg_parse_text(c, text, len);
	if (!root)
		goto fail;
	fclose(f);
	free(text);
	return root;
fail:
	if (f)
		fclose(f);
	free(text);
	return NULL;
}

/* Render a JSON value as the user wrote it (short), for "got ..." parts. */
static const char *cfg_describe(const cJSON *v, char *buf, size_t len)
{
	if (cJSON_IsString(v))
		snprintf(buf, len, "\"%.60s%s\"", v->valuestring,
			 strlen(v->valuestring) > 60 ? "..." : "");
	else if (cJSON_IsNumber(v))
		snprintf(buf, len, "%.17g", v->valuedouble);
	else if (cJSON_IsBool(v))
		snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsNull(v))
		snprintf(buf, len, "null");
	else if (cJSON_IsArray(v))
		snprintf(buf, len, "an array");
	else
		snprintf(buf, len, "an object");
	return buf;
}

/* Find obj.key; obj may be NULL. Returns NULL when absent, after recording
 * "is required" if it must be there (then *failed is set). */
static const cJSON *cfg_find(cfg_ctx_t *c, const cJSON *obj, const char *where,
			     const char *key, bool required, int *failed)
{
	const cJSON *v = obj && cJSON_IsObject(obj) ?
				 cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	*failed = 0;
	if (!v && required) {
		cfg_fail(c, where, key, "is required");
		*failed = 1;
	}
	return v;
}

int cfg_str(cfg_ctx_t *c, const cJSON *obj, const char *where, const char *key,
	    bool required, const char *def, char *out, size_t outlen)
{
	char got[96];
	const cJSON *v;
	int failed;
	const char *s;

	if (c->failed)
		return -1;
	v = cfg_find(c, obj, where, key, required, &failed);
	if (failed)
		return -1;
	if (!v) {
		s = def ? def : "";
	} else if (!cJSON_IsString(v)) {
		return cfg_fail(c, where, key, "expected a string; got %s",
				cfg_describe(v, got, sizeof(got)));
	} else {
		s = v->valuestring;
	}
	if (strlen(s) >= outlen)
		return cfg_fail(c, where, key, "too long (at most %zu characters); got %zu",
				outlen ? outlen - 1 : 0, strlen(s));
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

int cfg_int(cfg_ctx_t *c, const cJSON *obj, const char *where, const char *key,
	    bool required, long long def, long long min, long long max, long long *out)
{
	char got[96];
	const cJSON *v;
	int failed;
	double d;

	if (c->failed)
		return -1;
	v = cfg_find(c, obj, where, key, required, &failed);
	if (failed)
		return -1;
	if (!v) {
		*out = def;
		return 0;
	}
	d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	/* Range-check as a double first so the cast below cannot overflow. */
	if (!cJSON_IsNumber(v) || d != floor(d) || d < -9223372036854775808.0 ||
	    d >= 9223372036854775808.0 || (long long)d < min || (long long)d > max)
		return cfg_fail(c, where, key, "expected an integer in %lld..%lld; got %s", min,
				max, cfg_describe(v, got, sizeof(got)));
	*out = (long long)d;
	return 0;
}

int cfg_double(cfg_ctx_t *c, const cJSON *obj, const char *where, const char *key,
	       bool required, double def, double min, double max, double *out)
{
	char got[96];
	const cJSON *v;
	int failed;

	if (c->failed)
		return -1;
	v = cfg_find(c, obj, where, key, required, &failed);
	if (failed)
		return -1;
	if (!v) {
		*out = def;
		return 0;
	}
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= min && v->valuedouble <= max))
		return cfg_fail(c, where, key, "expected a number in %g..%g; got %s", min, max,
				cfg_describe(v, got, sizeof(got)));
	*out = v->valuedouble;
	return 0;
}

int cfg_bool(cfg_ctx_t *c, const cJSON *obj, const char *where, const char *key,
	     bool required, bool def, bool *out)
{
	char got[96];
	const cJSON *v;
	int failed;

	if (c->failed)
		return -1;
	v = cfg_find(c, obj, where, key, required, &failed);
	if (failed)
		return -1;
	if (!v) {
		*out = def;
		return 0;
	}
	if (!cJSON_IsBool(v))
		return cfg_fail(c, where, key, "expected true or false; got %s",
				cfg_describe(v, got, sizeof(got)));
	*out = cJSON_IsTrue(v);
	return 0;
}

int cfg_enum(cfg_ctx_t *c, const cJSON *obj, const char *where, const char *key,
	     bool required, int def, const char *const *choices, int *out)
{
	char got[96], list[512];
	size_t pos = 0;
	const cJSON *v;
	int failed;

	if (c->failed)
		return -1;
	v = cfg_find(c, obj, where, key, required, &failed);
	if (failed)
		return -1;
	if (!v) {
		*out = def;
		return 0;
	}
	for (int i = 0; cJSON_IsString(v) && choices[i]; i++) {
		if (strcmp(v->valuestring, choices[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	list[0] = '\0';
	for (int i = 0; choices[i] && pos < sizeof(list); i++)
		pos += (size_t)snprintf(list + pos, sizeof(list) - pos, "%s%s", i ? ", " : "",
					choices[i]);
	return cfg_fail(c, where, key, "expected one of %s; got %s", list,
			cfg_describe(v, got, sizeof(got)));
}

/* cfg_object and cfg_array: the member if it has the wanted type. */
static const cJSON *cfg_container(cfg_ctx_t *c, const cJSON *obj, const char *where,
				  const char *key, bool required, int want_array)
{
	char got[96];
	const cJSON *v;
	int failed;

	if (c->failed)
		return NULL;
	v = cfg_find(c, obj, where, key, required, &failed);
	if (!v)
		return NULL;
	if (want_array ? !cJSON_IsArray(v) : !cJSON_IsObject(v)) {
		cfg_fail(c, where, key, "expected %s; got %s",
			 want_array ? "an array" : "an object",
			 cfg_describe(v, got, sizeof(got)));
		return NULL;
	}
	return v;
}

const cJSON *cfg_object(cfg_ctx_t *c, const cJSON *obj, const char *where,
			const char *key, bool required)
{
	return cfg_container(c, obj, where, key, required, 0);
}

const cJSON *cfg_array(cfg_ctx_t *c, const cJSON *obj, const char *where,
		       const char *key, bool required)
{
	return cfg_container(c, obj, where, key, required, 1);
}

/* Edit distance of two short strings, capped: enough to suggest a fix for a typo.
 * O(len(a) * len(b)); keys are short. */
static size_t cfg_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

int cfg_no_unknown(cfg_ctx_t *c, const cJSON *obj, const char *where,
		   const char *const *known)
{
	const cJSON *m;

	if (c->failed)
		return -1;
	if (!obj || !cJSON_IsObject(obj))
		return 0;
	cJSON_ArrayForEach(m, obj) {
		const char *best = NULL;
		size_t bestd = 3; /* suggest only close matches */
		int found = 0;

		for (int i = 0; known[i]; i++) {
			size_t d;

			if (strcmp(m->string, known[i]) == 0) {
				found = 1;
				break;
			}
			d = cfg_distance(m->string, known[i]);
			if (d < bestd) {
				bestd = d;
				best = known[i];
			}
		}
		if (found)
			continue;
		if (best)
			return cfg_fail(c, where, m->string, "unknown key (did you mean \"%s\"?)",
					best);
		return cfg_fail(c, where, m->string, "unknown key");
	}
	return 0;
}
