/*
 * jsonlint: find the first RFC 8259 syntax error in a text and say what was expected.
 *
 * cJSON tells only where it stopped. Config files are written by people, so cfg.c asks
 * this module, after cJSON refused a text, for "line:column: reason", e.g.
 *   12:5: expected ',' or '}' after a member
 * Pure: no I/O, no allocation, no globals. Recursion is bounded by JSONLINT_MAX_DEPTH.
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
