/*
 * jsonlint: find the first RFC 8259 syntax error in a text and say what was expected.
 *
 * cJSON tells only where it stopped. Config files are written by people, so cfg.c asks
 * this module, before cJSON builds the tree, for "line:column: reason", e.g.
 *   12:5: expected ',' or '}' after a member
 * The scanner is json_strict's (json_strict_scan), not in strict mode: RFC 8259 with
 * no leading zeros and no raw control characters in strings, any other bytes
 * allowed; this module only words its faults for a person (what was found, hints for
 * comments, single quotes and trailing commas) and places them by line and column.
 * Pure: no I/O, no allocation, no globals. Objects and arrays nest at most
 * JSONLINT_MAX_DEPTH deep (so is the recursion bounded).
 * Lines and columns are 1-based; a column counts characters (UTF-8 continuation bytes
 * do not advance it), a tab counts as one.
 */
#ifndef COMMON_JSONLINT_H
#define COMMON_JSONLINT_H

#include <stddef.h>

#define JSONLINT_MAX_DEPTH 512

struct jsonlint_error {
	size_t offset;     /* byte offset of the error in the text */
	int line, column;  /* of that offset */
	char reason[128];  /* "expected ':' after the key", ... */
};

/* Check text[0..len) (need not be NUL-terminated) as one JSON value with optional
 * blanks around it. Returns 0 when the text is valid JSON, or -1 with *e filled for
 * the first error. */
int jsonlint_check(const char *text, size_t len, struct jsonlint_error *e);

/* Line and column (1-based) of text[off]; off may be len (the end). */
void jsonlint_position(const char *text, size_t len, size_t off, int *line, int *column);

#endif
