/*
 * utf8: the one check of well-formed UTF-8 (RFC 3629, Table 3-7 of Unicode), for
 * json_strict (records rs accepts) and record_encode (records rm writes). Pure.
 *
 * Well-formed means: no overlong forms (C0, C1, E0 80..9F, F0 80..8F), no encoded
 * UTF-16 surrogates (ED A0..BF), nothing above U+10FFFF (F4 90.., F5..FF), no stray
 * continuation byte, no sequence cut short.
 */
#ifndef COMMON_UTF8_H
#define COMMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1..4) of the well-formed sequence at s[0..len), or 0 when s does not start
 * with one (or len is 0). An ASCII byte, NUL included, is a sequence of 1. Bytes are
 * read in order and reading stops at the first byte that does not fit, so a caller
 * scanning a NUL-terminated string may pass any len up to 4: the NUL ends it. */
size_t utf8_seq_len(const unsigned char *s, size_t len);

/* Is s[0..len) well-formed UTF-8 as a whole? s may be NULL when len is 0. */
bool utf8_valid(const char *s, size_t len);

#endif
