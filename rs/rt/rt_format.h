/*
 * rt_format: real-time usage as the API answers it, in JSON (default), CSV or XML.
 * Pure: no sockets, no clock reads.
 *
 *   JSON  {"tenants": [{"tenant": "acme", "in_progress": 3, "arrivals_this_hour": 9,
 *          "arrivals_today": 120, "peak_today": 14, "peak_today_at":
 *          "2026-01-01T10:02:03Z"}]}
 *         {"components": [{"type": "MCP"|"RM", "id": "sip:mcp1@10.0.0.5:5070", ...the
 *          same five numbers}]}
 *   CSV   a header line (tenant|type,id, then the five names), one line per entity,
 *         RFC 4180 quoting, CRLF line ends
 *   XML   <tenants><tenant name="acme"><in_progress>3</in_progress>...</tenant>
 *         </tenants>, <components><component type="MCP" id="...">...</component>
 *         </components>
 * Times are ISO 8601 UTC to the second.
 */
#ifndef RS_RT_FORMAT_H
#define RS_RT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "rt_usage.h"

enum rt_fmt { RT_FMT_JSON = 0, RT_FMT_CSV, RT_FMT_XML };

/* The format a request asks for: `format` (the query parameter, may be NULL) wins,
 * else `accept` (the Accept header, may be NULL): text/csv, application/xml or
 * text/xml, anything else JSON. 0 with *out, or -1 when format is not json, csv or
 * xml. */
int rt_format_pick(const char *format, const char *accept, enum rt_fmt *out);

/* The Content-Type of f. */
const char *rt_format_ctype(enum rt_fmt f);

/* "2026-01-01T10:02:03Z" for UTC ms into out (>= 21 bytes). */
void rt_format_time(int64_t ms, char *out, size_t len);

/* Render n stats (all of one scope, RT_TENANT; or RT_MCP and RT_RM mixed, as
 * components) as f. A new NUL-terminated string the caller frees, *len its length;
 * NULL on out of memory. */
char *rt_format_tenants(const rt_stat_t *v, size_t n, enum rt_fmt f, size_t *len);
char *rt_format_components(const rt_stat_t *v, size_t n, enum rt_fmt f, size_t *len);

#endif
