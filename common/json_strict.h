/*
 * json_strict: a strict RFC 8259 JSON text validator (pure; no allocation), and the
 * one JSON scanner of the project: jsonlint (config files) is a second voice over
 * the same scanner (json_strict_scan below).
 *
 * It accepts exactly the grammar of RFC 8259 over valid UTF-8 (RFC 3629: no overlong
 * forms, no encoded surrogates, nothing above U+10FFFF), and refuses in addition what
 * a database that stores the text as JSON refuses, or what would cut a C string:
 *   - raw control characters (< 0x20) inside strings (they must be escaped),
 *   - numbers with leading zeros (01, -01), and any other malformed number,
 *   - raw NUL bytes anywhere, and the escape \u0000 anywhere,
 *   - \u escapes that are lone or mis-paired UTF-16 surrogates,
 *   - a byte-order mark, trailing text after the value, nesting deeper than
 *     JSON_STRICT_MAX_DEPTH.
 * Duplicate object keys are allowed (RFC 8259 only says SHOULD be unique).
 */
#ifndef COMMON_JSON_STRICT_H
#define COMMON_JSON_STRICT_H

#include <stddef.h>

#define JSON_STRICT_MAX_DEPTH 128

/* Validate len bytes of text (need not be NUL-terminated; may contain NUL, which is
 * refused). Returns 0 when the text is one strict JSON value, or -1 with the JSON
 * path of the offending value in path ("call_id", "tags.x", "list[2]"; "(body)" when
 * the fault is outside any member, e.g. trailing text) and a sentence in err naming
 * the reason and the byte offset. path and err may be NULL. */
int json_strict_check(const char *text, size_t len, char *path, size_t pathlen,
		      char *err, size_t errlen);

/* The scanner under json_strict_check and jsonlint_check: what it found wrong, and
 * where; each caller words it for its reader (a producer's STOMP ERROR, a person
 * editing a config file). */
enum json_strict_fault_kind {
	JSF_VALUE,          /* a value expected at offset (end of text, NUL, other byte) */
	JSF_VALUE_TRAILING, /* ']' right after ',' */
	JSF_DEPTH,          /* the container at offset nests deeper than max_depth */
	JSF_KEY,            /* a member name expected after '{' */
	JSF_KEY_AFTER_COMMA,/* a member name expected after ',' (not '}') */
	JSF_KEY_TRAILING,   /* '}' right after ',' */
	JSF_COLON,          /* ':' expected after a member name */
	JSF_OBJECT_SEP,     /* ',' or '}' expected */
	JSF_ARRAY_SEP,      /* ',' or ']' expected */
	JSF_UNTERMINATED,   /* the text ends inside a string */
	JSF_CONTROL,        /* raw byte < 0x20 (detail) in a string, NUL included */
	JSF_ESCAPE,         /* invalid escape: offset at the backslash, detail the byte */
	JSF_HEX,            /* \u without 4 hex digits: offset at the first that is not */
	JSF_MINUS,          /* no digit after '-' */
	JSF_LEADING_ZERO,   /* a digit after a leading 0 */
	JSF_FRACTION,       /* no digit after '.' */
	JSF_EXPONENT,       /* no digit after e/E and its sign */
	JSF_TRAILING,       /* text after the value */
	/* strict only: */
	JSF_BOM,            /* a byte-order mark before the value */
	JSF_NUL_ESCAPE,     /* \u0000 */
	JSF_LOW_SURROGATE,  /* \u (detail) DC00..DFFF without a high one before it */
	JSF_HIGH_SURROGATE, /* \u (detail) D800..DBFF not followed by a low one */
	JSF_UTF8,           /* a byte that is not part of well-formed UTF-8 */
};

struct json_strict_fault {
	enum json_strict_fault_kind kind;
	size_t offset;       /* byte offset of the fault in the text */
	size_t string_start; /* in a string: the offset of its opening quote */
	unsigned detail;     /* JSF_CONTROL, JSF_ESCAPE: the byte; surrogates: the value */
	int in_key;          /* the fault is inside a member name */
	char path[200];      /* JSON path of the value being scanned; "" at the top */
	int path_truncated;  /* path did not fit (it ends where it was cut) */
};

/* Scan text[0..len) as one JSON value with optional blanks around it. strict: also
 * refuse what JSON_STRICT refuses beyond RFC 8259 (above: UTF-8, \u0000, surrogates,
 * byte-order mark); raw control characters, leading zeros and trailing text are
 * refused either way. max_depth bounds the nesting of objects and arrays (and the
 * recursion). Returns 0, or -1 with *f filled for the first fault. */
int json_strict_scan(const char *text, size_t len, int strict, int max_depth,
		     struct json_strict_fault *f);

#endif
