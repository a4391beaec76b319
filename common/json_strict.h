/*
 * json_strict: a strict RFC 8259 JSON text validator (pure; no allocation).
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

#endif
