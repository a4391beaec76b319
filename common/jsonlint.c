/*
 * jsonlint: first syntax error of a JSON text, with what was expected (see jsonlint.h).
 *
 * A recursive-descent recogniser of RFC 8259 that builds nothing: each function
 * consumes one production or records the first error and returns -1.
 */
#include "jsonlint.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct lint {
	const char *s;
	size_t len, pos;
	struct jsonlint_error *e;
};

static int lint_fail(struct lint *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int lint_fail(struct lint *l, const char *fmt, ...)
{
	va_list ap;

	l->e->offset = l->pos;
	jsonlint_position(l->s, l->len, l->pos, &l->e->line, &l->e->column);
	va_start(ap, fmt);
	vsnprintf(l->e->reason, sizeof(l->e->reason), fmt, ap);
	va_end(ap);
	return -1;
}

static int lint_peek(const struct lint *l)
{
	return l->pos < l->len ? (unsigned char)l->s[l->pos] : -1;
}

static void lint_blanks(struct lint *l)
{
	while (l->pos < l->len && (l->s[l->pos] == ' ' || l->s[l->pos] == '\t' ||
				   l->s[l->pos] == '\n' || l->s[l->pos] == '\r'))
		l->pos++;
}

/* What the user wrote where a token was expected, for messages: "end of file",
 * "'x'", or "a comment" for the most common non-JSON habit. */
static const char *lint_found(const struct lint *l, char *buf, size_t len)
{
	int c = lint_peek(l);

	if (c < 0)
		return "the end of the file";
	if (c == '/' && l->pos + 1 < l->len && (l->s[l->pos + 1] == '/' || l->s[l->pos + 1] == '*'))
		return "a comment (JSON has none)";
	if (c < 0x20 || c >= 0x7f)
		snprintf(buf, len, "byte 0x%02x", c);
	else
		snprintf(buf, len, "'%c'", c);
	return buf;
}

static int lint_value(struct lint *l, int depth);

static int lint_hex4(struct lint *l)
{
	for (int i = 0; i < 4; i++, l->pos++) {
		int c = lint_peek(l);
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return lint_fail(l, "expected four hex digits after \\u");
	}
	return 0;
}

/* At the opening quote. */
static int lint_string(struct lint *l, const char *what)
{
	size_t start = l->pos;

	l->pos++;
	for (;;) {
		int c = lint_peek(l);

		if (c < 0 || c == '\n') {
			/* JSON strings never span lines: point at where it opened. */
			l->pos = start;
			return lint_fail(l, "%s is not closed %s (missing '\"')", what,
					 c < 0 ? "before the end of the file" : "on its line");
		}
		if (c == '"') {
			l->pos++;
			return 0;
		}
		if (c < 0x20)
			return lint_fail(l, "raw control character 0x%02x in %s (write it as an "
					 "escape such as \\n or \\t)", c, what);
		if (c != '\\') {
			l->pos++;
			continue;
		}
		l->pos++;
		c = lint_peek(l);
		if (c >= 0 && strchr("\"\\/bfnrt", c)) {
			l->pos++;
		} else if (c == 'u') {
			l->pos++;
			if (lint_hex4(l) < 0)
				return -1;
		} else {
			l->pos--;
			return lint_fail(l, "invalid escape in %s (valid: \\\" \\\\ \\/ \\b \\f "
					 "\\n \\r \\t \\uXXXX)", what);
		}
	}
}

static int lint_digits(struct lint *l)
{
	size_t start = l->pos;

	while (lint_peek(l) >= '0' && lint_peek(l) <= '9')
		l->pos++;
	return l->pos > start ? 0 : -1;
}

static int lint_number(struct lint *l)
{
	if (lint_peek(l) == '-')
		l->pos++;
	if (lint_peek(l) == '0') {
		l->pos++;
		if (lint_peek(l) >= '0' && lint_peek(l) <= '9')
			return lint_fail(l, "invalid number: no leading zeros");
	} else if (lint_digits(l) < 0) {
		return lint_fail(l, "invalid number: expected a digit");
	}
	if (lint_peek(l) == '.') {
		l->pos++;
		if (lint_digits(l) < 0)
			return lint_fail(l, "invalid number: expected a digit after '.'");
	}
	if (lint_peek(l) == 'e' || lint_peek(l) == 'E') {
		l->pos++;
		if (lint_peek(l) == '+' || lint_peek(l) == '-')
			l->pos++;
		if (lint_digits(l) < 0)
			return lint_fail(l, "invalid number: expected a digit in the exponent");
	}
	return 0;
}

static int lint_object(struct lint *l, int depth)
{
	char buf[16];

	l->pos++; /* '{' */
	lint_blanks(l);
	if (lint_peek(l) == '}') {
		l->pos++;
		return 0;
	}
	for (;;) {
		if (lint_peek(l) != '"')
			return lint_fail(l, "expected a key in double quotes or '}'; found %s",
					 lint_found(l, buf, sizeof(buf)));
		if (lint_string(l, "a key") < 0)
			return -1;
		lint_blanks(l);
		if (lint_peek(l) != ':')
			return lint_fail(l, "expected ':' after the key; found %s",
					 lint_found(l, buf, sizeof(buf)));
		l->pos++;
		lint_blanks(l);
		if (lint_value(l, depth + 1) < 0)
			return -1;
		lint_blanks(l);
		if (lint_peek(l) == '}') {
			l->pos++;
			return 0;
		}
		if (lint_peek(l) != ',')
			return lint_fail(l, "expected ',' or '}' after a member; found %s",
					 lint_found(l, buf, sizeof(buf)));
		l->pos++;
		lint_blanks(l);
		if (lint_peek(l) == '}')
			return lint_fail(l, "expected a key after ',' (JSON allows no trailing "
					 "comma)");
	}
}

static int lint_array(struct lint *l, int depth)
{
	char buf[16];

	l->pos++; /* '[' */
	lint_blanks(l);
	if (lint_peek(l) == ']') {
		l->pos++;
		return 0;
	}
	for (;;) {
		if (lint_value(l, depth + 1) < 0)
			return -1;
		lint_blanks(l);
		if (lint_peek(l) == ']') {
			l->pos++;
			return 0;
		}
		if (lint_peek(l) != ',')
			return lint_fail(l, "expected ',' or ']' after an element; found %s",
					 lint_found(l, buf, sizeof(buf)));
		l->pos++;
		lint_blanks(l);
		if (lint_peek(l) == ']')
			return lint_fail(l, "expected a value after ',' (JSON allows no trailing "
					 "comma)");
	}
}

static int lint_literal(struct lint *l, const char *word)
{
	size_t n = strlen(word);

	if (l->len - l->pos < n || memcmp(l->s + l->pos, word, n) != 0)
		return -1;
	l->pos += n;
	return 0;
}

static int lint_value(struct lint *l, int depth)
{
	char buf[16];
	int c = lint_peek(l);

	if (depth > JSONLINT_MAX_DEPTH)
		return lint_fail(l, "nested deeper than %d levels", JSONLINT_MAX_DEPTH);
	if (c == '{')
		return lint_object(l, depth);
	if (c == '[')
		return lint_array(l, depth);
	if (c == '"')
		return lint_string(l, "a string");
	if (c == '-' || (c >= '0' && c <= '9'))
		return lint_number(l);
	if (lint_literal(l, "true") == 0 || lint_literal(l, "false") == 0 ||
	    lint_literal(l, "null") == 0)
		return 0;
	if (c == '\'')
		return lint_fail(l, "expected a value; strings take double quotes, not '");
	return lint_fail(l, "expected a value (object, array, string, number, true, false "
			 "or null); found %s", lint_found(l, buf, sizeof(buf)));
}

int jsonlint_check(const char *text, size_t len, struct jsonlint_error *e)
{
	struct lint l = { .s = text, .len = len, .pos = 0, .e = e };
	char buf[16];

	lint_blanks(&l);
	if (lint_value(&l, 0) < 0)
		return -1;
	lint_blanks(&l);
	if (l.pos < len)
		return lint_fail(&l, "expected the end of the file after the top-level value; "
				 "found %s", lint_found(&l, buf, sizeof(buf)));
	return 0;
}

void jsonlint_position(const char *text, size_t len, size_t off, int *line, int *column)
{
	int ln = 1, col = 1;

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch == '\n') {
			ln++;
			col = 1;
		} else if ((ch & 0xc0) != 0x80) {
			col++;
		}
	}
	*line = ln;
	*column = col;
}
