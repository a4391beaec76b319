/* report_fmt: JSON, CSV and XML text of the report answers (see report_fmt.h). */
#include "report_fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

const char *report_ctype(enum report_format f)
{
	return f == RF_CSV ? "text/csv; charset=utf-8"
	       : f == RF_XML ? "application/xml; charset=utf-8"
			     : "application/json";
}

static void json_str(struct evbuffer *b, const char *s)
{
	evbuffer_add(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			evbuffer_add_printf(b, "\\%c", *p);
		else if (*p < 0x20)
			evbuffer_add_printf(b, "\\u%04x", *p);
		else
			evbuffer_add(b, p, 1);
	}
	evbuffer_add(b, "\"", 1);
}

static void xml_str(struct evbuffer *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '<': evbuffer_add(b, "&lt;", 4); break;
		case '>': evbuffer_add(b, "&gt;", 4); break;
		case '&': evbuffer_add(b, "&amp;", 5); break;
		case '"': evbuffer_add(b, "&quot;", 6); break;
		default:
			if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
				evbuffer_add(b, "?", 1); /* not allowed in XML 1.0 */
			else
				evbuffer_add(b, p, 1);
		}
	}
}

/* RFC 4180: quoted when it holds a comma, quote or line break. A leading = or @, or
 * + or - not followed by a digit (a caller "+1555..." stays as it is), is prefixed
 * with ' so spreadsheets do not run it as a formula. */
static void csv_str(struct evbuffer *b, const char *s)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL;
	int formula = s[0] == '=' || s[0] == '@' ||
		      ((s[0] == '-' || s[0] == '+') && !(s[1] >= '0' && s[1] <= '9'));
	if (!quote && !formula) {
		evbuffer_add(b, s, strlen(s));
		return;
	}
	evbuffer_add(b, "\"", 1);
	if (formula)
		evbuffer_add(b, "'", 1);
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			evbuffer_add(b, "\"", 1);
		evbuffer_add(b, p, 1);
	}
	evbuffer_add(b, "\"", 1);
}

/* csv_str into p (room for 2 * strlen(s) + 3); returns the end. */
static char *csv_put(char *p, const char *s, size_t n)
{
	int quote = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n') {
			quote = 1;
			break;
		}
	int formula = s[0] == '=' || s[0] == '@' ||
		      ((s[0] == '-' || s[0] == '+') && !(s[1] >= '0' && s[1] <= '9'));
	if (!quote && !formula) {
		memcpy(p, s, n);
		return p + n;
	}
	*p++ = '"';
	if (formula)
		*p++ = '\'';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			*p++ = '"';
		*p++ = s[i];
	}
	*p++ = '"';
	return p;
}

/* One CSV line, written in place into b's tail (one reserve and commit a row: the
 * export writes a million of them). */
static void csv_row(struct evbuffer *b, const char *const *v)
{
	size_t len[REPORT_NCOLS], need = REPORT_NCOLS + 2;
	struct evbuffer_iovec vec;

	for (int i = 0; i < REPORT_NCOLS; i++) {
		len[i] = v[i] ? strlen(v[i]) : 0;
		need += 2 * len[i] + 3;
	}
	if (evbuffer_reserve_space(b, (ev_ssize_t)need, &vec, 1) < 1)
		return;
	char *p = vec.iov_base;
	for (int i = 0; i < REPORT_NCOLS; i++) {
		if (i)
			*p++ = ',';
		if (v[i])
			p = csv_put(p, v[i], len[i]);
	}
	*p++ = '\r';
	*p++ = '\n';
	vec.iov_len = (size_t)(p - (char *)vec.iov_base);
	evbuffer_commit_space(b, &vec, 1);
}

void report_fmt_peaks(struct evbuffer *b, enum report_format f, enum report_gran g,
		      const char *tz, const int64_t *e, int n, const int64_t *peak,
		      const int64_t *arrivals)
{
	char t[40];
	const char *gn = report_gran_names[g], *zn = tz && tz[0] ? tz : "UTC";

	if (f == RF_CSV) {
		evbuffer_add_printf(b, "start,peak,arrivals\r\n");
	} else if (f == RF_XML) {
		evbuffer_add_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				       "<peaks granularity=\"%s\" tz=\"", gn);
		xml_str(b, zn);
		evbuffer_add_printf(b, "\">\n");
	} else {
		evbuffer_add_printf(b, "{\"granularity\": \"%s\", \"tz\": ", gn);
		json_str(b, zn);
		evbuffer_add_printf(b, ", \"buckets\": [");
	}
	for (int i = 0; i < n; i++) {
		report_fmt_time(e[i], t, sizeof(t));
		if (f == RF_CSV)
			evbuffer_add_printf(b, "%s,%lld,%lld\r\n", t, (long long)peak[i],
					    (long long)arrivals[i]);
		else if (f == RF_XML)
			evbuffer_add_printf(b, "  <bucket start=\"%s\" peak=\"%lld\" arrivals=\"%lld\"/>\n",
					    t, (long long)peak[i], (long long)arrivals[i]);
		else
			evbuffer_add_printf(b, "%s{\"start\": \"%s\", \"peak\": %lld, \"arrivals\": %lld}",
					    i ? ", " : "", t, (long long)peak[i],
					    (long long)arrivals[i]);
	}
	if (f == RF_XML)
		evbuffer_add_printf(b, "</peaks>\n");
	else if (f == RF_JSON)
		evbuffer_add_printf(b, "]}\n");
}

void report_fmt_details_begin(struct evbuffer *b, enum report_format f)
{
	if (f == RF_CSV) {
		for (int i = 0; i < REPORT_NCOLS; i++)
			evbuffer_add_printf(b, "%s%s", i ? "," : "", report_cols[i]);
		evbuffer_add(b, "\r\n", 2);
	} else if (f == RF_XML) {
		evbuffer_add_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<details>\n");
	} else {
		evbuffer_add_printf(b, "{\"records\": [");
	}
}

void report_fmt_details_row(struct evbuffer *b, enum report_format f, int first,
			    const char *const *v)
{
	if (f == RF_JSON) {
		if (!first)
			evbuffer_add(b, ",\n", 2);
		const char *body = v[REPORT_NCOLS];
		evbuffer_add(b, body ? body : "null", strlen(body ? body : "null"));
		return;
	}
	if (f == RF_CSV) {
		csv_row(b, v);
		return;
	}
	evbuffer_add_printf(b, "  <record>");
	for (int i = 0; i < REPORT_NCOLS; i++) {
		if (!v[i])
			continue;
		evbuffer_add_printf(b, "<%s>", report_cols[i]);
		xml_str(b, v[i]);
		evbuffer_add_printf(b, "</%s>", report_cols[i]);
	}
	evbuffer_add_printf(b, "</record>\n");
}

void report_fmt_details_end(struct evbuffer *b, enum report_format f, long long total,
			    const char *next)
{
	if (f == RF_CSV)
		return;
	if (f == RF_XML) {
		if (total >= 0)
			evbuffer_add_printf(b, "  <total>%lld</total>\n", total);
		if (next)
			evbuffer_add_printf(b, "  <next>%s</next>\n", next);
		evbuffer_add_printf(b, "</details>\n");
		return;
	}
	evbuffer_add_printf(b, "], \"total\": %lld, \"next\": ", total);
	if (next)
		json_str(b, next);
	else
		evbuffer_add_printf(b, "null");
	evbuffer_add_printf(b, "}\n");
}

void report_fmt_summary(struct evbuffer *b, enum report_format f, const report_req_t *r,
			const report_summary_t *s)
{
	char from[40], to[40];
	long long answered = s->by_disp[REC_ANSWERED];
	double minutes = (double)s->duration_ms / 60000.0;
	double amin = (double)s->answered_ms / 60000.0;
	double avg = answered ? (double)s->answered_ms / 1000.0 / (double)answered : 0.0;

	report_fmt_time(r->from_ms, from, sizeof(from));
	report_fmt_time(r->to_ms, to, sizeof(to));
	if (f == RF_CSV) {
		evbuffer_add_printf(b, "from,to,total");
		for (int d = 0; d < 5; d++)
			evbuffer_add_printf(b, ",%s", record_disposition_name(d));
		evbuffer_add_printf(b, ",minutes,answered_minutes,average_duration_s\r\n%s,%s,%lld",
				    from, to, s->total);
		for (int d = 0; d < 5; d++)
			evbuffer_add_printf(b, ",%lld", s->by_disp[d]);
		evbuffer_add_printf(b, ",%.3f,%.3f,%.3f\r\n", minutes, amin, avg);
		return;
	}
	if (f == RF_XML) {
		evbuffer_add_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<summary"
				       " from=\"%s\" to=\"%s\">\n  <total>%lld</total>\n",
				    from, to, s->total);
		for (int d = 0; d < 5; d++)
			evbuffer_add_printf(b, "  <disposition name=\"%s\">%lld</disposition>\n",
					    record_disposition_name(d), s->by_disp[d]);
		evbuffer_add_printf(b, "  <minutes>%.3f</minutes>\n  <answered_minutes>%.3f"
				       "</answered_minutes>\n  <average_duration_s>%.3f"
				       "</average_duration_s>\n</summary>\n",
				    minutes, amin, avg);
		return;
	}
	evbuffer_add_printf(b, "{\"from\": \"%s\", \"to\": \"%s\", \"total\": %lld,"
			       " \"dispositions\": {", from, to, s->total);
	for (int d = 0; d < 5; d++)
		evbuffer_add_printf(b, "%s\"%s\": %lld", d ? ", " : "",
				    record_disposition_name(d), s->by_disp[d]);
	evbuffer_add_printf(b, "}, \"minutes\": %.3f, \"answered_minutes\": %.3f,"
			       " \"average_duration_s\": %.3f}\n",
			    minutes, amin, avg);
}

void report_fmt_error(struct evbuffer *b, enum report_format f, const char *param,
		      const char *msg)
{
	if (f == RF_XML) {
		evbuffer_add_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				       "<error parameter=\"");
		xml_str(b, param);
		evbuffer_add_printf(b, "\">");
		xml_str(b, msg);
		evbuffer_add_printf(b, "</error>\n");
		return;
	}
	if (f == RF_CSV) {
		evbuffer_add_printf(b, "error,parameter\r\n");
		csv_str(b, msg);
		evbuffer_add(b, ",", 1);
		csv_str(b, param);
		evbuffer_add(b, "\r\n", 2);
		return;
	}
	evbuffer_add_printf(b, "{\"error\": ");
	json_str(b, msg);
	evbuffer_add_printf(b, ", \"parameter\": ");
	json_str(b, param);
	evbuffer_add_printf(b, "}\n");
}
