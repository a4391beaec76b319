/* json_strict: see json_strict.h. A recursive-descent scanner over the bytes. */
#include "json_strict.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct js {
	const unsigned char *p; /* text */
	size_t len;
	size_t pos;
	int depth;
	char path[200]; /* JSON path of the value being scanned */
	size_t plen;
	int truncated; /* path did not fit */
	char *err;
	size_t errlen;
} js_t;

static int js_fail(js_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int js_fail(js_t *s, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (s->err && s->errlen) {
		if (s->plen)
			snprintf(s->err, s->errlen, "field '%s%s': %s (at byte %zu)", s->path,
				 s->truncated ? "..." : "", why, s->pos);
		else
			snprintf(s->err, s->errlen, "body: %s (at byte %zu)", why, s->pos);
	}
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

static void js_ws(js_t *s)
{
	while (s->pos < s->len) {
		unsigned char c = s->p[s->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		s->pos++;
	}
}

static int js_hex4(js_t *s, unsigned *out)
{
	unsigned v = 0;

	if (s->len - s->pos < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned char c = s->p[s->pos + (size_t)i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	s->pos += 4;
	*out = v;
	return 0;
}

/* The \u escape after the backslash-u (pos at the hex digits), with its pair. */
static int js_unicode_escape(js_t *s)
{
	unsigned u, lo;

	if (js_hex4(s, &u))
		return js_fail(s, "\\u must be followed by 4 hex digits");
	if (u == 0)
		return js_fail(s, "the escape \\u0000 (NUL) is not accepted");
	if (u >= 0xdc00 && u <= 0xdfff)
		return js_fail(s, "\\u%04x is a UTF-16 low surrogate without a high one", u);
	if (u < 0xd800 || u > 0xdbff)
		return 0;
	if (s->len - s->pos < 2 || s->p[s->pos] != '\\' || s->p[s->pos + 1] != 'u')
		return js_fail(s, "\\u%04x is a UTF-16 high surrogate without a low one", u);
	s->pos += 2;
	if (js_hex4(s, &lo))
		return js_fail(s, "\\u must be followed by 4 hex digits");
	if (lo < 0xdc00 || lo > 0xdfff)
		return js_fail(s, "\\u%04x is a UTF-16 high surrogate without a low one", u);
	return 0;
}

/* A string; pos at the opening quote. On success *start and *n give its raw content. */
static int js_string(js_t *s, const unsigned char **start, size_t *n)
{
	size_t from = ++s->pos;

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
		if (c == 0)
			return js_fail(s, "raw NUL byte in a string");
		if (c < 0x20)
			return js_fail(s, "raw control character 0x%02x in a string (escape it)",
				       c);
		if (c == '\\') {
			if (++s->pos >= s->len)
				break;
			c = s->p[s->pos++];
			if (c == 'u') {
				if (js_unicode_escape(s))
					return -1;
			} else if (!strchr("\"\\/bfnrt", c) || c == 0) {
				s->pos--;
				return js_fail(s, "invalid escape \\%c in a string",
					       c >= 0x20 && c < 0x7f ? c : '?');
			}
			continue;
		}
		if (c < 0x80) {
			s->pos++;
			continue;
		}
		size_t k = utf8_seq_len(s->p + s->pos, s->len - s->pos);
		if (!k)
			return js_fail(s, "invalid UTF-8 in a string");
		s->pos += k;
	}
	return js_fail(s, "unterminated string");
}

static int js_digits(js_t *s)
{
	size_t from = s->pos;

	while (s->pos < s->len && s->p[s->pos] >= '0' && s->p[s->pos] <= '9')
		s->pos++;
	return s->pos > from ? 0 : -1;
}

static int js_number(js_t *s)
{
	if (s->p[s->pos] == '-')
		s->pos++;
	if (s->pos >= s->len || s->p[s->pos] < '0' || s->p[s->pos] > '9')
		return js_fail(s, "invalid number: a digit must follow '-'");
	if (s->p[s->pos] == '0') {
		s->pos++;
		if (s->pos < s->len && s->p[s->pos] >= '0' && s->p[s->pos] <= '9')
			return js_fail(s, "invalid number: leading zero");
	} else {
		js_digits(s);
	}
	if (s->pos < s->len && s->p[s->pos] == '.') {
		s->pos++;
		if (js_digits(s))
			return js_fail(s, "invalid number: a digit must follow '.'");
	}
	if (s->pos < s->len && (s->p[s->pos] == 'e' || s->p[s->pos] == 'E')) {
		s->pos++;
		if (s->pos < s->len && (s->p[s->pos] == '+' || s->p[s->pos] == '-'))
			s->pos++;
		if (js_digits(s))
			return js_fail(s, "invalid number: a digit must follow the exponent");
	}
	return 0;
}

static int js_literal(js_t *s, const char *word)
{
	size_t n = strlen(word);

	if (s->len - s->pos < n || memcmp(s->p + s->pos, word, n))
		return js_fail(s, "unexpected text (expected a JSON value)");
	s->pos += n;
	return 0;
}

static int js_value(js_t *s);

static int js_object(js_t *s)
{
	size_t count = 0;

	s->pos++; /* { */
	js_ws(s);
	if (s->pos < s->len && s->p[s->pos] == '}') {
		s->pos++;
		return 0;
	}
	for (;;) {
		const unsigned char *k = NULL;
		size_t kn = 0, old;

		js_ws(s);
		if (s->pos >= s->len || s->p[s->pos] != '"')
			return js_fail(s, count ? "expected a member name after ','"
					      : "expected a member name or '}'");
		if (js_string(s, &k, &kn))
			return -1;
		old = js_push_key(s, k, kn);
		js_ws(s);
		if (s->pos >= s->len || s->p[s->pos] != ':')
			return js_fail(s, "expected ':' after the member name");
		s->pos++;
		if (js_value(s))
			return -1;
		js_pop(s, old);
		count++;
		js_ws(s);
		if (s->pos < s->len && s->p[s->pos] == ',') {
			s->pos++;
			continue;
		}
		if (s->pos < s->len && s->p[s->pos] == '}') {
			s->pos++;
			return 0;
		}
		return js_fail(s, "expected ',' or '}' in an object");
	}
}

static int js_array(js_t *s)
{
	size_t i = 0;

	s->pos++; /* [ */
	js_ws(s);
	if (s->pos < s->len && s->p[s->pos] == ']') {
		s->pos++;
		return 0;
	}
	for (;; i++) {
		size_t old = js_push_index(s, i);
		if (js_value(s))
			return -1;
		js_pop(s, old);
		js_ws(s);
		if (s->pos < s->len && s->p[s->pos] == ',') {
			s->pos++;
			continue;
		}
		if (s->pos < s->len && s->p[s->pos] == ']') {
			s->pos++;
			return 0;
		}
		return js_fail(s, "expected ',' or ']' in an array");
	}
}

/* One value, with the whitespace before it. */
static int js_value(js_t *s)
{
	int rc;

	js_ws(s);
	if (s->pos >= s->len)
		return js_fail(s, "unexpected end of text (expected a JSON value)");
	switch (s->p[s->pos]) {
	case '{':
	case '[':
		if (++s->depth > JSON_STRICT_MAX_DEPTH)
			return js_fail(s, "nested deeper than %d levels", JSON_STRICT_MAX_DEPTH);
		rc = s->p[s->pos] == '{' ? js_object(s) : js_array(s);
		s->depth--;
		return rc;
	case '"': return js_string(s, NULL, NULL);
	case 't': return js_literal(s, "true");
	case 'f': return js_literal(s, "false");
	case 'n': return js_literal(s, "null");
	case 0: return js_fail(s, "raw NUL byte");
	default:
		if (s->p[s->pos] == '-' || (s->p[s->pos] >= '0' && s->p[s->pos] <= '9'))
			return js_number(s);
		return js_fail(s, "unexpected text (expected a JSON value)");
	}
}

int json_strict_check(const char *text, size_t len, char *path, size_t pathlen,
		      char *err, size_t errlen)
{
	js_t s;

	memset(&s, 0, sizeof(s));
	s.p = (const unsigned char *)text;
	s.len = text ? len : 0;
	s.err = err;
	s.errlen = errlen;
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
		js_fail(&s, "byte-order mark before the JSON text");
		goto fail;
	}
	if (js_value(&s))
		goto fail;
	js_ws(&s);
	if (s.pos < s.len) {
		js_fail(&s, s.p[s.pos] ? "text after the JSON value"
				       : "raw NUL byte after the JSON value");
		goto fail;
	}
	return 0;
fail:
	if (path && pathlen)
		snprintf(path, pathlen, "%s%s", s.plen ? s.path : "(body)",
			 s.plen && s.truncated ? "..." : "");
	return -1;
}
