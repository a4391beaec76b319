/*
 * stomp: STOMP 1.2 frame codec (see stomp.h for the contract).
 *
 * The parser is a byte-driven state machine over one growable buffer that it keeps
 * across frames. Every byte of a frame is appended to that buffer exactly once
 * (memchr finds line ends and body terminators, memcpy moves the rest), so the cost
 * is linear in the input however it is split. Header lines are split and unescaped in
 * place; headers are remembered as offsets because the buffer may move while it
 * grows, and turned into pointers only when the frame is complete.
 */
#include "stomp.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Buffers above this size are released after the frame that needed them. */
#define STOMP_KEEP_BUF (256 * 1024)

enum stomp_state {
	ST_IDLE,      /* between frames: heart-beat EOLs or the first command byte */
	ST_IDLE_CR,   /* saw CR between frames, LF must follow */
	ST_COMMAND,   /* inside the command line */
	ST_HEADERS,   /* inside a header line (or the blank line ending them) */
	ST_BODY_LEN,  /* copying content-length bytes of body */
	ST_BODY_NUL,  /* copying body up to the first NUL */
	ST_TRAILER,   /* content-length body done, NUL must follow */
	ST_DEAD,      /* a protocol error happened */
};

struct stomp_hoff {
	size_t name;
	size_t value;
};

struct stomp_parser {
	stomp_limits_t lim;
	enum stomp_state state;
	int ready;   /* a frame was handed out; reset at the next feed */
	char *buf;   /* raw frame bytes, split and unescaped in place */
	size_t len;
	size_t cap;
	size_t line_start;  /* offset of the current command/header line */
	size_t frame_bytes; /* raw bytes of this frame so far (without the final NUL) */
	size_t cmd_off;
	enum stomp_command cmd;
	int escaped;        /* headers of this frame use escapes */
	struct stomp_hoff *hoff;
	stomp_header_t *hdrs;
	size_t nh;
	size_t hcap;
	int have_clen;
	size_t clen;
	size_t body_start;
	char errmsg[160];
};

static const char *const stomp_names[] = {
	[STOMP_CMD_UNKNOWN] = "UNKNOWN",	 [STOMP_CMD_CONNECT] = "CONNECT",
	[STOMP_CMD_STOMP] = "STOMP",		 [STOMP_CMD_SEND] = "SEND",
	[STOMP_CMD_SUBSCRIBE] = "SUBSCRIBE",	 [STOMP_CMD_UNSUBSCRIBE] = "UNSUBSCRIBE",
	[STOMP_CMD_ACK] = "ACK",		 [STOMP_CMD_NACK] = "NACK",
	[STOMP_CMD_BEGIN] = "BEGIN",		 [STOMP_CMD_COMMIT] = "COMMIT",
	[STOMP_CMD_ABORT] = "ABORT",		 [STOMP_CMD_DISCONNECT] = "DISCONNECT",
	[STOMP_CMD_CONNECTED] = "CONNECTED",	 [STOMP_CMD_MESSAGE] = "MESSAGE",
	[STOMP_CMD_RECEIPT] = "RECEIPT",	 [STOMP_CMD_ERROR] = "ERROR",
};

#define STOMP_NCMDS (sizeof(stomp_names) / sizeof(stomp_names[0]))

enum stomp_command stomp_command_parse(const char *s, size_t len)
{
	for (size_t i = 1; i < STOMP_NCMDS; i++)
		if (strlen(stomp_names[i]) == len && memcmp(stomp_names[i], s, len) == 0)
			return (enum stomp_command)i;
	return STOMP_CMD_UNKNOWN;
}

const char *stomp_command_name(enum stomp_command cmd)
{
	if ((size_t)cmd >= STOMP_NCMDS)
		return stomp_names[STOMP_CMD_UNKNOWN];
	return stomp_names[cmd];
}

void stomp_limits_default(stomp_limits_t *l)
{
	l->max_frame_size = 1024 * 1024;
	l->max_headers = 64;
	l->max_header_line = 8 * 1024;
}

const char *stomp_frame_header(const stomp_frame_t *f, const char *name)
{
	for (size_t i = 0; i < f->nheaders; i++)
		if (strcmp(f->headers[i].name, name) == 0)
			return f->headers[i].value;
	return NULL;
}

/* CONNECT and CONNECTED keep STOMP 1.0 header syntax: no escapes (spec 1.2). */
static int stomp_cmd_escapes(enum stomp_command cmd)
{
	return cmd != STOMP_CMD_CONNECT && cmd != STOMP_CMD_CONNECTED;
}

stomp_parser_t *stomp_parser_new(const stomp_limits_t *limits)
{
	stomp_parser_t *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (limits)
		p->lim = *limits;
	else
		stomp_limits_default(&p->lim);
	/* A zero limit would make every frame fail; treat it as "use the default". */
	stomp_limits_t d;
	stomp_limits_default(&d);
	if (!p->lim.max_frame_size)
		p->lim.max_frame_size = d.max_frame_size;
	if (!p->lim.max_headers)
		p->lim.max_headers = d.max_headers;
	if (!p->lim.max_header_line)
		p->lim.max_header_line = d.max_header_line;
	p->state = ST_IDLE;
	return p;
}

void stomp_parser_free(stomp_parser_t *p)
{
	if (!p)
		return;
	free(p->buf);
	free(p->hoff);
	free(p->hdrs);
	free(p);
}

/* Mark the parser dead with a sentence; later feeds repeat it. Returns STOMP_ERROR. */
static enum stomp_status stomp_fail(stomp_parser_t *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static enum stomp_status stomp_fail(stomp_parser_t *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->errmsg, sizeof(p->errmsg), fmt, ap);
	va_end(ap);
	p->state = ST_DEAD;
	return STOMP_ERROR;
}

/* Make room for `need` more bytes plus a NUL. Growth doubles, so appends are
 * amortised O(1). 0 or -1 (out of memory). */
static int stomp_reserve(stomp_parser_t *p, size_t need)
{
	size_t want = p->len + need + 1;
	size_t ncap;
	char *nb;

	if (want <= p->cap)
		return 0;
	ncap = p->cap ? p->cap : 512;
	while (ncap < want)
		ncap *= 2;
	nb = realloc(p->buf, ncap);
	if (!nb)
		return -1;
	p->buf = nb;
	p->cap = ncap;
	return 0;
}

static int stomp_append(stomp_parser_t *p, const char *data, size_t n)
{
	if (stomp_reserve(p, n) < 0)
		return -1;
	memcpy(p->buf + p->len, data, n);
	p->len += n;
	return 0;
}

/* Forget the previous frame (its pointers die here) and shrink an oversized buffer. */
static void stomp_reset_frame(stomp_parser_t *p)
{
	p->ready = 0;
	p->len = 0;
	p->nh = 0;
	p->have_clen = 0;
	p->clen = 0;
	p->frame_bytes = 0;
	if (p->cap > STOMP_KEEP_BUF) {
		free(p->buf);
		p->buf = NULL;
		p->cap = 0;
	}
}

/* Strict decimal size: digits only, no sign, no overflow. 0 or -1. */
static int stomp_parse_size(const char *s, size_t *out)
{
	size_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (SIZE_MAX - 9) / 10)
			return -1;
		v = v * 10 + (size_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* One complete header line sits at buf[line_start..end) with buf[end] == NUL. Split
 * it at the first ':', unescape both halves in place and remember the offsets. */
static enum stomp_status stomp_header_line(stomp_parser_t *p, size_t end)
{
	char *line = p->buf + p->line_start;
	size_t llen = end - p->line_start;
	char *colon = memchr(line, ':', llen);
	size_t nlen, vlen;

	if (!colon)
		return stomp_fail(p, "header line without ':' (\"%.40s\")", line);
	if (colon == line)
		return stomp_fail(p, "header with an empty name");
	if (p->nh >= p->lim.max_headers)
		return stomp_fail(p, "too many headers (limit %zu)", p->lim.max_headers);
	*colon = '\0';
	nlen = (size_t)(colon - line);
	vlen = llen - nlen - 1;
	if (p->escaped) {
		if (stomp_unescape(line, &nlen) < 0) {
			line[nlen] = '\0';
			return stomp_fail(p, "undefined escape sequence in header name \"%.40s\"",
					  line);
		}
		if (stomp_unescape(colon + 1, &vlen) < 0)
			return stomp_fail(p,
					  "undefined escape sequence in header \"%.40s\" value",
					  line);
	}
	if (p->nh == p->hcap) {
		size_t ncap = p->hcap ? p->hcap * 2 : 16;
		struct stomp_hoff *nh;
		stomp_header_t *nhd;

		if (ncap > p->lim.max_headers)
			ncap = p->lim.max_headers;
		nh = realloc(p->hoff, ncap * sizeof(*nh));
		if (!nh)
			return stomp_fail(p, "out of memory");
		p->hoff = nh;
		nhd = realloc(p->hdrs, ncap * sizeof(*nhd));
		if (!nhd)
			return stomp_fail(p, "out of memory");
		p->hdrs = nhd;
		p->hcap = ncap;
	}
	p->hoff[p->nh].name = p->line_start;
	p->hoff[p->nh].value = (size_t)(colon + 1 - p->buf);
	p->nh++;
	if (!p->have_clen && strcmp(line, "content-length") == 0) {
		if (stomp_parse_size(colon + 1, &p->clen) < 0)
			return stomp_fail(p, "invalid content-length \"%.40s\"", colon + 1);
		p->have_clen = 1;
	}
	return STOMP_AGAIN;
}

/* The blank line ended the headers: choose how the body ends. */
static enum stomp_status stomp_headers_done(stomp_parser_t *p)
{
	p->body_start = p->len;
	if (!p->have_clen) {
		p->state = ST_BODY_NUL;
		return STOMP_AGAIN;
	}
	if (p->clen > p->lim.max_frame_size - p->frame_bytes)
		return stomp_fail(p, "content-length %zu exceeds the frame size limit (%zu bytes)",
				  p->clen, p->lim.max_frame_size);
	if (stomp_reserve(p, p->clen) < 0)
		return stomp_fail(p, "out of memory");
	p->state = p->clen ? ST_BODY_LEN : ST_TRAILER;
	return STOMP_AGAIN;
}

/* A line (command or header) ended with the LF now at buf[len - 1]. */
static enum stomp_status stomp_line_done(stomp_parser_t *p)
{
	size_t end = p->len - 1;

	if (end > p->line_start && p->buf[end - 1] == '\r')
		end--;
	p->buf[end] = '\0';
	if (p->state == ST_COMMAND) {
		p->cmd_off = p->line_start;
		p->cmd = stomp_command_parse(p->buf + p->line_start, end - p->line_start);
		p->escaped = stomp_cmd_escapes(p->cmd);
		p->state = ST_HEADERS;
		p->line_start = p->len;
		return STOMP_AGAIN;
	}
	if (end == p->line_start)
		return stomp_headers_done(p);
	if (stomp_header_line(p, end) == STOMP_ERROR)
		return STOMP_ERROR;
	p->line_start = p->len;
	return STOMP_AGAIN;
}

/* Copy input up to and including the next LF into the current line, enforcing the
 * line and frame limits before anything is buffered. Sets *n to the bytes taken. */
static enum stomp_status stomp_take_line(stomp_parser_t *p, const char *data, size_t avail,
					 size_t *n)
{
	const char *nl = memchr(data, '\n', avail);
	size_t take = nl ? (size_t)(nl - data) + 1 : avail;
	size_t linelen = p->len - p->line_start + take - (nl ? 1 : 0);

	if (linelen > p->lim.max_header_line)
		return stomp_fail(p, "%s line too long (limit %zu bytes)",
				  p->state == ST_COMMAND ? "command" : "header",
				  p->lim.max_header_line);
	if (take > p->lim.max_frame_size - p->frame_bytes)
		return stomp_fail(p, "frame too large (limit %zu bytes)", p->lim.max_frame_size);
	/* Names and values are handed out as C strings: a NUL would silently cut them. */
	if (memchr(data, '\0', take))
		return stomp_fail(p, "NUL byte in the %s line",
				  p->state == ST_COMMAND ? "command" : "header");
	if (stomp_append(p, data, take) < 0)
		return stomp_fail(p, "out of memory");
	p->frame_bytes += take;
	*n = take;
	if (nl)
		return stomp_line_done(p);
	return STOMP_AGAIN;
}

/* Hand the finished frame out: turn header offsets into pointers. */
static void stomp_emit(stomp_parser_t *p, stomp_frame_t *out)
{
	p->buf[p->len] = '\0';
	for (size_t i = 0; i < p->nh; i++) {
		p->hdrs[i].name = p->buf + p->hoff[i].name;
		p->hdrs[i].value = p->buf + p->hoff[i].value;
	}
	out->command = p->cmd;
	out->command_name = p->buf + p->cmd_off;
	out->nheaders = p->nh;
	out->headers = p->nh ? p->hdrs : NULL;
	out->body = p->buf + p->body_start;
	out->body_len = p->len - p->body_start;
	p->ready = 1;
	p->state = ST_IDLE;
}

/* The state machine. Each case consumes at least one byte or changes state, and
 * the bulk states consume everything they can in one step. It is one switch over
 * the states, longer than the 80 lines a function usually gets, on purpose: every
 * transition of the framing is in one place, where a reader can check it against
 * the spec points listed in stomp.h. */
enum stomp_status stomp_parser_feed(stomp_parser_t *p, const char *data, size_t len,
				    size_t *used, stomp_frame_t *out, unsigned *heartbeats,
				    char *err, size_t errlen)
{
	size_t i = 0, n = 0;
	enum stomp_status st = STOMP_AGAIN;
	const char *z;

	if (p->ready)
		stomp_reset_frame(p);
	if (p->state == ST_DEAD)
		goto fail;
	while (i < len) {
		switch (p->state) {
		case ST_IDLE:
			if (data[i] == '\n') {
				if (heartbeats)
					(*heartbeats)++;
				i++;
			} else if (data[i] == '\r') {
				p->state = ST_IDLE_CR;
				i++;
			} else {
				p->state = ST_COMMAND;
				p->line_start = 0;
			}
			break;
		case ST_IDLE_CR:
			if (data[i] != '\n') {
				stomp_fail(p, "CR not followed by LF between frames");
				goto fail;
			}
			if (heartbeats)
				(*heartbeats)++;
			p->state = ST_IDLE;
			i++;
			break;
		case ST_COMMAND:
		case ST_HEADERS:
			if (stomp_take_line(p, data + i, len - i, &n) == STOMP_ERROR)
				goto fail;
			i += n;
			break;
		case ST_BODY_LEN:
			n = p->clen - (p->len - p->body_start);
			if (n > len - i)
				n = len - i;
			memcpy(p->buf + p->len, data + i, n); /* reserved in headers_done */
			p->len += n;
			p->frame_bytes += n;
			i += n;
			if (p->len - p->body_start == p->clen)
				p->state = ST_TRAILER;
			break;
		case ST_TRAILER:
			if (data[i] != '\0') {
				stomp_fail(p, "content-length %zu but no NUL after the body",
					   p->clen);
				goto fail;
			}
			i++;
			stomp_emit(p, out);
			*used = i;
			return STOMP_FRAME;
		case ST_BODY_NUL:
			z = memchr(data + i, '\0', len - i);
			n = z ? (size_t)(z - (data + i)) : len - i;
			if (n > p->lim.max_frame_size - p->frame_bytes) {
				stomp_fail(p, "frame too large (limit %zu bytes)",
					   p->lim.max_frame_size);
				goto fail;
			}
			if (stomp_append(p, data + i, n) < 0) {
				stomp_fail(p, "out of memory");
				goto fail;
			}
			p->frame_bytes += n;
			i += n;
			if (z) {
				i++;
				stomp_emit(p, out);
				*used = i;
				return STOMP_FRAME;
			}
			break;
		case ST_DEAD:
			goto fail;
		}
	}
	*used = len;
	return st;
fail:
	*used = i;
	if (err && errlen)
		snprintf(err, errlen, "%s", p->errmsg);
	return STOMP_ERROR;
}

/* Escape table of STOMP 1.2: backslash, CR, LF and colon. */
static const char *stomp_escape_of(char c)
{
	switch (c) {
	case '\\':
		return "\\\\";
	case '\r':
		return "\\r";
	case '\n':
		return "\\n";
	case ':':
		return "\\c";
	default:
		return NULL;
	}
}

size_t stomp_escape(char *out, size_t cap, const char *in, size_t inlen)
{
	size_t pos = 0;

	for (size_t i = 0; i < inlen; i++) {
		const char *e = stomp_escape_of(in[i]);

		if (e) {
			if (pos + 2 <= cap) {
				out[pos] = e[0];
				out[pos + 1] = e[1];
			}
			pos += 2;
		} else {
			if (pos < cap)
				out[pos] = in[i];
			pos++;
		}
	}
	if (pos < cap)
		out[pos] = '\0';
	return pos;
}

int stomp_unescape(char *s, size_t *len)
{
	char *r = memchr(s, '\\', *len);
	char *end = s + *len;
	char *w;

	if (!r)
		return 0;
	w = r;
	while (r < end) {
		if (*r != '\\') {
			*w++ = *r++;
			continue;
		}
		if (r + 1 >= end)
			return -1;
		switch (r[1]) {
		case '\\':
			*w++ = '\\';
			break;
		case 'r':
			*w++ = '\r';
			break;
		case 'n':
			*w++ = '\n';
			break;
		case 'c':
			*w++ = ':';
			break;
		default:
			return -1;
		}
		r += 2;
	}
	*len = (size_t)(w - s);
	*w = '\0';
	return 0;
}

/* Bounded writer for stomp_encode: counts everything, copies what fits. */
struct stomp_out {
	char *buf;
	size_t cap;
	size_t pos;
};

static void stomp_put(struct stomp_out *o, const char *s, size_t n)
{
	if (n && o->pos < o->cap && n <= o->cap - o->pos)
		memcpy(o->buf + o->pos, s, n);
	o->pos += n;
}

static void stomp_put_token(struct stomp_out *o, const char *s, int escape)
{
	size_t n = strlen(s);
	size_t room;

	if (!escape) {
		stomp_put(o, s, n);
		return;
	}
	room = o->pos < o->cap ? o->cap - o->pos : 0;
	o->pos += stomp_escape(room ? o->buf + o->pos : NULL, room, s, n);
}

size_t stomp_encode(char *out, size_t cap, enum stomp_command cmd,
		    const stomp_header_t *headers, size_t nheaders, const char *body,
		    size_t body_len)
{
	struct stomp_out o = { out, cap, 0 };
	int escape = stomp_cmd_escapes(cmd);
	int have_clen = 0;
	const char *name = stomp_command_name(cmd);
	char num[32];

	stomp_put(&o, name, strlen(name));
	stomp_put(&o, "\n", 1);
	for (size_t i = 0; i < nheaders; i++) {
		if (strcmp(headers[i].name, "content-length") == 0)
			have_clen = 1;
		stomp_put_token(&o, headers[i].name, escape);
		stomp_put(&o, ":", 1);
		stomp_put_token(&o, headers[i].value, escape);
		stomp_put(&o, "\n", 1);
	}
	if (body_len && !have_clen) {
		int n = snprintf(num, sizeof(num), "content-length:%zu\n", body_len);
		stomp_put(&o, num, (size_t)n);
	}
	stomp_put(&o, "\n", 1);
	if (body_len)
		stomp_put(&o, body, body_len);
	stomp_put(&o, "", 1); /* the frame's NUL terminator */
	if (o.pos < cap)
		out[o.pos] = '\0';
	return o.pos;
}

/* "cx,cy" with two decimal numbers that fit an unsigned. 0 or -1. */
static int stomp_parse_hb(const char *s, unsigned *cx, unsigned *cy)
{
	unsigned long long v[2];
	const char *q = s;

	for (int k = 0; k < 2; k++) {
		v[k] = 0;
		if (*q < '0' || *q > '9')
			return -1;
		while (*q >= '0' && *q <= '9') {
			v[k] = v[k] * 10 + (unsigned)(*q - '0');
			if (v[k] > 0xffffffffULL)
				return -1;
			q++;
		}
		if (k == 0) {
			if (*q != ',')
				return -1;
			q++;
		}
	}
	if (*q != '\0')
		return -1;
	*cx = (unsigned)v[0];
	*cy = (unsigned)v[1];
	return 0;
}

int stomp_heartbeat_negotiate(const char *peer, unsigned my_cx, unsigned my_cy,
			      unsigned *send_ms, unsigned *recv_ms)
{
	unsigned pcx = 0, pcy = 0;

	if (peer && *peer && stomp_parse_hb(peer, &pcx, &pcy) < 0)
		return -1;
	/* I send every max(my cx, peer cy), unless either side says 0. */
	*send_ms = (my_cx && pcy) ? (my_cx > pcy ? my_cx : pcy) : 0;
	/* I expect something every max(peer cx, my cy), unless either side says 0. */
	*recv_ms = (my_cy && pcx) ? (my_cy > pcx ? my_cy : pcx) : 0;
	return 0;
}
