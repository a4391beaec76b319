/* tz: TZif zone files -> UTC offsets (see tz.h). */
#include "tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tz {
	char name[128];
	int n;          /* transitions */
	int64_t *when;  /* UTC seconds, ascending */
	int32_t *off;   /* offset in effect from when[i] */
	int32_t off0;   /* before the first transition */
};

int tz_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= 128 || name[0] == '/' || strstr(name, ".."))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '+' || c == '/' || c == ' '))
			return 0;
	}
	return 1;
}

static int64_t be(const unsigned char *p, int len)
{
	uint64_t v = 0;
	for (int i = 0; i < len; i++)
		v = v << 8 | p[i];
	if (len == 4)
		return (int32_t)(uint32_t)v;
	return (int64_t)v;
}

/* Parse the TZif data of len bytes into z. 0 / -1. */
static int parse(tz_t *z, const unsigned char *d, size_t len)
{
	size_t pos = 0;
	int tsize = 4;

	for (int block = 0; block < 2; block++) {
		if (len - pos < 44 || memcmp(d + pos, "TZif", 4))
			return -1;
		const unsigned char *h = d + pos;
		int version = h[4];
		int64_t isut = be(h + 20, 4), isstd = be(h + 24, 4), leap = be(h + 28, 4),
			timecnt = be(h + 32, 4), typecnt = be(h + 36, 4), charcnt = be(h + 40, 4);
		if (isut < 0 || isstd < 0 || leap < 0 || timecnt < 0 || typecnt <= 0 ||
		    charcnt < 0 || timecnt > 100000 || typecnt > 256)
			return -1;
		size_t body = (size_t)(timecnt * tsize + timecnt + typecnt * 6 + charcnt +
				       leap * (tsize + 4) + isstd + isut);
		pos += 44;
		if (len - pos < body)
			return -1;
		if (block == 0 && version >= '2') {
			/* Skip the 32-bit data: the 64-bit block follows. */
			pos += body;
			tsize = 8;
			continue;
		}
		const unsigned char *t = d + pos, *idx = t + timecnt * tsize,
				    *types = idx + timecnt;
		z->when = malloc(sizeof(int64_t) * (size_t)(timecnt ? timecnt : 1));
		z->off = malloc(sizeof(int32_t) * (size_t)(timecnt ? timecnt : 1));
		if (!z->when || !z->off)
			return -1;
		for (int64_t i = 0; i < timecnt; i++) {
			int ti = idx[i];
			if (ti >= typecnt)
				return -1;
			z->when[i] = be(t + i * tsize, tsize);
			z->off[i] = (int32_t)be(types + ti * 6, 4);
		}
		z->n = (int)timecnt;
		z->off0 = (int32_t)be(types, 4);
		return 0;
	}
	return -1;
}

tz_t *tz_load(const char *name, char *err, size_t errlen)
{
	tz_t *z = calloc(1, sizeof(*z));
	const char *dir = getenv("TZDIR");
	char path[512];
	unsigned char *buf = NULL;
	FILE *f = NULL;
	long len;

	if (!z)
		goto oom;
	if (!tz_name_ok(name)) {
		snprintf(err, errlen, "unknown time zone \"%.64s\" (expected an IANA name such"
			 " as Europe/Paris)", name);
		goto fail;
	}
	snprintf(z->name, sizeof(z->name), "%s", name);
	/* "?tz=Etc/GMT+7" typed unencoded reaches us as "Etc/GMT 7" (a query's '+' is a
	 * space); no IANA name has a space, so it can only have been a '+' */
	for (char *c = z->name; *c; c++)
		if (*c == ' ')
			*c = '+';
	name = z->name;
	if (!strcmp(name, "UTC") || !strcmp(name, "Z") || !strcmp(name, "Etc/UTC"))
		return z;
	snprintf(path, sizeof(path), "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo",
		 name);
	if (!(f = fopen(path, "rb")) || fseek(f, 0, SEEK_END) || (len = ftell(f)) <= 0 ||
	    len > (1 << 20) || fseek(f, 0, SEEK_SET)) {
		snprintf(err, errlen, "unknown time zone \"%.64s\"", name);
		goto fail;
	}
	if (!(buf = malloc((size_t)len)))
		goto oom;
	if (fread(buf, 1, (size_t)len, f) != (size_t)len || parse(z, buf, (size_t)len)) {
		snprintf(err, errlen, "time zone \"%.64s\": not a zone file", name);
		goto fail;
	}
	fclose(f);
	free(buf);
	return z;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	if (f)
		fclose(f);
	free(buf);
	tz_free(z);
	return NULL;
}

void tz_free(tz_t *z)
{
	if (!z)
		return;
	free(z->when);
	free(z->off);
	free(z);
}

const char *tz_name(const tz_t *z)
{
	return z->name;
}

int32_t tz_offset(const tz_t *z, int64_t t)
{
	int lo = 0, hi = z->n; /* first transition > t */
	if (z->n == 0 || t < z->when[0])
		return z->off0;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (z->when[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return z->off[lo - 1];
}

int64_t tz_to_utc(const tz_t *z, int64_t local)
{
	int64_t u1 = local - tz_offset(z, local);
	int64_t u2 = local - tz_offset(z, u1);
	/* Overlap: prefer the earlier reading when both map back to local. */
	if (u1 != u2 && u1 + tz_offset(z, u1) == local && u1 < u2)
		return u1;
	if (u2 + tz_offset(z, u2) == local)
		return u2;
	/* A gap: local does not exist; the jump happens at u1 or u2, the later. */
	return u1 > u2 ? u1 : u2;
}
