/*
 * stomp: STOMP 1.2 frame codec. Pure: no sockets, no globals, no event loop types.
 *
 * Parsing is incremental: feed whatever bytes arrived, in any split, and take the
 * frames out as they complete. The parser copies what it needs, so the caller may
 * discard its input after each call. Heart-beat EOLs between frames are consumed and
 * reported so the caller can note liveness.
 *
 * Spec points the parser implements (STOMP 1.2):
 *  - EOL is LF or CR LF, for the command line and every header line;
 *  - header values (and names) are unescaped (\\r \\n \\c \\\\) except in CONNECT and
 *    CONNECTED frames; an undefined escape sequence is a protocol error;
 *  - a repeated header: the first occurrence wins (all are kept in order);
 *  - content-length, when present, gives the body length and the body may contain
 *    NUL; without it the body ends at the first NUL; the NUL terminator must follow;
 *  - a NUL byte in the command line or a header line is refused (names and values
 *    are handed out as C strings);
 *  - limits: total frame size, number of headers, header line length and body size
 *    are bounded by stomp_limits_t; exceeding one is an error that says which.
 *
 * Our contract on top of STOMP 1.2 (rs -> producers): every ERROR frame rs sends
 * carries STOMP_HDR_RETRYABLE ("retryable") with the value "true" or "false".
 *  - retryable:true: a passing condition (journal full while the database is down,
 *    writer queue full or out of memory, too many connections). The producer keeps
 *    the record and sends it again later, with back-off.
 *  - retryable:false: the frame or record itself is wrong (malformed record, unknown
 *    destination, bad field, protocol misuse). Sending it again gets the same ERROR.
 * An ERROR without the header (a broker, an older rs) is NOT proof of a permanent
 * refusal: rm treats it as retryable. The ERROR names the refused record with
 * receipt-id (the SEND's receipt) when there is one; without receipt-id it is about
 * the connection, not a record. rs closes the connection after every ERROR.
 */
#ifndef COMMON_STOMP_H
#define COMMON_STOMP_H

#include <stdbool.h>
#include <stddef.h>

/* ERROR header: "true" = try the same frame again later, "false" = never (above). */
#define STOMP_HDR_RETRYABLE "retryable"

enum stomp_command {
	STOMP_CMD_UNKNOWN = 0,
	/* client frames */
	STOMP_CMD_CONNECT,
	STOMP_CMD_STOMP,
	STOMP_CMD_SEND,
	STOMP_CMD_SUBSCRIBE,
	STOMP_CMD_UNSUBSCRIBE,
	STOMP_CMD_ACK,
	STOMP_CMD_NACK,
	STOMP_CMD_BEGIN,
	STOMP_CMD_COMMIT,
	STOMP_CMD_ABORT,
	STOMP_CMD_DISCONNECT,
	/* server frames */
	STOMP_CMD_CONNECTED,
	STOMP_CMD_MESSAGE,
	STOMP_CMD_RECEIPT,
	STOMP_CMD_ERROR,
};

/* "SEND" -> STOMP_CMD_SEND; unknown -> STOMP_CMD_UNKNOWN. */
enum stomp_command stomp_command_parse(const char *s, size_t len);
const char *stomp_command_name(enum stomp_command cmd);

typedef struct stomp_limits {
	size_t max_frame_size;  /* command + headers + body; default 1 MiB */
	size_t max_headers;     /* default 64 */
	size_t max_header_line; /* one header line, bytes; default 8 KiB */
} stomp_limits_t;

/* Fill in the defaults above. */
void stomp_limits_default(stomp_limits_t *l);

typedef struct stomp_header {
	const char *name;  /* NUL-terminated, unescaped */
	const char *value; /* NUL-terminated, unescaped */
} stomp_header_t;

/* A parsed frame. Every pointer points into the parser's own storage and stays valid
 * until the next stomp_parser_feed() or stomp_parser_free() on that parser. */
typedef struct stomp_frame {
	enum stomp_command command;
	const char *command_name; /* as received */
	size_t nheaders;
	stomp_header_t *headers;
	const char *body; /* body_len bytes, also NUL-terminated for convenience */
	size_t body_len;
} stomp_frame_t;

/* First value of header `name`, or NULL. */
const char *stomp_frame_header(const stomp_frame_t *f, const char *name);

enum stomp_status {
	STOMP_AGAIN = 0, /* all input consumed, no complete frame yet */
	STOMP_FRAME = 1, /* *out holds a frame; *used bytes of input consumed */
	STOMP_ERROR = -1 /* protocol error; err says what; the parser is dead */
};

typedef struct stomp_parser stomp_parser_t;

/* New parser with the given limits (NULL = defaults). NULL only on out of memory. */
stomp_parser_t *stomp_parser_new(const stomp_limits_t *limits);
void stomp_parser_free(stomp_parser_t *p);

/* Feed len bytes. Returns STOMP_FRAME with *used <= len when a frame completed (call
 * again with data + *used for the rest), STOMP_AGAIN with *used == len when more input
 * is needed, or STOMP_ERROR with a sentence in err ("header line too long (limit 8192
 * bytes)", "content-length 12 but no NUL after the body", ...). *heartbeats is
 * incremented by the number of bare EOLs (heart-beats) consumed; it may be NULL. */
enum stomp_status stomp_parser_feed(stomp_parser_t *p, const char *data, size_t len,
				    size_t *used, stomp_frame_t *out, unsigned *heartbeats,
				    char *err, size_t errlen);

/* Encode a frame into out (capacity cap). Header names/values are escaped unless the
 * command is CONNECT or CONNECTED. A content-length header is added when the body is
 * non-empty, unless the caller already supplied one. Returns the full encoded length,
 * counting the frame's terminating NUL octet (send exactly that many bytes);
 * snprintf-style: if >= cap, nothing useful was written and the caller retries with
 * a bigger buffer (a NUL is stored after the frame when it fits). Never returns a
 * negative value. */
size_t stomp_encode(char *out, size_t cap, enum stomp_command cmd,
		    const stomp_header_t *headers, size_t nheaders, const char *body,
		    size_t body_len);

/* Escape/unescape one header token. stomp_escape writes at most cap bytes and returns
 * the full length needed (NUL-terminated when that length < cap). stomp_unescape
 * works in place, updates *len (NUL-terminating when it shrank) and returns 0, or -1
 * on an undefined escape sequence (a trailing lone backslash included). */
size_t stomp_escape(char *out, size_t cap, const char *in, size_t inlen);
int stomp_unescape(char *s, size_t *len);

/* Heart-beat negotiation (STOMP 1.2 section "Heart-beating").
 * peer: the peer's header value "cx,cy" (NULL or "" means "0,0").
 * my_cx: the smallest interval at which I can send; my_cy: the interval at which I
 * want to receive. On success returns 0 and sets *send_ms (how often I must send,
 * 0 = never) and *recv_ms (how often I must receive something, 0 = no check).
 * Returns -1 on a malformed header. */
int stomp_heartbeat_negotiate(const char *peer, unsigned my_cx, unsigned my_cy,
			      unsigned *send_ms, unsigned *recv_ms);

#endif
