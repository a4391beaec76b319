/*
 * sip_check: is a request fit to be proxied? RFC 3261 section 16.3 (request
 * validation) and the RFC 4475 torture cases that apply to a proxy, decided over
 * the message sofia-sip has parsed. Pure: reads the parsed request and its parser
 * flags, sends nothing, keeps no state.
 *
 * Checks, in this order (the first failure wins):
 *   framing      the header block did not end with an empty line, the body is
 *                shorter than Content-Length, or the parser flagged the message
 *                truncated (a cut last line is kept raw and unterminated: forwarding
 *                it glued the next header onto it, "Content-LengtX-Genesys-...") -> 400
 *   missing      Via, From, To, Call-ID or CSeq absent                     -> 400
 *   header       a known header sofia-sip could not parse, or a single-valued
 *                header given twice (msg_serialize would abort on it)     -> 400
 *   version      SIP version other than SIP/2.0                            -> 505
 *   cseq         CSeq method differs from the request method              -> 400
 *   scheme       request-URI scheme other than sip or sips                 -> 416
 *   uri-headers  request-URI with escaped headers ("?Route=...")           -> 400
 *   proxy-require  any Proxy-Require option (rm supports none)   -> 420 + Unsupported
 * Max-Forwards (483) stays with the forwarding code, which also decrements it.
 */
#ifndef RM_SIP_CHECK_H
#define RM_SIP_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/msg_types.h>
#include <sofia-sip/sip.h>

/* Why a message was refused: the label of rm_bad_requests_total{reason}. */
enum sip_bad {
	SIP_BAD_NONE = 0,
	SIP_BAD_FRAMING,
	SIP_BAD_MISSING,
	SIP_BAD_HEADER,
	SIP_BAD_VERSION,
	SIP_BAD_CSEQ,
	SIP_BAD_SCHEME,
	SIP_BAD_URI_HEADERS,
	SIP_BAD_PROXY_REQUIRE,
	SIP_BAD_MAX_FORWARDS,
	SIP_BAD_UNTRUSTED,
	SIP_BAD_RELAY,       /* would have to be relayed to a host rm does not serve */
	SIP_BAD_PARSER,      /* refused by sofia-sip before rm saw it (nta counters) */
	SIP_BAD_COUNT
};

struct sip_verdict {
	int status;             /* 0: fit to proxy; else the answer (400, 416, ...) */
	enum sip_bad reason;
	char unsupported[256];  /* 420: the Unsupported header value */
};

/* The reason's metric label ("framing", "uri-headers", ...); never NULL. */
const char *sip_bad_name(enum sip_bad r);

/* Check request sip, parsed with msg_flags (msg_get_flags(msg, ~0u)); v gets the
 * verdict. Returns true when the request may be proxied. sip may be NULL (framing). */
bool sip_check_request(const sip_t *sip, unsigned msg_flags, struct sip_verdict *v);

/* True if the parsed message can be serialised again without corrupting it: a
 * complete header block and no raw (unparsed) header line. call_send's guard. */
bool sip_check_forwardable(const sip_t *sip, unsigned msg_flags);

/* The message class rm's nta agent parses with: sofia-sip's, except that a request
 * line with a version other than SIP/2.0 reaches sip_check_request (505 to the
 * transport source) instead of being answered by nta to the Via address. Built on
 * first call (SIP thread, at start); never freed. */
const msg_mclass_t *sip_check_mclass(void);

#endif
