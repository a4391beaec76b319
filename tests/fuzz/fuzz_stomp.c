/*
 * libFuzzer target for the STOMP parser and encoder.
 *
 * The first input byte picks how the rest is split into feeds (1..64 bytes, or a
 * varying size when it is 0), so every split of the same stream gets explored. Every
 * frame that parses is encoded again with stomp_encode and re-parsed; the second
 * parse must give the same command, headers and body.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stomp.h"

/* CONNECT/CONNECTED headers are not escaped, so a CR or LF left in them (e.g. a value
 * ending in CR before CR LF) cannot be encoded faithfully; skip those. */
static int fuzz_encodable(const stomp_frame_t *f)
{
	if (f->command == STOMP_CMD_UNKNOWN)
		return 0;
	if (f->command != STOMP_CMD_CONNECT && f->command != STOMP_CMD_CONNECTED)
		return 1;
	for (size_t i = 0; i < f->nheaders; i++)
		if (strpbrk(f->headers[i].name, "\r\n") || strpbrk(f->headers[i].value, "\r\n"))
			return 0;
	return 1;
}

static void fuzz_roundtrip(const stomp_frame_t *f)
{
	stomp_limits_t big = { 16 * 1024 * 1024, 1024, 1024 * 1024 };
	size_t n = stomp_encode(NULL, 0, f->command, f->headers, f->nheaders, f->body,
				f->body_len);
	char *buf = malloc(n + 1);
	stomp_parser_t *p = stomp_parser_new(&big);
	stomp_frame_t g;
	size_t used;
	char err[256];

	if (!buf || !p)
		abort();
	if (stomp_encode(buf, n + 1, f->command, f->headers, f->nheaders, f->body,
			 f->body_len) != n)
		abort();
	if (stomp_parser_feed(p, buf, n, &used, &g, NULL, err, sizeof(err)) != STOMP_FRAME) {
		fprintf(stderr, "re-parse failed: %s\n", err);
		abort();
	}
	if (used != n || g.command != f->command || g.body_len != f->body_len ||
	    memcmp(g.body, f->body, f->body_len) != 0 || g.nheaders < f->nheaders ||
	    g.nheaders > f->nheaders + 1)
		abort();
	for (size_t i = 0; i < f->nheaders; i++)
		if (strcmp(g.headers[i].name, f->headers[i].name) ||
		    strcmp(g.headers[i].value, f->headers[i].value))
			abort();
	stomp_parser_free(p);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	stomp_limits_t lim = { 4096, 16, 256 }; /* small, so limits get hit too */
	stomp_parser_t *p;
	size_t off = 1, step;
	unsigned hb = 0;
	char err[256];

	if (size < 1)
		return 0;
	p = stomp_parser_new(&lim);
	if (!p)
		abort();
	step = data[0] % 64;
	while (off < size) {
		size_t n = step ? step : 1 + (off * 7 + data[off]) % 97;
		size_t pos = 0, used;
		stomp_frame_t f;
		enum stomp_status st;

		if (n > size - off)
			n = size - off;
		while ((st = stomp_parser_feed(p, (const char *)data + off + pos, n - pos, &used,
					       &f, &hb, err, sizeof(err))) == STOMP_FRAME) {
			if (used > n - pos || f.body[f.body_len] != '\0')
				abort();
			if (fuzz_encodable(&f))
				fuzz_roundtrip(&f);
			pos += used;
		}
		if (st == STOMP_ERROR) {
			if (!err[0])
				abort();
			break;
		}
		off += n;
	}
	stomp_parser_free(p);
	return 0;
}
