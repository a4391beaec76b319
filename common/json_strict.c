/* json_strict: see json_strict.h. One recursive-descent scanner over the bytes
 * (json_strict_scan), and json_strict_check's wording of its faults; jsonlint.c words
 * the same faults for config files. */
#include "json_strict.h"
#include "utf8.h"

#include <stdio.h>
#include <string.h>

typedef struct js {
	const unsigned char *p; /* text */
	size_t len;
	size_t pos;
	int depth, max_depth;
	int strict;
	int in_key;        /* scanning a member name */
	size_t str_start;  /* opening quote of the string being scanned */
	char path[sizeof(((struct json_strict_fault *)0)->path)]; /* of the value */
	size_t plen;
	int truncated; /* path did not fit */
	struct json_strict_fault *f;
} js_t;

static int js_fault(js_t *s, enum json_strict_fault_kind kind, unsigned detail)
{
	struct json_strict_fault *f = s->f;

	f->kind = kind;
	f->offset = s->pos;
	f->string_start = s->str_start;
	f->detail = detail;
	f->in_key = s->in_key;
	memcpy(f->path, s->path, s->plen + 1);
	f->path_truncated = s->truncated;
	return -1;
}

/* Path: append ".name" (or "name" at the top) or "[i]". Returns the old length. */
static size_t js_push_key(js_t *s, const unsigned char *k, size_t n)
{
	size_t old = s->plen, room = sizeof(s->path) - 1;

	if (s->plen && s->plen < room)
		s->path[s->plen++] = '.';
	for (size_t i = 0; i < n; i++) {
		if (s->plen >= room) {
			s->truncated = 1;
			break;
		}
		s->path[s->plen++] = k[i] >= 0x20 && k[i] < 0x7f ? (char)k[i] : '?';
	}
	s->path[s->plen] = '\0';
	return old;
}

static size_t js_push_index(js_t *s, size_t i)
{
	size_t old = s->plen;
	int n = snprintf(s->path + s->plen, sizeof(s->path) - s->plen, "[%zu]", i);

	if (n < 0 || (size_t)n >= sizeof(s->path) - s->plen) {
		s->truncated = 1;
		s->path[old] = '\0';
		return old;
	}
	s->plen += (size_t)n;
	return old;
}

static void js_pop(js_t *s, size_t old)
{
	s->plen = old;
	s->path[old] = '\0';
	s->truncated = 0;
}

static int js_peek(const js_t *s)
{
	return s->pos < s->len ? s->p[s->pos] : -1;
}

static void js_ws(js_t *s)
{
	while (s->pos < s->len) {
		unsigned char c = s->p[s->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		s->pos++;
	}
}

/* Four hex digits at pos into *out; on failure pos is at the first that is not. */
static int js_hex4(js_t *s, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++, s->pos++) {
		int c = js_peek(s);
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return js_fault(s, JSF_HEX, 0);
	}
	*out = v;
	return 0;
}

/* The \u escape after the backslash-u (pos at the hex digits), with its pair. */
static int js_unicode_escape(js_t *s)
{
	unsigned u, lo;

	if (js_hex4(s, &u))
		return -1;
	if (!s->strict)
		return 0;
	if (u == 0)
		return js_fault(s, JSF_NUL_ESCAPE, 0);
	if (u >= 0xdc00 && u <= 0xdfff)
		return js_fault(s, JSF_LOW_SURROGATE, u);
	if (u < 0xd800 || u > 0xdbff)
		return 0;
	if (s->len - s->pos < 2 || s->p[s->pos] != '\\' || s->p[s->pos + 1] != 'u')
		return js_fault(s, JSF_HIGH_SURROGATE, u);
	s->pos += 2;
	if (js_hex4(s, &lo))
		return -1;
	if (lo < 0xdc00 || lo > 0xdfff)
		return js_fault(s, JSF_HIGH_SURROGATE, u);
	return 0;
}

/* A string; pos at the opening quote. On success *start and *n give its raw content. */
static int js_string(js_t *s, const unsigned char **start, size_t *n)
{
	size_t from;

	s->str_start = s->pos;
	from = ++s->pos;
	while (s->pos < s->len) {
		unsigned char c = s->p[s->pos];
		if (c == '"') {
			if (start)
				*start = s->p + from;
			if (n)
				*n = s->pos - from;
			s->pos++;
			return 0;
		}
		if (c < 0x20)
			return js_fault(s, JSF_CONTROL, c);
		if (c == '\\') {
			if (s->pos + 1 >= s->len)
				break;
			c = s->p[s->pos + 1];
			if (c == 'u') {
				s->pos += 2;
				if (js_unicode_escape(s))
					return -1;
			} else if (c && strchr("\"\\/bfnrt", c)) {
				s->pos += 2;
			} else {
				return js_fault(s, JSF_ESCAPE, c);
			}
			continue;
		}
		if (c < 0x80 || !s->strict) {
			s->pos++;
			continue;
		}
		size_t k = utf8_seq_len(s->p + s->pos, s->len - s->pos);
		if (!k)
			return js_fault(s, JSF_UTF8, c);
		s->pos += k;
	}
	s->pos = s->len;
	return js_fault(s, JSF_UNTERMINATED, 0);
}

static int js_digits(js_t *s)
{
	size_t from = s->pos;

	while (s->pos < s->len && s->p[s->pos] >= '0' && s->p[s->pos] <= '9')
		s->pos++;
	return s->pos > from ? 0 : -1;
}

/* pos at '-' or a digit. */
static int js_number(js_t *s)
{
	if (s->p[s->pos] == '-')
		s->pos++;
	if (js_peek(s) == '0') {
		s->pos++;
		if (js_peek(s) >= '0' && js_peek(s) <= '9')
			return js_fault(s, JSF_LEADING_ZERO, 0);
	} else if (js_digits(s)) {
		return js_fault(s, JSF_MINUS, 0);
	}
	if (js_peek(s) == '.') {
		s->pos++;
		if (js_digits(s))
			return js_fault(s, JSF_FRACTION, 0);
	}
	if (js_peek(s) == 'e' || js_peek(s) == 'E') {
		s->pos++;
		if (js_peek(s) == '+' || js_peek(s) == '-')
			s->pos++;
		if (js_digits(s))
			return js_fault(s, JSF_EXPONENT, 0);
	}
	return 0;
}

static int js_literal(js_t *s, const char *word)
{
	size_t n = strlen(word);

	if (s->len - s->pos < n || memcmp(s->p + s->pos, word, n))
		return js_fault(s, JSF_VALUE, 0);
	s->pos += n;
	return 0;
}

static int js_value(js_t *s);

static int js_object(js_t *s)
{
	size_t count = 0;

	s->pos++; /* { */
	js_ws(s);
	if (js_peek(s) == '}') {
		s->pos++;
		return 0;
	}
	for (;;) {
		const unsigned char *k = NULL;
		size_t kn = 0, old;

		js_ws(s);
		if (js_peek(s) != '"')
			return js_fault(s, !count ? JSF_KEY
					   : js_peek(s) == '}' ? JSF_KEY_TRAILING
							       : JSF_KEY_AFTER_COMMA, 0);
		s->in_key = 1;
		if (js_string(s, &k, &kn))
			return -1;
		s->in_key = 0;
		old = js_push_key(s, k, kn);
		js_ws(s);
		if (js_peek(s) != ':')
			return js_fault(s, JSF_COLON, 0);
		s->pos++;
		if (js_value(s))
			return -1;
		js_pop(s, old);
		count++;
		js_ws(s);
		if (js_peek(s) == ',') {
			s->pos++;
			continue;
		}
		if (js_peek(s) == '}') {
			s->pos++;
			return 0;
		}
		return js_fault(s, JSF_OBJECT_SEP, 0);
	}
}

static int js_array(js_t *s)
{
	size_t i = 0;

	s->pos++; /* [ */
	js_ws(s);
	if (js_peek(s) == ']') {
		s->pos++;
		return 0;
	}
	for (;; i++) {
		size_t old = js_push_index(s, i);
		js_ws(s);
		if (i && js_peek(s) == ']')
			return js_fault(s, JSF_VALUE_TRAILING, 0);
		if (js_value(s))
			return -1;
		js_pop(s, old);
		js_ws(s);
		if (js_peek(s) == ',') {
			s->pos++;
			continue;
		}
		if (js_peek(s) == ']') {
			s->pos++;
			return 0;
		}
		return js_fault(s, JSF_ARRAY_SEP, 0);
	}
}

/* One value, with the whitespace before it. */
static int js_value(js_t *s)
{
	int rc, c;

	js_ws(s);
	switch (c = js_peek(s)) {
	case '{':
	case '[':
		if (++s->depth > s->max_depth)
			return js_fault(s, JSF_DEPTH, 0);
		rc = c == '{' ? js_object(s) : js_array(s);
		s->depth--;
		return rc;
	case '"': return js_string(s, NULL, NULL);
	case 't': return js_literal(s, "true");
	case 'f': return js_literal(s, "false");
	case 'n': return js_literal(s, "null");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return js_number(s);
		return js_fault(s, JSF_VALUE, 0);
	}
}

int json_strict_scan(const char *text, size_t len, int strict, int max_depth,
		     struct json_strict_fault *f)
{
	js_t s;

	memset(&s, 0, sizeof(s));
	s.p = (const unsigned char *)text;
	s.len = text ? len : 0;
	s.strict = strict;
	s.max_depth = max_depth;
	s.f = f;
	if (strict && s.len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		return js_fault(&s, JSF_BOM, 0);
	if (js_value(&s))
		return -1;
	js_ws(&s);
	if (s.pos < s.len)
		return js_fault(&s, JSF_TRAILING, 0);
	return 0;
}

/* json_strict_check's sentence for f (the byte at the fault tells EOF/NUL apart). */
static void js_reason(const struct json_strict_fault *f, const char *text, size_t len,
		      char *why, size_t n)
{
	int at = f->offset < len ? (unsigned char)text[f->offset] : -1;

	switch (f->kind) {
	case JSF_VALUE:
		snprintf(why, n, "%s", at < 0 ? "unexpected end of text (expected a JSON value)"
				       : at == 0 ? "raw NUL byte"
						 : "unexpected text (expected a JSON value)");
		break;
	case JSF_VALUE_TRAILING:
		snprintf(why, n, "unexpected text (expected a JSON value)");
		break;
	case JSF_DEPTH:
		snprintf(why, n, "nested deeper than %d levels", JSON_STRICT_MAX_DEPTH);
		break;
	case JSF_KEY: snprintf(why, n, "expected a member name or '}'"); break;
	case JSF_KEY_AFTER_COMMA:
	case JSF_KEY_TRAILING: snprintf(why, n, "expected a member name after ','"); break;
	case JSF_COLON: snprintf(why, n, "expected ':' after the member name"); break;
	case JSF_OBJECT_SEP: snprintf(why, n, "expected ',' or '}' in an object"); break;
	case JSF_ARRAY_SEP: snprintf(why, n, "expected ',' or ']' in an array"); break;
	case JSF_UNTERMINATED: snprintf(why, n, "unterminated string"); break;
	case JSF_CONTROL:
		if (f->detail == 0)
			snprintf(why, n, "raw NUL byte in a string");
		else
			snprintf(why, n, "raw control character 0x%02x in a string (escape it)",
				 f->detail);
		break;
	case JSF_ESCAPE:
		snprintf(why, n, "invalid escape \\%c in a string",
			 f->detail >= 0x20 && f->detail < 0x7f ? (char)f->detail : '?');
		break;
	case JSF_HEX: snprintf(why, n, "\\u must be followed by 4 hex digits"); break;
	case JSF_MINUS: snprintf(why, n, "invalid number: a digit must follow '-'"); break;
	case JSF_LEADING_ZERO: snprintf(why, n, "invalid number: leading zero"); break;
	case JSF_FRACTION: snprintf(why, n, "invalid number: a digit must follow '.'"); break;
	case JSF_EXPONENT:
		snprintf(why, n, "invalid number: a digit must follow the exponent");
		break;
	case JSF_TRAILING:
		snprintf(why, n, "%s", at == 0 ? "raw NUL byte after the JSON value"
					       : "text after the JSON value");
		break;
	case JSF_BOM: snprintf(why, n, "byte-order mark before the JSON text"); break;
	case JSF_NUL_ESCAPE: snprintf(why, n, "the escape \\u0000 (NUL) is not accepted"); break;
	case JSF_LOW_SURROGATE:
		snprintf(why, n, "\\u%04x is a UTF-16 low surrogate without a high one", f->detail);
		break;
	case JSF_HIGH_SURROGATE:
		snprintf(why, n, "\\u%04x is a UTF-16 high surrogate without a low one", f->detail);
		break;
	case JSF_UTF8: snprintf(why, n, "invalid UTF-8 in a string"); break;
	}
}

int json_strict_check(const char *text, size_t len, char *path, size_t pathlen,
		      char *err, size_t errlen)
{
	struct json_strict_fault f;
	char why[200];
	const char *more;

	if (json_strict_scan(text, len, 1, JSON_STRICT_MAX_DEPTH, &f) == 0)
		return 0;
	more = f.path[0] && f.path_truncated ? "..." : "";
	if (err && errlen) {
		js_reason(&f, text, text ? len : 0, why, sizeof(why));
		if (f.path[0])
			snprintf(err, errlen, "field '%s%s': %s (at byte %zu)", f.path, more, why,
				 f.offset);
		else
			snprintf(err, errlen, "body: %s (at byte %zu)", why, f.offset);
	}
	if (path && pathlen)
		snprintf(path, pathlen, "%s%s", f.path[0] ? f.path : "(body)", more);
	return -1;
}
