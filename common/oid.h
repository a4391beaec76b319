/*
 * oid: the one parser of dotted numeric OIDs ("1.3.6.1.4.1.99999.1"), for snmp.base_oid
 * in both configs and for the AgentX subagent (common/ev/snmpsub.c). Pure.
 *
 * Accepted: an optional leading '.', then decimal numbers 0..4294967295 separated by
 * single dots; no sign, no space, no empty part, no trailing dot.
 */
#ifndef COMMON_OID_H
#define COMMON_OID_H

#include <stddef.h>
#include <stdint.h>

/* Parse text into out (at most max parts; out may be NULL with max 0 to only count,
 * see oid_parts). Returns the number of parts, or -1 when text is not an OID as above
 * or has more than max parts. */
int oid_parse(const char *text, uint32_t *out, size_t max);

/* The number of parts of text, or -1 when it is not an OID (no limit on the count:
 * callers check their own bounds, e.g. 2..15 for a base under which rm adds a part). */
int oid_parts(const char *text);

#endif
