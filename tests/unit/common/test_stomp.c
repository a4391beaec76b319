/* Unit tests for common/stomp.c: the incremental parser, escapes, limits, encoder
 * and heart-beat negotiation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stomp.h"

/* A parsed frame copied out of the parser (its pointers die at the next feed). */
struct snap {
	enum stomp_command cmd;
	char name[32];
	size_t nh;
	char hn[8][64];
	char hv[8][64];
	char *body;
	size_t body_len;
};

struct run {
	struct snap f[8];
	size_t nframes;
	unsigned hb;
	enum stomp_status last;
	char err[160];
};

static void snap_frame(struct snap *s, const stomp_frame_t *f)
{
	s->cmd = f->command;
	snprintf(s->name, sizeof(s->name), "%s", f->command_name);
	s->nh = f->nheaders;
	for (size_t i = 0; i < f->nheaders && i < 8; i++) {
		snprintf(s->hn[i], sizeof(s->hn[i]), "%s", f->headers[i].name);
		snprintf(s->hv[i], sizeof(s->hv[i]), "%s", f->headers[i].value);
	}
	s->body = malloc(f->body_len + 1);
	memcpy(s->body, f->body, f->body_len + 1); /* the NUL after the body included */
	s->body_len = f->body_len;
}

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->nframes; i++)
		free(r->f[i].body);
}

/* Feed data in pieces of `chunk` bytes, taking out every frame. */
static void run_feed(struct run *r, const stomp_limits_t *lim, const char *data, size_t len,
		     size_t chunk)
{
	stomp_parser_t *p = stomp_parser_new(lim);
	size_t off = 0;

	assert_non_null(p);
	memset(r, 0, sizeof(*r));
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;
		size_t pos = 0, used = 0;
		stomp_frame_t f;

		for (;;) {
			r->last = stomp_parser_feed(p, data + off + pos, n - pos, &used, &f,
						    &r->hb, r->err, sizeof(r->err));
			assert_true(used <= n - pos);
			if (r->last != STOMP_FRAME)
				break;
			assert_true(r->nframes < 8);
			snap_frame(&r->f[r->nframes++], &f);
			pos += used;
		}
		if (r->last == STOMP_ERROR)
			break;
		assert_int_equal(used, n - pos);
		off += n;
	}
	stomp_parser_free(p);
}

static void test_simple_send(void **state)
{
	static const char in[] = "SEND\ndestination:/queue/gvp.cdr\nreceipt:r-1\n"
				 "content-type:application/json\n\n{\"a\":1}";
	struct run r;

	run_feed(&r, NULL, in, sizeof(in), sizeof(in)); /* sizeof includes the NUL */
	assert_int_equal(r.last, STOMP_AGAIN);
	assert_int_equal(r.nframes, 1);
	assert_int_equal(r.f[0].cmd, STOMP_CMD_SEND);
	assert_string_equal(r.f[0].name, "SEND");
	assert_int_equal(r.f[0].nh, 3);
	assert_string_equal(r.f[0].hn[0], "destination");
	assert_string_equal(r.f[0].hv[0], "/queue/gvp.cdr");
	assert_string_equal(r.f[0].hn[2], "content-type");
	assert_string_equal(r.f[0].hv[2], "application/json");
	assert_int_equal(r.f[0].body_len, 7);
	assert_string_equal(r.f[0].body, "{\"a\":1}");
	run_free(&r);
}

/* A stream with most features at once: heart-beats, CRLF lines, escapes, a body with
 * NULs, a NUL-terminated body, a frame with no headers. */
static const char stream[] =
	"\n\r\n"
	"CONNECT\r\naccept-version:1.2\r\nhost:a\\cb\r\n\r\n\0"
	"\n"
	"SEND\ndestination:/q\\c1\nx\\\\y:a\\nb\\rc\ncontent-length:5\n\nA\0B\0C\0"
	"\r\n\n"
	"MESSAGE\nsubscription:0\n\nplain body\0"
	"DISCONNECT\n\n\0";

static void check_stream(struct run *r)
{
	assert_int_equal(r->last, STOMP_AGAIN);
	assert_int_equal(r->hb, 5); /* \n \r\n | \n | \r\n \n */
	assert_int_equal(r->nframes, 4);
	/* CONNECT: no unescaping. */
	assert_int_equal(r->f[0].cmd, STOMP_CMD_CONNECT);
	assert_string_equal(r->f[0].hv[0], "1.2");
	assert_string_equal(r->f[0].hv[1], "a\\cb");
	assert_int_equal(r->f[0].body_len, 0);
	/* SEND: escapes in names and values, NULs in the body. */
	assert_int_equal(r->f[1].cmd, STOMP_CMD_SEND);
	assert_int_equal(r->f[1].nh, 3);
	assert_string_equal(r->f[1].hv[0], "/q:1");
	assert_string_equal(r->f[1].hn[1], "x\\y");
	assert_string_equal(r->f[1].hv[1], "a\nb\rc");
	assert_int_equal(r->f[1].body_len, 5);
	assert_memory_equal(r->f[1].body, "A\0B\0C", 6);
	assert_int_equal(r->f[2].cmd, STOMP_CMD_MESSAGE);
	assert_int_equal(r->f[2].body_len, 10);
	assert_string_equal(r->f[2].body, "plain body");
	assert_int_equal(r->f[3].cmd, STOMP_CMD_DISCONNECT);
	assert_int_equal(r->f[3].nh, 0);
	assert_int_equal(r->f[3].body_len, 0);
}

static void test_every_split(void **state)
{
	size_t len = sizeof(stream) - 1; /* the literal's own NUL is not part of it */

	for (size_t chunk = 1; chunk <= len; chunk++) {
		struct run r;

		run_feed(&r, NULL, stream, len, chunk);
		check_stream(&r);
		run_free(&r);
	}
}

/* Two-piece splits at every offset, the other common shape of TCP reads. */
static void test_every_cut(void **state)
{
	size_t len = sizeof(stream) - 1;

	for (size_t cut = 0; cut <= len; cut++) {
		stomp_parser_t *p = stomp_parser_new(NULL);
		struct run r;
		size_t off[2] = { 0, cut }, n[2] = { cut, len - cut };

		memset(&r, 0, sizeof(r));
		for (int k = 0; k < 2; k++) {
			size_t pos = 0, used;
			stomp_frame_t f;

			while ((r.last = stomp_parser_feed(p, stream + off[k] + pos, n[k] - pos,
							   &used, &f, &r.hb, r.err,
							   sizeof(r.err))) == STOMP_FRAME) {
				snap_frame(&r.f[r.nframes++], &f);
				pos += used;
			}
		}
		check_stream(&r);
		run_free(&r);
		stomp_parser_free(p);
	}
}

static void test_repeated_header_first_wins(void **state)
{
	static const char in[] = "MESSAGE\nfoo:1\nfoo:2\n\n";
	stomp_parser_t *p = stomp_parser_new(NULL);
	stomp_frame_t f;
	size_t used;
	char err[128];

	assert_int_equal(stomp_parser_feed(p, in, sizeof(in), &used, &f, NULL, err,
					   sizeof(err)),
			 STOMP_FRAME);
	assert_int_equal(used, sizeof(in));
	assert_int_equal(f.nheaders, 2);
	assert_string_equal(stomp_frame_header(&f, "foo"), "1");
	assert_string_equal(f.headers[1].value, "2");
	assert_null(stomp_frame_header(&f, "bar"));
	stomp_parser_free(p);
}

/* The first content-length wins too; a later bogus one is just a header. */
static void test_first_content_length_wins(void **state)
{
	static const char in[] = "SEND\ncontent-length:2\ncontent-length:x\n\nab\0";
	struct run r;

	run_feed(&r, NULL, in, sizeof(in) - 1, 1);
	assert_int_equal(r.last, STOMP_AGAIN);
	assert_int_equal(r.nframes, 1);
	assert_int_equal(r.f[0].body_len, 2);
	run_free(&r);
}

static void test_unknown_command_and_colon_in_value(void **state)
{
	static const char in[] = "FROB\nurl:http://x\n\n\0";
	struct run r;

	run_feed(&r, NULL, in, sizeof(in) - 1, 3);
	assert_int_equal(r.nframes, 1);
	assert_int_equal(r.f[0].cmd, STOMP_CMD_UNKNOWN);
	assert_string_equal(r.f[0].name, "FROB");
	/* Split at the first colon; a raw colon in a value is tolerated. */
	assert_string_equal(r.f[0].hv[0], "http://x");
	run_free(&r);
}

/* Feed `in` in one piece and expect STOMP_ERROR with exactly `want`. */
static void expect_error(const stomp_limits_t *lim, const char *in, size_t len,
			 const char *want)
{
	for (size_t chunk = 1; chunk <= len; chunk += (chunk < 8 ? 1 : len)) {
		struct run r;

		run_feed(&r, lim, in, len, chunk);
		assert_int_equal(r.last, STOMP_ERROR);
		assert_string_equal(r.err, want);
		run_free(&r);
	}
}

static void test_errors(void **state)
{
#define S(x) x, sizeof(x) - 1
	expect_error(NULL, S("SEND\ncontent-length:3\n\nabcd\0"),
		     "content-length 3 but no NUL after the body");
	expect_error(NULL, S("SEND\ncontent-length:-1\n\n\0"),
		     "invalid content-length \"-1\"");
	expect_error(NULL, S("SEND\ncontent-length:\n\n\0"), "invalid content-length \"\"");
	expect_error(NULL, S("SEND\ncontent-length:99999999999999999999999\n\n\0"),
		     "invalid content-length \"99999999999999999999999\"");
	expect_error(NULL, S("SEND\nnocolon\n\n\0"), "header line without ':' (\"nocolon\")");
	expect_error(NULL, S("SEND\n:v\n\n\0"), "header with an empty name");
	expect_error(NULL, S("SEND\nk:a\\tb\n\n\0"),
		     "undefined escape sequence in header \"k\" value");
	expect_error(NULL, S("SEND\nk:ab\\\n\n\0"),
		     "undefined escape sequence in header \"k\" value");
	expect_error(NULL, S("SEND\nk\\x:v\n\n\0"),
		     "undefined escape sequence in header name \"k\\x\"");
	expect_error(NULL, S("\rX"), "CR not followed by LF between frames");
	expect_error(NULL, S("SEND\n\0\0:rs\n\n\0"), "NUL byte in the header line");
	expect_error(NULL, S("SEND\nk:v\0w\n\n\0"), "NUL byte in the header line");
	expect_error(NULL, S("SE\0ND\n\n\0"), "NUL byte in the command line");
#undef S
}

static void test_limits(void **state)
{
	stomp_limits_t lim = { .max_frame_size = 64, .max_headers = 2, .max_header_line = 20 };
	char big[256];

	expect_error(&lim, "SEND\na:1\nb:2\nc:3\n\n", 18, "too many headers (limit 2)");
	expect_error(&lim, "SEND\nk:0123456789abcdefghi\n\n", 27,
		     "header line too long (limit 20 bytes)");
	expect_error(&lim, "SENDSENDSENDSENDSENDSEND\n", 25,
		     "command line too long (limit 20 bytes)");
	expect_error(&lim, "SEND\ncontent-length:60\n\n", 24,
		     "content-length 60 exceeds the frame size limit (64 bytes)");
	memset(big, 'x', sizeof(big));
	memcpy(big, "SEND\n\n", 6);
	expect_error(&lim, big, sizeof(big), "frame too large (limit 64 bytes)");

	/* Exactly at the limits is fine: a 20-byte line, 2 headers, a 64-byte frame. */
	static const char ok[] = "SEND\nk:0123456789abcdefgh\ncontent-length:19\n\n"
				 "0123456789abcdefgh\n";
	struct run r;
	assert_int_equal(sizeof(ok) - 1, 64);
	run_feed(&r, &lim, ok, sizeof(ok), 1); /* with the final NUL */
	assert_int_equal(r.last, STOMP_AGAIN);
	assert_int_equal(r.nframes, 1);
	assert_int_equal(r.f[0].body_len, 19);
	run_free(&r);
	/* An oversized line is refused before it ends (no unbounded buffering). */
	run_feed(&r, &lim, "SEND\nkkkkkkkkkkkkkkkkkkkkkkkk", 29, 29);
	assert_int_equal(r.last, STOMP_ERROR);
	run_free(&r);
}

static void test_dead_parser_stays_dead(void **state)
{
	stomp_parser_t *p = stomp_parser_new(NULL);
	stomp_frame_t f;
	size_t used;
	char err[128];

	assert_int_equal(stomp_parser_feed(p, "SEND\nbad\n", 9, &used, &f, NULL, err,
					   sizeof(err)),
			 STOMP_ERROR);
	err[0] = '\0';
	assert_int_equal(stomp_parser_feed(p, "SEND\n\n\0", 7, &used, &f, NULL, err,
					   sizeof(err)),
			 STOMP_ERROR);
	assert_string_equal(err, "header line without ':' (\"bad\")");
	stomp_parser_free(p);
}

static void test_heartbeats_only(void **state)
{
	stomp_parser_t *p = stomp_parser_new(NULL);
	stomp_frame_t f;
	size_t used;
	unsigned hb = 0;
	char err[64];

	assert_int_equal(stomp_parser_feed(p, "\n\n\r", 3, &used, &f, &hb, err, sizeof(err)),
			 STOMP_AGAIN);
	assert_int_equal(used, 3);
	assert_int_equal(hb, 2);
	assert_int_equal(stomp_parser_feed(p, "\n", 1, &used, &f, &hb, err, sizeof(err)),
			 STOMP_AGAIN);
	assert_int_equal(hb, 3);
	assert_int_equal(stomp_parser_feed(p, "", 0, &used, &f, NULL, err, sizeof(err)),
			 STOMP_AGAIN);
	assert_int_equal(used, 0);
	stomp_parser_free(p);
}

/* A 1 MiB body fed one byte at a time must take linear time: a quadratic parser
 * would copy ~5*10^11 bytes here and never finish within the bound. */
static void test_large_body_in_tiny_pieces(void **state)
{
	const size_t blen = 1000 * 1000;
	stomp_limits_t lim;
	char hdr[64];
	int hl = snprintf(hdr, sizeof(hdr), "SEND\ncontent-length:%zu\n\n", blen);
	size_t total = (size_t)hl + blen + 1;
	char *in = malloc(total);
	stomp_parser_t *p;
	stomp_frame_t f;
	size_t used, i;
	char err[128];
	int frames = 0;
	struct timespec t0, t1;

	stomp_limits_default(&lim);
	p = stomp_parser_new(&lim);
	memcpy(in, hdr, (size_t)hl);
	for (i = 0; i < blen; i++)
		in[hl + i] = (char)(i * 7);
	in[total - 1] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int pass = 0; pass < 2; pass++) {
		/* pass 0: 1-byte feeds with content-length; pass 1: 3-byte feeds of a body
		 * that ends at its NUL (no content-length). */
		size_t step = pass ? 3 : 1;
		const char *data = in;
		size_t dlen = total;
		char *in2 = NULL;

		if (pass) {
			in2 = malloc(blen + 8);
			memcpy(in2, "SEND\n\n", 6);
			memset(in2 + 6, 'b', blen);
			in2[6 + blen] = '\0';
			data = in2;
			dlen = blen + 7;
		}
		for (i = 0; i < dlen; i += step) {
			size_t n = dlen - i < step ? dlen - i : step;
			enum stomp_status st = stomp_parser_feed(p, data + i, n, &used, &f, NULL,
								 err, sizeof(err));

			assert_int_not_equal(st, STOMP_ERROR);
			if (st == STOMP_FRAME) {
				frames++;
				assert_int_equal(f.body_len, blen);
				if (!pass)
					assert_memory_equal(f.body, in + hl, blen);
				assert_int_equal(used, n);
			}
		}
		free(in2);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(frames, 2);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(secs < 5.0);
	stomp_parser_free(p);
	free(in);
}

static void test_escape_unescape(void **state)
{
	char out[64], s[64];
	size_t n;

	n = stomp_escape(out, sizeof(out), "a:b\\c\nd\re", 9);
	assert_int_equal(n, 13);
	assert_string_equal(out, "a\\cb\\\\c\\nd\\re");
	/* Too small: returns the full length and stays inside cap. */
	memset(out, 'Z', sizeof(out));
	assert_int_equal(stomp_escape(out, 4, "a:b:", 4), 6);
	assert_memory_equal(out, "a\\cb", 4);
	assert_int_equal(out[4], 'Z');

	strcpy(s, "a\\cb\\\\c\\nd\\re");
	n = strlen(s);
	assert_int_equal(stomp_unescape(s, &n), 0);
	assert_int_equal(n, 9);
	assert_string_equal(s, "a:b\\c\nd\re");
	strcpy(s, "plain");
	n = 5;
	assert_int_equal(stomp_unescape(s, &n), 0);
	assert_int_equal(n, 5);
	strcpy(s, "bad\\t");
	n = 5;
	assert_int_equal(stomp_unescape(s, &n), -1);
	strcpy(s, "bad\\");
	n = 4;
	assert_int_equal(stomp_unescape(s, &n), -1);
}

static void test_encode_exact(void **state)
{
	stomp_header_t h[] = { { "destination", "/queue/a:b" }, { "x\ny", "v\\w" } };
	char out[256];
	static const char want[] = "SEND\ndestination:/queue/a\\cb\nx\\ny:v\\\\w\n"
				   "content-length:3\n\nA\0B\0";
	size_t n = stomp_encode(out, sizeof(out), STOMP_CMD_SEND, h, 2, "A\0B", 3);

	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(out, want, n);

	/* CONNECT: no escaping; no body means no content-length. */
	stomp_header_t c[] = { { "login", "a:b" } };
	static const char wantc[] = "CONNECT\nlogin:a:b\n\n\0";
	n = stomp_encode(out, sizeof(out), STOMP_CMD_CONNECT, c, 1, NULL, 0);
	assert_int_equal(n, sizeof(wantc) - 1);
	assert_memory_equal(out, wantc, n);

	/* Caller's content-length is not duplicated. */
	stomp_header_t l[] = { { "content-length", "2" } };
	static const char wantl[] = "SEND\ncontent-length:2\n\nhi\0";
	n = stomp_encode(out, sizeof(out), STOMP_CMD_SEND, l, 1, "hi", 2);
	assert_int_equal(n, sizeof(wantl) - 1);
	assert_memory_equal(out, wantl, n);

	/* Too small: snprintf-style length, nothing written past cap. */
	memset(out, 'Z', sizeof(out));
	n = stomp_encode(out, 10, STOMP_CMD_SEND, h, 2, "A\0B", 3);
	assert_int_equal(n, sizeof(want) - 1);
	assert_int_equal(out[10], 'Z');
	assert_int_equal(stomp_encode(NULL, 0, STOMP_CMD_SEND, h, 2, "A\0B", 3),
			 sizeof(want) - 1);
}

static void test_encode_parse_roundtrip(void **state)
{
	stomp_header_t h[] = { { "destination", "/queue/gvp.cdr" },
			       { "weird:name\\", "line1\nline2\r:" },
			       { "receipt", "42" } };
	char body[300];
	char out[1024];
	struct run r;

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (char)i; /* NULs and every byte value */
	for (int cmd = STOMP_CMD_CONNECT; cmd <= STOMP_CMD_ERROR; cmd++) {
		int esc = cmd != STOMP_CMD_CONNECT && cmd != STOMP_CMD_CONNECTED;
		size_t nh = esc ? 3 : 1;
		size_t n = stomp_encode(out, sizeof(out), (enum stomp_command)cmd, h, nh, body,
					sizeof(body));

		assert_true(n < sizeof(out));
		run_feed(&r, NULL, out, n, 5);
		assert_int_equal(r.last, STOMP_AGAIN);
		assert_int_equal(r.nframes, 1);
		assert_int_equal(r.f[0].cmd, cmd);
		assert_string_equal(r.f[0].name, stomp_command_name((enum stomp_command)cmd));
		assert_int_equal(r.f[0].nh, nh + 1); /* + content-length */
		for (size_t i = 0; i < nh; i++) {
			assert_string_equal(r.f[0].hn[i], h[i].name);
			assert_string_equal(r.f[0].hv[i], h[i].value);
		}
		assert_string_equal(r.f[0].hn[nh], "content-length");
		assert_string_equal(r.f[0].hv[nh], "300");
		assert_int_equal(r.f[0].body_len, sizeof(body));
		assert_memory_equal(r.f[0].body, body, sizeof(body));
		run_free(&r);
	}
}

static void test_command_names(void **state)
{
	assert_int_equal(stomp_command_parse("SEND", 4), STOMP_CMD_SEND);
	assert_int_equal(stomp_command_parse("SENDX", 4), STOMP_CMD_SEND);
	assert_int_equal(stomp_command_parse("SEN", 3), STOMP_CMD_UNKNOWN);
	assert_int_equal(stomp_command_parse("send", 4), STOMP_CMD_UNKNOWN);
	assert_int_equal(stomp_command_parse("CONNECTED", 9), STOMP_CMD_CONNECTED);
	assert_int_equal(stomp_command_parse("", 0), STOMP_CMD_UNKNOWN);
	assert_string_equal(stomp_command_name(STOMP_CMD_RECEIPT), "RECEIPT");
	assert_string_equal(stomp_command_name((enum stomp_command)999), "UNKNOWN");
	for (int c = STOMP_CMD_CONNECT; c <= STOMP_CMD_ERROR; c++) {
		const char *n = stomp_command_name((enum stomp_command)c);
		assert_int_equal(stomp_command_parse(n, strlen(n)), c);
	}
}

static void test_heartbeat_negotiate(void **state)
{
	unsigned s = 99, r = 99;

	/* No header from the peer: nothing either way. */
	assert_int_equal(stomp_heartbeat_negotiate(NULL, 1000, 1000, &s, &r), 0);
	assert_int_equal(s, 0);
	assert_int_equal(r, 0);
	assert_int_equal(stomp_heartbeat_negotiate("", 1000, 1000, &s, &r), 0);
	assert_int_equal(s + r, 0);
	/* Spec example shape: max of the two sides each way. */
	assert_int_equal(stomp_heartbeat_negotiate("4000,10000", 5000, 2000, &s, &r), 0);
	assert_int_equal(s, 10000); /* max(my cx 5000, peer cy 10000) */
	assert_int_equal(r, 4000);  /* max(my cy 2000, peer cx 4000) */
	assert_int_equal(stomp_heartbeat_negotiate("100,100", 5000, 2000, &s, &r), 0);
	assert_int_equal(s, 5000);
	assert_int_equal(r, 2000);
	/* A zero on either side switches that direction off. */
	assert_int_equal(stomp_heartbeat_negotiate("0,1000", 5000, 2000, &s, &r), 0);
	assert_int_equal(s, 5000);
	assert_int_equal(r, 0);
	assert_int_equal(stomp_heartbeat_negotiate("1000,0", 5000, 2000, &s, &r), 0);
	assert_int_equal(s, 0);
	assert_int_equal(r, 2000);
	assert_int_equal(stomp_heartbeat_negotiate("1000,1000", 0, 0, &s, &r), 0);
	assert_int_equal(s + r, 0);
	assert_int_equal(stomp_heartbeat_negotiate("4294967295,1", 1, 1, &s, &r), 0);
	assert_int_equal(r, 4294967295u);
	/* Malformed. */
	const char *bad[] = { "abc", "1", "1,", ",1", "1,2,3", " 1,2", "1, 2", "-1,2",
			      "4294967296,0", "1,2 " };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(stomp_heartbeat_negotiate(bad[i], 1, 1, &s, &r), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_send),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_every_cut),
		cmocka_unit_test(test_repeated_header_first_wins),
		cmocka_unit_test(test_first_content_length_wins),
		cmocka_unit_test(test_unknown_command_and_colon_in_value),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_dead_parser_stays_dead),
		cmocka_unit_test(test_heartbeats_only),
		cmocka_unit_test(test_large_body_in_tiny_pieces),
		cmocka_unit_test(test_escape_unescape),
		cmocka_unit_test(test_encode_exact),
		cmocka_unit_test(test_encode_parse_roundtrip),
		cmocka_unit_test(test_command_names),
		cmocka_unit_test(test_heartbeat_negotiate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
