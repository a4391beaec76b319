/* report_req: the report API's parameters (see report_req.h). */
#include "report_req.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tz.h"

const char *const report_gran_names[6] = { "FIVE_MINUTES", "THIRTY_MINUTES", "HOUR",
					   "DAY",          "WEEK",           "MONTH" };

int report_path_kind(const char *path)
{
	if (!strcmp(path, "/ems-rs/operations/peaks/RM"))
		return REPORT_PEAKS;
	if (!strcmp(path, "/ems-rs/HIST/CDRs/RM/details"))
		return REPORT_DETAILS;
	if (!strcmp(path, "/ems-rs/HIST/CDRs/RM/summary"))
		return REPORT_SUMMARY;
	return -1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
int64_t report_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int report_parse_time(const char *s, int64_t *ms, int *local)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	size_t n = strlen(s);
	const char *p;

	if (n > 0 && n <= 15 && strspn(s, "0123456789") == n) {
		*ms = strtoll(s, NULL, 10);
		*local = 0;
		return 0;
	}
	if (n < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    y < 1970)
		return -1;
	p = s + 10;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if (digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi))
			return -1;
		p += 6;
		if (*p == ':') {
			if (digits(p + 1, 2, &sec))
				return -1;
			p += 3;
			if (*p == '.') {
				int k = 0, v;
				p++;
				while (isdigit((unsigned char)*p)) {
					if (k < 3) {
						digits(p, 1, &v);
						frac = frac * 10 + v;
					}
					k++;
					p++;
				}
				if (k == 0)
					return -1;
				for (; k < 3; k++)
					frac *= 10;
			}
		}
		if (h > 23 || mi > 59 || sec > 60)
			return -1;
	}
	*ms = ((report_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1000) + frac;
	*local = 1;
	if (*p == 0)
		return 0;
	*local = 0;
	if ((*p == 'Z' || *p == 'z') && p[1] == 0)
		return 0;
	if (*p == '+' || *p == '-') {
		int oh, om = 0, sign = *p == '-' ? -1 : 1;
		if (digits(p + 1, 2, &oh))
			return -1;
		const char *q = p + 3;
		if (*q == ':')
			q++;
		if (*q && (digits(q, 2, &om) || q[2]))
			return -1;
		if (oh > 23 || om > 59)
			return -1;
		*ms -= sign * (int64_t)(oh * 3600 + om * 60) * 1000;
		return 0;
	}
	return -1;
}

void report_civil_from_days(int64_t days, int64_t *yp, int *mp_, int *dp)
{
	/* civil_from_days (Hinnant) */
	int64_t zz = days + 719468, era = (zz >= 0 ? zz : zz - 146096) / 146097;
	int64_t doe = zz - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp + (mp < 10 ? 3 : -9);
	*yp = y + (m <= 2);
	*mp_ = (int)m;
	*dp = (int)d;
}

void report_fmt_time(int64_t ms, char *out, size_t cap)
{
	int64_t z = (ms >= 0 ? ms : ms - 999) / 1000, sub = ms - z * 1000;
	int64_t days = (z >= 0 ? z : z - 86399) / 86400, sod = z - days * 86400;
	int64_t y;
	int m, d;
	report_civil_from_days(days, &y, &m, &d);
	if (sub)
		snprintf(out, cap, "%04lld-%02d-%02dT%02lld:%02lld:%02lld.%03lldZ",
			 (long long)y, m, d, (long long)(sod / 3600),
			 (long long)(sod / 60 % 60), (long long)(sod % 60), (long long)sub);
	else
		snprintf(out, cap, "%04lld-%02d-%02dT%02lld:%02lld:%02lldZ", (long long)y,
			 m, d, (long long)(sod / 3600),
			 (long long)(sod / 60 % 60), (long long)(sod % 60));
}

void report_cursor_encode(int64_t ms, const char *id, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	int n = snprintf(out, cap, "%lld.", (long long)ms);
	for (size_t i = 0; id[i] && (size_t)n + 3 < cap; i++) {
		out[n++] = hex[(unsigned char)id[i] >> 4];
		out[n++] = hex[(unsigned char)id[i] & 15];
	}
	out[n] = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int report_cursor_decode(const char *s, int64_t *ms, char *id, size_t idcap)
{
	char *end;
	size_t k = 0;
	long long v = strtoll(s, &end, 10);

	if (end == s || *end != '.' || v < 0)
		return -1;
	for (const char *p = end + 1; *p; p += 2) {
		int a = hexval(p[0]), b = a < 0 ? -1 : hexval(p[1]);
		if (a < 0 || b < 0 || k + 1 >= idcap || (a == 0 && b == 0))
			return -1;
		id[k++] = (char)(a << 4 | b);
	}
	if (k == 0)
		return -1;
	id[k] = 0;
	*ms = v;
	return 0;
}

/* One query parameter: name=value pairs split on '&', value %-decoded into out.
 * 1 found, 0 absent, -1 bad encoding or too long. A repeated name: the first wins. */
static int qparam(const char *q, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	while (q && *q) {
		const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);
		if ((size_t)(end - q) > nl && !strncmp(q, name, nl) && q[nl] == '=') {
			size_t k = 0;
			for (const char *p = q + nl + 1; p < end; p++) {
				char c = *p;
				if (c == '+')
					c = ' ';
				else if (c == '%') {
					if (end - p < 3)
						return -1;
					int hi = hexval((char)tolower((unsigned char)p[1]));
					int lo = hexval((char)tolower((unsigned char)p[2]));
					if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
						return -1;
					c = (char)(hi << 4 | lo);
					p += 2;
				}
				if (k + 1 >= cap)
					return -1;
				out[k++] = c;
			}
			out[k] = 0;
			return 1;
		}
		if ((size_t)(end - q) == nl && !strncmp(q, name, nl)) {
			out[0] = 0;
			return 1;
		}
		q = amp ? amp + 1 : NULL;
	}
	return 0;
}

static int bad(char *param, size_t plen, const char *name, char *err, size_t errlen,
	       const char *why)
{
	snprintf(param, plen, "%s", name);
	snprintf(err, errlen, "parameter %s: %s", name, why);
	return -1;
}

static int read_time(const char *q, const char *name, int required, int64_t *ms,
		     int *local, char *param, size_t plen, char *err, size_t errlen)
{
	char v[64];
	int rc = qparam(q, name, v, sizeof(v));
	if (rc == 0 && !required)
		return 1;
	if (rc == 0)
		return bad(param, plen, name, err, errlen, "required (ISO 8601 or epoch ms)");
	if (rc < 0 || report_parse_time(v, ms, local))
		return bad(param, plen, name, err, errlen,
			   "expected an ISO 8601 time (2026-01-01T00:00:00Z) or epoch ms");
	return 0;
}

int report_req_parse(enum report_kind kind, const char *q, const char *accept,
		     int64_t now_ms, int max_limit, report_req_t *r, char *param,
		     size_t plen, char *err, size_t errlen)
{
	static const char *const filters[3] = { "tenant-id", "app-id", "dn" };
	static const char fcodes[3] = { 't', 'p', 'd' };
	char v[160];
	int rc;

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->gran = RG_HOUR;
	if ((rc = qparam(q, "granularity", v, sizeof(v))) != 0) {
		int g = -1;
		for (int i = 0; rc > 0 && i < 6; i++)
			if (!strcmp(v, report_gran_names[i]))
				g = i;
		if (g < 0)
			return bad(param, plen, "granularity", err, errlen,
				   "expected FIVE_MINUTES, THIRTY_MINUTES, HOUR, DAY, WEEK or"
				   " MONTH");
		r->gran = (enum report_gran)g;
	}
	if (read_time(q, "from", 1, &r->from_ms, &r->from_local, param, plen, err, errlen))
		return -1;
	rc = read_time(q, "to", 0, &r->to_ms, &r->to_local, param, plen, err, errlen);
	if (rc < 0)
		return -1;
	if (rc == 1)
		r->to_ms = now_ms;
	for (int i = 0; i < 3; i++) {
		rc = qparam(q, filters[i], v, sizeof(v));
		if (rc == 0)
			continue;
		if (r->filter)
			return bad(param, plen, filters[i], err, errlen,
				   "at most one of tenant-id, app-id and dn may be given");
		size_t n = rc > 0 ? strlen(v) : 0;
		if (rc < 0 || n == 0 || n > 128)
			return bad(param, plen, filters[i], err, errlen,
				   "expected a value of 1 to 128 bytes");
		r->filter = fcodes[i];
		if (fcodes[i] == 'd' && v[n - 1] == '*') {
			r->prefix = 1;
			v[--n] = 0;
		}
		if (memchr(v, '*', n))
			return bad(param, plen, filters[i], err, errlen,
				   "'*' is allowed only at the end of dn");
		snprintf(r->fval, sizeof(r->fval), "%.128s", v);
	}
	if ((rc = qparam(q, "tz", v, sizeof(v))) != 0) {
		if (rc < 0 || !tz_name_ok(v))
			return bad(param, plen, "tz", err, errlen,
				   "expected an IANA time zone name (Europe/Paris)");
		snprintf(r->tz, sizeof(r->tz), "%.127s", v);
	}
	if ((rc = qparam(q, "format", v, sizeof(v))) != 0) {
		if (rc > 0 && !strcmp(v, "json"))
			r->format = RF_JSON;
		else if (rc > 0 && !strcmp(v, "csv"))
			r->format = RF_CSV;
		else if (rc > 0 && !strcmp(v, "xml"))
			r->format = RF_XML;
		else
			return bad(param, plen, "format", err, errlen, "expected json, csv or xml");
	} else if (accept) {
		/* The first of the three the client names. */
		const char *j = strstr(accept, "application/json"), *c = strstr(accept, "text/csv"),
			   *x = strstr(accept, "xml");
		const char *best = NULL;
		if (j)
			best = j;
		if (c && (!best || c < best))
			best = c;
		if (x && (!best || x < best))
			best = x;
		r->format = best == c && c ? RF_CSV : best == x && x ? RF_XML : RF_JSON;
	}
	if ((rc = qparam(q, "limit", v, sizeof(v))) != 0) {
		char *end;
		long n = rc > 0 ? strtol(v, &end, 10) : 0;
		if (rc < 0 || !v[0] || *end || n < 1 || n > max_limit) {
			char why[80];
			snprintf(why, sizeof(why), "expected an integer 1..%d", max_limit);
			return bad(param, plen, "limit", err, errlen, why);
		}
		r->limit = (int)n;
	}
	char cur[320];
	if ((rc = qparam(q, "cursor", cur, sizeof(cur))) != 0) {
		if (rc < 0 || report_cursor_decode(cur, &r->cursor_ms, r->cursor_id,
						   sizeof(r->cursor_id)))
			return bad(param, plen, "cursor", err, errlen,
				   "not a cursor this API returned");
		r->has_cursor = 1;
	}
	return 0;
}
