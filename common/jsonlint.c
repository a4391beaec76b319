/*
 * jsonlint: first syntax error of a JSON text, with what was expected (see jsonlint.h).
 *
 * The scanner is json_strict's (json_strict_scan, not strict: config files may hold
 * any bytes cJSON takes); this file words its faults for a person editing the file,
 * with line:column and what was found there.
 */
#include "jsonlint.h"

#include <stdio.h>
#include <string.h>

#include "json_strict.h"

/* What the user wrote at off, for messages: "the end of the file", "'x'", or "a
 * comment" for the most common non-JSON habit. */
static const char *lint_found(const char *s, size_t len, size_t off, char *buf, size_t n)
{
	int c = off < len ? (unsigned char)s[off] : -1;

	if (c < 0)
		return "the end of the file";
	if (c == '/' && off + 1 < len && (s[off + 1] == '/' || s[off + 1] == '*'))
		return "a comment (JSON has none)";
	if (c < 0x20 || c >= 0x7f)
		snprintf(buf, n, "byte 0x%02x", c);
	else
		snprintf(buf, n, "'%c'", c);
	return buf;
}

/* The sentence for f; may move the offset (a string not closed points at where it
 * opened). */
static void lint_reason(const struct json_strict_fault *f, const char *s, size_t len,
			struct jsonlint_error *e)
{
	const char *what = f->in_key ? "a key" : "a string";
	char buf[16], *r = e->reason;
	size_t n = sizeof(e->reason);
	const char *found = lint_found(s, len, f->offset, buf, sizeof(buf));

	e->offset = f->offset;
	switch (f->kind) {
	case JSF_VALUE:
		if (f->offset < len && s[f->offset] == '\'')
			snprintf(r, n, "expected a value; strings take double quotes, not '");
		else
			snprintf(r, n, "expected a value (object, array, string, number, true, "
				 "false or null); found %s", found);
		break;
	case JSF_VALUE_TRAILING:
		snprintf(r, n, "expected a value after ',' (JSON allows no trailing comma)");
		break;
	case JSF_DEPTH: snprintf(r, n, "nested deeper than %d levels", JSONLINT_MAX_DEPTH); break;
	case JSF_KEY:
	case JSF_KEY_AFTER_COMMA:
		snprintf(r, n, "expected a key in double quotes or '}'; found %s", found);
		break;
	case JSF_KEY_TRAILING:
		snprintf(r, n, "expected a key after ',' (JSON allows no trailing comma)");
		break;
	case JSF_COLON: snprintf(r, n, "expected ':' after the key; found %s", found); break;
	case JSF_OBJECT_SEP:
		snprintf(r, n, "expected ',' or '}' after a member; found %s", found);
		break;
	case JSF_ARRAY_SEP:
		snprintf(r, n, "expected ',' or ']' after an element; found %s", found);
		break;
	case JSF_UNTERMINATED:
	case JSF_CONTROL:
		if (f->kind == JSF_UNTERMINATED || f->detail == '\n') {
			/* JSON strings never span lines: point at where it opened. */
			e->offset = f->string_start;
			snprintf(r, n, "%s is not closed %s (missing '\"')", what,
				 f->kind == JSF_UNTERMINATED ? "before the end of the file"
							     : "on its line");
		} else {
			snprintf(r, n, "raw control character 0x%02x in %s (write it as an escape "
				 "such as \\n or \\t)", f->detail, what);
		}
		break;
	case JSF_ESCAPE:
		snprintf(r, n, "invalid escape in %s (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t "
			 "\\uXXXX)", what);
		break;
	case JSF_HEX: snprintf(r, n, "expected four hex digits after \\u"); break;
	case JSF_MINUS: snprintf(r, n, "invalid number: expected a digit"); break;
	case JSF_LEADING_ZERO: snprintf(r, n, "invalid number: no leading zeros"); break;
	case JSF_FRACTION: snprintf(r, n, "invalid number: expected a digit after '.'"); break;
	case JSF_EXPONENT:
		snprintf(r, n, "invalid number: expected a digit in the exponent");
		break;
	case JSF_TRAILING:
		snprintf(r, n, "expected the end of the file after the top-level value; found %s",
			 found);
		break;
	default: /* strict faults: not asked for */
		snprintf(r, n, "invalid JSON");
		break;
	}
}

int jsonlint_check(const char *text, size_t len, struct jsonlint_error *e)
{
	struct json_strict_fault f;

	if (json_strict_scan(text, len, 0, JSONLINT_MAX_DEPTH, &f) == 0)
		return 0;
	lint_reason(&f, text, len, e);
	jsonlint_position(text, len, e->offset, &e->line, &e->column);
	return -1;
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
