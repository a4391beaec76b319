/*
 * record: CDR schema 1 decode/validate/encode (the schema itself is in record.h).
 *
 * Decoding goes through cJSON; encoding is hand-written because it runs once per call
 * on rm's hot path and the output shape is fixed.
 */
#include "record.h"

#include "json_strict.h"
#include "utf8.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>

/* Largest integer a JSON number (an IEEE double) holds exactly. */
#define REC_MAX_EXACT 9007199254740991.0

static const char *const rec_dispositions[] = {
	[REC_ANSWERED] = "answered", [REC_CANCELLED] = "cancelled",
	[REC_REJECTED] = "rejected", [REC_FAILED] = "failed",
	[REC_TIMED_OUT] = "timed-out",
};
static const char *const rec_ended_bys[] = {
	[REC_BY_CALLER] = "caller",	    [REC_BY_MCP] = "mcp",
	[REC_BY_RM_TIMEOUT] = "rm-timeout", [REC_BY_RM_DRAIN] = "rm-drain",
	[REC_BY_RM] = "rm",		    [REC_BY_RM_KEEPALIVE] = "rm-keepalive",
	[REC_BY_RM_PEER_LOST] = "rm-peer-lost",
};
static const char *const rec_levels[] = { "L1", "L2", "L3" };

#define REC_N(a) (sizeof(a) / sizeof((a)[0]))

const char *record_disposition_name(enum record_disposition d)
{
	return (size_t)d < REC_N(rec_dispositions) ? rec_dispositions[d] : NULL;
}

int record_disposition_parse(const char *s)
{
	for (size_t i = 0; s && i < REC_N(rec_dispositions); i++)
		if (strcmp(s, rec_dispositions[i]) == 0)
			return (int)i;
	return -1;
}

const char *record_ended_by_name(enum record_ended_by e)
{
	return (size_t)e < REC_N(rec_ended_bys) ? rec_ended_bys[e] : NULL;
}

int record_ended_by_parse(const char *s)
{
	for (size_t i = 0; s && i < REC_N(rec_ended_bys); i++)
		if (strcmp(s, rec_ended_bys[i]) == 0)
			return (int)i;
	return -1;
}

/* Fill the caller's field and err buffers. Always returns -1. */
static int rec_fail(char *field, size_t fieldlen, char *err, size_t errlen,
		    const char *name, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int rec_fail(char *field, size_t fieldlen, char *err, size_t errlen,
		    const char *name, const char *fmt, ...)
{
	va_list ap;

	if (field && fieldlen)
		snprintf(field, fieldlen, "%s", name);
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A short, user-readable rendering of a JSON value for "got ..." in errors. */
static const char *rec_describe(const cJSON *v, char *buf, size_t len)
{
	if (cJSON_IsString(v)) {
		size_t n = strlen(v->valuestring);
		snprintf(buf, len, "\"%.40s%s\"", v->valuestring, n > 40 ? "..." : "");
	} else if (cJSON_IsNumber(v)) {
		snprintf(buf, len, "%.17g", v->valuedouble);
	} else if (cJSON_IsBool(v)) {
		snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNull(v)) {
		snprintf(buf, len, "null");
	} else if (cJSON_IsArray(v)) {
		snprintf(buf, len, "an array");
	} else {
		snprintf(buf, len, "an object");
	}
	return buf;
}

/* Errors of the field readers below go here, then to the caller. */
struct rec_err {
	char *field;
	size_t fieldlen;
	char *err;
	size_t errlen;
};

/* Read string field `name` of 1..max bytes (min 0 for optional ones) into out, which
 * holds max + 1 bytes. Absent optional fields leave "" in out. 0 or -1. */
static int rec_get_str(const cJSON *o, const char *name, int required, size_t min,
		       size_t max, char *out, struct rec_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	char got[64];
	size_t n;

	out[0] = '\0';
	if (!v) {
		if (required)
			return rec_fail(e->field, e->fieldlen, e->err, e->errlen, name,
					"field '%s' is required", name);
		return 0;
	}
	if (!cJSON_IsString(v))
		return rec_fail(e->field, e->fieldlen, e->err, e->errlen, name,
				"field '%s': expected string, got %s", name,
				rec_describe(v, got, sizeof(got)));
	n = strlen(v->valuestring);
	if (n < min || n > max)
		return rec_fail(e->field, e->fieldlen, e->err, e->errlen, name,
				"field '%s': expected string of %zu..%zu bytes, got %zu bytes",
				name, min, max, n);
	memcpy(out, v->valuestring, n + 1);
	return 0;
}

/* Read integer field `name` in min..max. present gets whether it was there (and not
 * null when null_ok). 0 or -1. */
static int rec_get_int(const cJSON *o, const char *name, int required, int null_ok,
		       double min, double max, int64_t def, int64_t *out,
		       struct rec_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	char got[64];
	double d;

	*out = def;
	if (!v || (null_ok && cJSON_IsNull(v))) {
		if (required)
			return rec_fail(e->field, e->fieldlen, e->err, e->errlen, name,
					"field '%s' is required", name);
		return 0;
	}
	d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (!cJSON_IsNumber(v) || d != floor(d) || d < min || d > max) {
		char range[64];

		if (max >= REC_MAX_EXACT)
			snprintf(range, sizeof(range), ">= %.0f", min);
		else if (min == max)
			snprintf(range, sizeof(range), "%.0f", min);
		else
			snprintf(range, sizeof(range), "%.0f..%.0f", min, max);
		return rec_fail(e->field, e->fieldlen, e->err, e->errlen, name,
				"field '%s': expected integer %s%s, got %s", name, range,
				null_ok ? " or null" : "", rec_describe(v, got, sizeof(got)));
	}
	*out = (int64_t)d;
	return 0;
}

/* Read an enum field given as one of `names`; *out is the index (def if absent). */
static int rec_get_enum(const cJSON *o, const char *name, int required,
			const char *const *names, size_t n, int def, int *out,
			struct rec_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	char got[64], list[128];
	size_t pos = 0;

	*out = def;
	if (!v) {
		if (required)
			return rec_fail(e->field, e->fieldlen, e->err, e->errlen, name,
					"field '%s' is required", name);
		return 0;
	}
	for (size_t i = 0; cJSON_IsString(v) && i < n; i++) {
		if (strcmp(v->valuestring, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	list[0] = '\0';
	for (size_t i = 0; i < n && pos < sizeof(list); i++)
		pos += (size_t)snprintf(list + pos, sizeof(list) - pos, "%s%s", i ? "|" : "",
					names[i]);
	return rec_fail(e->field, e->fieldlen, e->err, e->errlen, name,
			"field '%s': expected one of %s, got %s", name, list,
			rec_describe(v, got, sizeof(got)));
}

/* Parse len bytes into a JSON object. NULL with "(body)" named on failure. */
static cJSON *rec_parse(const char *json, size_t len, struct rec_err *e)
{
	const char *end = NULL;
	cJSON *root;

	if (!json || !len) {
		rec_fail(e->field, e->fieldlen, e->err, e->errlen, "(body)", "body is empty");
		return NULL;
	}
	/* Strict RFC 8259 first: cJSON is lenient (raw control characters, leading
	 * zeros, \u0000 that cuts a string), and the database is not. */
	if (json_strict_check(json, len, e->field, e->fieldlen, e->err, e->errlen))
		return NULL;
	/* The Opts variant hands back the error position without the global
	 * cJSON_GetErrorPtr(), which other threads may overwrite. */
	root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (!root) {
		rec_fail(e->field, e->fieldlen, e->err, e->errlen, "(body)",
			 "body is not valid JSON (near byte %zu)",
			 (size_t)(end && end >= json ? end - json : 0));
		return NULL;
	}
	while (end && end < json + len &&
	       (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (end && end < json + len) {
		cJSON_Delete(root);
		rec_fail(e->field, e->fieldlen, e->err, e->errlen, "(body)",
			 "body has text after the JSON value (at byte %zu)",
			 (size_t)(end - json));
		return NULL;
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		rec_fail(e->field, e->fieldlen, e->err, e->errlen, "(body)",
			 "body is not a JSON object");
		return NULL;
	}
	return root;
}

int record_decode(const char *json, size_t len, record_t *out, char *field,
		  size_t fieldlen, char *err, size_t errlen)
{
	struct rec_err e = { field, fieldlen, err, errlen };
	cJSON *root;
	int64_t v;
	int k;

	memset(out, 0, sizeof(*out));
	root = rec_parse(json, len, &e);
	if (!root)
		goto fail;
	if (rec_get_str(root, "id", 1, 1, 128, out->id, &e) < 0)
		goto fail;
	if (rec_get_int(root, "schema", 1, 0, RECORD_SCHEMA, RECORD_SCHEMA, 0, &v, &e) < 0)
		goto fail;
	out->schema = (int)v;
	if (rec_get_str(root, "call_id", 1, 1, 255, out->call_id, &e) < 0 ||
	    rec_get_str(root, "session_id", 0, 0, 127, out->session_id, &e) < 0 ||
	    rec_get_str(root, "node", 1, 1, 63, out->node, &e) < 0 ||
	    rec_get_str(root, "tenant", 0, 0, 63, out->tenant, &e) < 0 ||
	    rec_get_str(root, "profile", 0, 0, 63, out->profile, &e) < 0 ||
	    rec_get_str(root, "service_type", 0, 0, 31, out->service_type, &e) < 0 ||
	    rec_get_str(root, "lrg", 0, 0, 63, out->lrg, &e) < 0 ||
	    rec_get_str(root, "mcp", 0, 0, 255, out->mcp, &e) < 0 ||
	    rec_get_str(root, "caller", 0, 0, 127, out->caller, &e) < 0 ||
	    rec_get_str(root, "dnis", 0, 0, 127, out->dnis, &e) < 0)
		goto fail;
	if (rec_get_int(root, "start_ms", 1, 0, 0, REC_MAX_EXACT, 0, &out->start_ms, &e) < 0 ||
	    rec_get_int(root, "answer_ms", 0, 1, 0, REC_MAX_EXACT, 0, &out->answer_ms, &e) < 0 ||
	    rec_get_int(root, "end_ms", 1, 0, 0, REC_MAX_EXACT, 0, &out->end_ms, &e) < 0 ||
	    rec_get_int(root, "duration_ms", 1, 0, 0, REC_MAX_EXACT, 0, &out->duration_ms,
			&e) < 0)
		goto fail;
	if (rec_get_enum(root, "disposition", 1, rec_dispositions, REC_N(rec_dispositions), 0,
			 &k, &e) < 0)
		goto fail;
	out->disposition = (enum record_disposition)k;
	if (rec_get_int(root, "sip_status", 1, 0, 100, 699, 0, &v, &e) < 0)
		goto fail;
	out->sip_status = (int)v;
	if (rec_get_enum(root, "ended_by", 1, rec_ended_bys, REC_N(rec_ended_bys), 0, &k,
			 &e) < 0)
		goto fail;
	out->ended_by = (enum record_ended_by)k;
	if (rec_get_int(root, "attempts", 0, 0, 0, 100, 0, &v, &e) < 0)
		goto fail;
	out->attempts = (int)v;
	if (rec_get_enum(root, "usage_level", 0, rec_levels, REC_N(rec_levels), -1, &k,
			 &e) < 0)
		goto fail;
	out->usage_level = k + 1;
	cJSON_Delete(root);
	return record_validate(out, field, fieldlen, err, errlen);
fail:
	cJSON_Delete(root);
	return -1;
}

/* Strings must be NUL-terminated inside their arrays and within the schema's
 * lengths; used by record_validate for records built in C. */
static int rec_check_str(const char *s, size_t size, size_t min, size_t max,
			 const char *name, struct rec_err *e)
{
	size_t n = strnlen(s, size);

	if (n == size || n < min || n > max)
		return rec_fail(e->field, e->fieldlen, e->err, e->errlen, name,
				"field '%s': expected string of %zu..%zu bytes", name, min, max);
	return 0;
}

int record_validate(const record_t *r, char *field, size_t fieldlen, char *err,
		    size_t errlen)
{
	struct rec_err e = { field, fieldlen, err, errlen };
	const int64_t big = (int64_t)REC_MAX_EXACT;

#define REC_STR(f, min, max)                                                   \
	if (rec_check_str(r->f, sizeof(r->f), min, max, #f, &e) < 0)          \
		return -1
	REC_STR(id, 1, 128);
	if (r->schema != RECORD_SCHEMA)
		return rec_fail(field, fieldlen, err, errlen, "schema",
				"field 'schema': expected %d, got %d", RECORD_SCHEMA, r->schema);
	REC_STR(call_id, 1, 255);
	REC_STR(session_id, 0, 127);
	REC_STR(node, 1, 63);
	REC_STR(tenant, 0, 63);
	REC_STR(profile, 0, 63);
	REC_STR(service_type, 0, 31);
	REC_STR(lrg, 0, 63);
	REC_STR(mcp, 0, 255);
	REC_STR(caller, 0, 127);
	REC_STR(dnis, 0, 127);
#undef REC_STR
	if (r->start_ms < 0 || r->start_ms > big)
		return rec_fail(field, fieldlen, err, errlen, "start_ms",
				"field 'start_ms': expected integer >= 0, got %lld",
				(long long)r->start_ms);
	if (r->answer_ms < 0 || r->answer_ms > big)
		return rec_fail(field, fieldlen, err, errlen, "answer_ms",
				"field 'answer_ms': expected integer >= 0 or null, got %lld",
				(long long)r->answer_ms);
	if (r->end_ms < r->start_ms || r->end_ms > big)
		return rec_fail(field, fieldlen, err, errlen, "end_ms",
				"field 'end_ms': expected integer >= start_ms (%lld), got %lld",
				(long long)r->start_ms, (long long)r->end_ms);
	if (r->answer_ms && (r->answer_ms < r->start_ms || r->answer_ms > r->end_ms))
		return rec_fail(field, fieldlen, err, errlen, "answer_ms",
				"field 'answer_ms': expected start_ms..end_ms (%lld..%lld), "
				"got %lld",
				(long long)r->start_ms, (long long)r->end_ms,
				(long long)r->answer_ms);
	int64_t want = r->answer_ms ? r->end_ms - r->answer_ms : 0;
	if (r->duration_ms != want)
		return rec_fail(field, fieldlen, err, errlen, "duration_ms",
				"field 'duration_ms': expected %lld (%s), got %lld",
				(long long)want,
				r->answer_ms ? "end_ms - answer_ms" : "0 when not answered",
				(long long)r->duration_ms);
	if (!record_disposition_name(r->disposition))
		return rec_fail(field, fieldlen, err, errlen, "disposition",
				"field 'disposition': invalid value %d", (int)r->disposition);
	if (r->sip_status < 100 || r->sip_status > 699)
		return rec_fail(field, fieldlen, err, errlen, "sip_status",
				"field 'sip_status': expected integer 100..699, got %d",
				r->sip_status);
	if (!record_ended_by_name(r->ended_by))
		return rec_fail(field, fieldlen, err, errlen, "ended_by",
				"field 'ended_by': invalid value %d", (int)r->ended_by);
	if (r->attempts < 0 || r->attempts > 100)
		return rec_fail(field, fieldlen, err, errlen, "attempts",
				"field 'attempts': expected integer 0..100, got %d", r->attempts);
	if (r->usage_level < 0 || r->usage_level > 3)
		return rec_fail(field, fieldlen, err, errlen, "usage_level",
				"field 'usage_level': expected 0..3 (none, L1..L3), got %d",
				r->usage_level);
	return 0;
}

/* Bounded writer for record_encode. */
struct rec_out {
	char *buf;
	size_t cap;
	size_t pos;
	int full;
};

static void rec_put(struct rec_out *o, const char *s, size_t n)
{
	if (o->full || n >= o->cap - o->pos) {
		o->full = 1;
		return;
	}
	memcpy(o->buf + o->pos, s, n);
	o->pos += n;
}

/* Append s as a JSON string literal. Well-formed UTF-8 passes through; control
 * characters become escapes; a byte that is not part of well-formed UTF-8 (a SIP
 * header may carry any octet, and a field cut to its size may end inside a sequence)
 * becomes '?', so that every record rm writes is one rs's strict intake accepts. One
 * byte for one byte: U+FFFD would take three and could push a field past its
 * length limit (record.h). */
static void rec_put_json_str(struct rec_out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	rec_put(o, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6];
		size_t n = 2;

		if (c >= 0x80) {
			size_t u = utf8_seq_len((const unsigned char *)s, strnlen(s, 4));
			if (u) {
				s += u - 1;
				continue;
			}
			rec_put(o, run, (size_t)(s - run));
			rec_put(o, "?", 1);
			run = s + 1;
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		rec_put(o, run, (size_t)(s - run));
		run = s + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		rec_put(o, esc, n);
	}
	rec_put(o, run, (size_t)(s - run));
	rec_put(o, "\"", 1);
}

static void rec_put_kstr(struct rec_out *o, const char *key, const char *v, int always)
{
	if (!always && !*v)
		return;
	rec_put(o, ",\"", 2);
	rec_put(o, key, strlen(key));
	rec_put(o, "\":", 2);
	rec_put_json_str(o, v);
}

/* Decimal digits of v, without snprintf (rm writes ~10 integers per record and event;
 * snprintf was a visible share of rm's CPU per call, issue 12). */
static void rec_put_kint(struct rec_out *o, const char *key, long long v)
{
	char num[24], *p = num + sizeof(num);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	rec_put(o, ",\"", 2);
	rec_put(o, key, strlen(key));
	rec_put(o, "\":", 2);
	rec_put(o, p, (size_t)(num + sizeof(num) - p));
}

int record_encode(const record_t *r, char *out, size_t cap)
{
	struct rec_out o = { out, cap, 0, 0 };
	const char *disp = record_disposition_name(r->disposition);
	const char *by = record_ended_by_name(r->ended_by);

	if (!cap || !disp || !by || r->usage_level < 0 || r->usage_level > 3)
		return -1;
	rec_put(&o, "{\"id\":", 6);
	rec_put_json_str(&o, r->id);
	rec_put_kint(&o, "schema", r->schema);
	rec_put_kstr(&o, "call_id", r->call_id, 1);
	rec_put_kstr(&o, "session_id", r->session_id, 0);
	rec_put_kstr(&o, "node", r->node, 1);
	rec_put_kstr(&o, "tenant", r->tenant, 0);
	rec_put_kstr(&o, "profile", r->profile, 0);
	rec_put_kstr(&o, "service_type", r->service_type, 0);
	rec_put_kstr(&o, "lrg", r->lrg, 0);
	rec_put_kstr(&o, "mcp", r->mcp, 0);
	rec_put_kstr(&o, "caller", r->caller, 0);
	rec_put_kstr(&o, "dnis", r->dnis, 0);
	rec_put_kint(&o, "start_ms", r->start_ms);
	if (r->answer_ms)
		rec_put_kint(&o, "answer_ms", r->answer_ms);
	rec_put_kint(&o, "end_ms", r->end_ms);
	rec_put_kint(&o, "duration_ms", r->duration_ms);
	rec_put_kstr(&o, "disposition", disp, 1);
	rec_put_kint(&o, "sip_status", r->sip_status);
	rec_put_kstr(&o, "ended_by", by, 1);
	rec_put_kint(&o, "attempts", r->attempts);
	if (r->usage_level)
		rec_put_kstr(&o, "usage_level", rec_levels[r->usage_level - 1], 1);
	rec_put(&o, "}", 1);
	if (o.full)
		return -1;
	out[o.pos] = '\0';
	return (int)o.pos;
}

int record_encode_event(const record_t *r, const char *type, long long ts_ms,
			bool with_answer, bool with_end, char *out, size_t cap)
{
	struct rec_out o = { out, cap, 0, 0 };
	const char *disp = record_disposition_name(r->disposition);
	const char *by = record_ended_by_name(r->ended_by);

	if (!cap || !type || (with_end && (!disp || !by)))
		return -1;
	rec_put(&o, "{\"id\":", 6);
	rec_put_json_str(&o, r->id);
	rec_put_kint(&o, "schema", r->schema);
	rec_put_kstr(&o, "type", type, 1);
	rec_put_kstr(&o, "node", r->node, 1);
	rec_put_kstr(&o, "call_id", r->call_id, 1);
	rec_put_kstr(&o, "session_id", r->session_id, 0);
	rec_put_kstr(&o, "tenant", r->tenant, 0);
	rec_put_kstr(&o, "profile", r->profile, 0);
	rec_put_kstr(&o, "mcp", r->mcp, 0);
	rec_put_kint(&o, "start_ms", r->start_ms);
	if (with_answer)
		rec_put_kint(&o, "answer_ms", r->answer_ms);
	if (with_end) {
		rec_put_kint(&o, "end_ms", r->end_ms);
		rec_put_kint(&o, "duration_ms", r->duration_ms);
		rec_put_kstr(&o, "disposition", disp, 1);
		rec_put_kint(&o, "sip_status", r->sip_status);
		rec_put_kstr(&o, "ended_by", by, 1);
	}
	rec_put_kint(&o, "ts_ms", ts_ms);
	rec_put(&o, "}", 1);
	if (o.full)
		return -1;
	out[o.pos] = '\0';
	return (int)o.pos;
}

int record_check_envelope(const char *json, size_t len, char *id, size_t idlen,
			  char *field, size_t fieldlen, char *err, size_t errlen)
{
	struct rec_err e = { field, fieldlen, err, errlen };
	char buf[129];
	cJSON *root;
	int64_t v;

	root = rec_parse(json, len, &e);
	if (!root)
		goto fail;
	if (rec_get_str(root, "id", 1, 1, 128, buf, &e) < 0)
		goto fail;
	if (rec_get_int(root, "schema", 1, 0, RECORD_SCHEMA, RECORD_SCHEMA, 0, &v, &e) < 0)
		goto fail;
	if (id && idlen)
		snprintf(id, idlen, "%s", buf);
	cJSON_Delete(root);
	return 0;
fail:
	cJSON_Delete(root);
	return -1;
}

const char *record_usage_level_name(int level)
{
	return level >= 1 && level <= (int)REC_N(rec_levels) ? rec_levels[level - 1] : NULL;
}
