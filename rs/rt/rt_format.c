/* rt_format: real-time usage in JSON, CSV and XML. See rt_format.h. */
#include "rt_format.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

int rt_format_pick(const char *format, const char *accept, enum rt_fmt *out)
{
	if (format) {
		if (!strcasecmp(format, "json"))
			*out = RT_FMT_JSON;
		else if (!strcasecmp(format, "csv"))
			*out = RT_FMT_CSV;
		else if (!strcasecmp(format, "xml"))
			*out = RT_FMT_XML;
		else
			return -1;
		return 0;
	}
	*out = RT_FMT_JSON;
	if (accept && strstr(accept, "text/csv"))
		*out = RT_FMT_CSV;
	else if (accept && (strstr(accept, "application/xml") || strstr(accept, "text/xml")))
		*out = RT_FMT_XML;
	return 0;
}

const char *rt_format_ctype(enum rt_fmt f)
{
	return f == RT_FMT_CSV ? "text/csv; charset=utf-8"
	       : f == RT_FMT_XML ? "application/xml; charset=utf-8"
				 : "application/json";
}

void rt_format_time(int64_t ms, char *out, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A growing string. ok false after an allocation failed. */
struct sbuf {
	char *p;
	size_t n, cap;
	bool ok;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (!b->ok)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 512) + n;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->ok = false;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
}

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	sb_add(b, tmp, n < (int)sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void csv_field(struct sbuf *b, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		sb_add(b, s, strlen(s));
		return;
	}
	sb_add(b, "\"", 1);
	for (; *s; s++)
		sb_add(b, *s == '"' ? "\"\"" : s, *s == '"' ? 2 : 1);
	sb_add(b, "\"", 1);
}

static void xml_text(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': sb_add(b, "&amp;", 5); break;
		case '<': sb_add(b, "&lt;", 4); break;
		case '>': sb_add(b, "&gt;", 4); break;
		case '"': sb_add(b, "&quot;", 6); break;
		case '\'': sb_add(b, "&apos;", 6); break;
		default: sb_add(b, s, 1);
		}
	}
}

static const char *scope_name(enum rt_scope s)
{
	return s == RT_MCP ? "MCP" : s == RT_RM ? "RM" : "TENANT";
}

static const char *const numbers[] = { "in_progress", "arrivals_this_hour", "arrivals_today",
				       "peak_today", "peak_today_at" };

static int64_t number(const rt_stat_t *s, int i)
{
	switch (i) {
	case 0: return s->in_progress;
	case 1: return s->arrivals_this_hour;
	case 2: return s->arrivals_today;
	default: return s->peak_today;
	}
}

static char *render_json(const rt_stat_t *v, size_t n, bool comp, size_t *len)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	char *out = NULL, at[32];

	if (!root || !(arr = cJSON_AddArrayToObject(root, comp ? "components" : "tenants")))
		goto out;
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(arr, o))
			goto out;
		if (comp) {
			cJSON_AddStringToObject(o, "type", scope_name(v[i].scope));
			cJSON_AddStringToObject(o, "id", v[i].name);
		} else {
			cJSON_AddStringToObject(o, "tenant", v[i].name);
		}
		for (int k = 0; k < 4; k++)
			cJSON_AddNumberToObject(o, numbers[k], (double)number(&v[i], k));
		rt_format_time(v[i].peak_today_at, at, sizeof at);
		cJSON_AddStringToObject(o, numbers[4], at);
	}
	out = cJSON_PrintUnformatted(root);
	if (out)
		*len = strlen(out);
out:
	cJSON_Delete(root);
	return out;
}

static void render_csv(struct sbuf *b, const rt_stat_t *v, size_t n, bool comp)
{
	char at[32];
	sb_printf(b, "%s", comp ? "type,id" : "tenant");
	for (int k = 0; k < 5; k++)
		sb_printf(b, ",%s", numbers[k]);
	sb_add(b, "\r\n", 2);
	for (size_t i = 0; i < n; i++) {
		if (comp)
			sb_printf(b, "%s,", scope_name(v[i].scope));
		csv_field(b, v[i].name);
		for (int k = 0; k < 4; k++)
			sb_printf(b, ",%lld", (long long)number(&v[i], k));
		rt_format_time(v[i].peak_today_at, at, sizeof at);
		sb_printf(b, ",%s\r\n", at);
	}
}

static void render_xml(struct sbuf *b, const rt_stat_t *v, size_t n, bool comp)
{
	char at[32];
	sb_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%s>",
		  comp ? "components" : "tenants");
	for (size_t i = 0; i < n; i++) {
		if (comp) {
			sb_printf(b, "<component type=\"%s\" id=\"", scope_name(v[i].scope));
		} else {
			sb_printf(b, "<tenant name=\"");
		}
		xml_text(b, v[i].name);
		sb_add(b, "\">", 2);
		for (int k = 0; k < 4; k++)
			sb_printf(b, "<%s>%lld</%s>", numbers[k], (long long)number(&v[i], k),
				  numbers[k]);
		rt_format_time(v[i].peak_today_at, at, sizeof at);
		sb_printf(b, "<%s>%s</%s></%s>", numbers[4], at, numbers[4],
			  comp ? "component" : "tenant");
	}
	sb_printf(b, "</%s>\n", comp ? "components" : "tenants");
}

static char *render(const rt_stat_t *v, size_t n, enum rt_fmt f, bool comp, size_t *len)
{
	struct sbuf b = { .ok = true };

	if (f == RT_FMT_JSON)
		return render_json(v, n, comp, len);
	if (f == RT_FMT_CSV)
		render_csv(&b, v, n, comp);
	else
		render_xml(&b, v, n, comp);
	if (!b.ok) {
		free(b.p);
		return NULL;
	}
	*len = b.n;
	return b.p;
}

char *rt_format_tenants(const rt_stat_t *v, size_t n, enum rt_fmt f, size_t *len)
{
	return render(v, n, f, false, len);
}

char *rt_format_components(const rt_stat_t *v, size_t n, enum rt_fmt f, size_t *len)
{
	return render(v, n, f, true, len);
}
