/*
 * cfg: typed reads from a cJSON config tree with errors a user can act on.
 *
 * Every error names the file, the key path and the reason, in one sentence:
 *   rm.json: lrg "ivr".scheme: expected one of round-robin, least-used,
 *   least-percent, weighted; got "rr"
 * A cfg_ctx_t carries the file name and the caller's error buffer; the first error
 * wins and later calls on the same context are no-ops returning -1, so a loader can
 * read every field and test once at the end.
 * `where` is the path of the object being read ("" for the root, or e.g.
 * "lrg \"ivr\""); the message joins it to `key` with a dot.
 */
#ifndef COMMON_CFG_H
#define COMMON_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

typedef struct cfg_ctx {
	const char *file; /* as shown to the user, e.g. "rs.json" */
	char *err;
	size_t errlen;
	int failed; /* set by the first error */
} cfg_ctx_t;

void cfg_ctx_init(cfg_ctx_t *c, const char *file, char *err, size_t errlen);

/* Read and parse a JSON file (see cfg_parse_text). Returns the tree (caller frees
 * with cJSON_Delete) or NULL with "FILE: cannot read: <strerror>" or a parse error. */
cJSON *cfg_load_file(cfg_ctx_t *c, const char *path);

/* Parse text[0..len) as one JSON value. Returns the tree (caller frees) or NULL with
 * either "FILE:LINE:COL: <what was expected>" for a syntax error, e.g.
 *   rm.json:12:5: expected ',' or '}' after a member; found '"'
 * or "FILE: KEY.PATH: duplicate key: ..." when an object repeats a key (cJSON would
 * keep both and every lookup would silently take the first). Array elements appear
 * in key paths as "lrgs[1]". */
cJSON *cfg_parse_text(cfg_ctx_t *c, const char *text, size_t len);

/* Record an error "FILE: WHERE.KEY: <fmt...>". Always returns -1. */
int cfg_fail(cfg_ctx_t *c, const char *where, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Each getter: if `key` is absent, stores the default (or fails "is required" when
 * required is true); if present with the wrong type or out of range, fails naming
 * the expected type/range and what it got. Returns 0 or -1. obj may be NULL (treated
 * as an empty object). */
int cfg_str(cfg_ctx_t *c, const cJSON *obj, const char *where, const char *key,
	    bool required, const char *def, char *out, size_t outlen);
int cfg_int(cfg_ctx_t *c, const cJSON *obj, const char *where, const char *key,
	    bool required, long long def, long long min, long long max, long long *out);
int cfg_double(cfg_ctx_t *c, const cJSON *obj, const char *where, const char *key,
	       bool required, double def, double min, double max, double *out);
int cfg_bool(cfg_ctx_t *c, const cJSON *obj, const char *where, const char *key,
	     bool required, bool def, bool *out);
/* choices is NULL-terminated; *out is the index of the match (def when absent). */
int cfg_enum(cfg_ctx_t *c, const cJSON *obj, const char *where, const char *key,
	     bool required, int def, const char *const *choices, int *out);
/* Returns the member if it is an object/array (NULL if absent); fails if it has
 * another type. */
const cJSON *cfg_object(cfg_ctx_t *c, const cJSON *obj, const char *where,
			const char *key, bool required);
const cJSON *cfg_array(cfg_ctx_t *c, const cJSON *obj, const char *where,
		       const char *key, bool required);
/* Fail on any member of obj not named in known (NULL-terminated): catches typos. */
int cfg_no_unknown(cfg_ctx_t *c, const cJSON *obj, const char *where,
		   const char *const *known);

#endif
