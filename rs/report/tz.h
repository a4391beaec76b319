/*
 * tz: IANA time zones for report boundaries (days, weeks, months in tz=), read from
 * the system's compiled zone files (TZif, RFC 8536) under /usr/share/zoneinfo (env
 * TZDIR overrides). Setting TZ and calling localtime would change the whole process's
 * idea of local time from the report thread; this reader has no global state.
 *
 * Limits: only the file's transition table is used (version 2+ 64-bit data when
 * present); instants after the last transition keep its offset. Debian's tzdata is
 * built "fat" (transitions listed up to 2037), so this is exact until 2037; the POSIX
 * rule in the file's footer, which continues the rules beyond, is not read.
 */
#ifndef RS_TZ_H
#define RS_TZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct tz tz_t;

/* Is name an acceptable zone name ("UTC", "Europe/Paris": letters, digits, '_', '-',
 * '+', '/', no "..", not absolute)? A space is taken too, as the '+' an unencoded
 * query string turned into one (tz_load reads it as '+'). */
int tz_name_ok(const char *name);

/* Load zone `name`. NULL with a sentence in err ("unknown time zone ..."). "UTC" and
 * "Z" need no file. Free with tz_free. */
tz_t *tz_load(const char *name, char *err, size_t errlen);
void tz_free(tz_t *z); /* NULL is allowed */
const char *tz_name(const tz_t *z);

/* Offset from UTC (seconds, east positive) in effect at UTC instant t (seconds). */
int32_t tz_offset(const tz_t *z, int64_t t);

/* The UTC instant (seconds) of local wall time `local` (seconds since the epoch as if
 * local were UTC). In a gap (clocks going forward) the answer is the instant the
 * clocks jump, read with the offset before; in an overlap, the first. */
int64_t tz_to_utc(const tz_t *z, int64_t local);

#endif
