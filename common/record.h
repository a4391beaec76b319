/*
 * record: the call detail record (CDR), schema version 1, and its JSON form.
 *
 * This header is the schema's one definition. A record on the wire is one JSON
 * object, sent as the body of one STOMP SEND to /queue/gvp.cdr:
 *
 *   field         JSON type        required  meaning
 *   id            string 1..128    yes       globally unique record id (idempotency key)
 *   schema        integer          yes       1
 *   call_id       string 1..255    yes       SIP Call-ID of the call
 *   session_id    string ..127     no        X-Genesys-GVP-Session-ID uuid
 *   node          string 1..63     yes       rm node that produced the record
 *   tenant        string ..63      no        tenant id
 *   profile       string ..63      no        application profile name
 *   service_type  string ..31      no        profile's service type (e.g. "voicexml")
 *   lrg           string ..63      no        logical resource group
 *   mcp           string ..255     no        SIP URI of the MCP that took the call
 *   caller        string ..127     no        From user part
 *   dnis          string ..127     no        request-URI user part
 *   start_ms      integer >= 0     yes       INVITE received, UTC ms
 *   answer_ms     integer or null  no        2xx relayed, UTC ms (absent/null: never)
 *   end_ms        integer >= 0     yes       call ended, UTC ms; >= start_ms
 *   duration_ms   integer >= 0     yes       end_ms - answer_ms if answered, else 0
 *   disposition   string enum      yes       answered|cancelled|rejected|failed|timed-out
 *   sip_status    integer 100..699 yes       final SIP status sent to the caller
 *   ended_by      string enum      yes       caller|mcp|rm-timeout|rm-drain|rm|
 *                                                      rm-keepalive|rm-peer-lost
 *   attempts      integer 0..100   no (0)    MCP attempts made (failovers + 1)
 *   usage_level   string enum      no        L1|L2|L3: usage level at admission
 *
 * Unknown fields are allowed and kept: the store keeps the original JSON text beside
 * the decoded columns. A record that breaks any rule above is refused, and the error
 * names the first offending field.
 *
 * Events (/queue/gvp.events) and metrics (/queue/gvp.metrics) are JSON objects that
 * need only `id` (string 1..128) and `schema` (integer 1); record_check_envelope()
 * validates that much.
 */
#ifndef COMMON_RECORD_H
#define COMMON_RECORD_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#define RECORD_SCHEMA 1

enum record_disposition {
	REC_ANSWERED = 0,
	REC_CANCELLED,
	REC_REJECTED,
	REC_FAILED,
	REC_TIMED_OUT,
};

enum record_ended_by {
	REC_BY_CALLER = 0,
	REC_BY_MCP,
	REC_BY_RM_TIMEOUT,
	REC_BY_RM_DRAIN,
	REC_BY_RM, /* rm refused or failed the call itself */
	REC_BY_RM_KEEPALIVE, /* a side stopped answering rm's in-dialog OPTIONS */
	REC_BY_RM_PEER_LOST, /* the rm node that carried it died; a peer ended it */
};

typedef struct record {
	char id[129];
	int schema;
	char call_id[256];
	char session_id[128];
	char node[64];
	char tenant[64];
	char profile[64];
	char service_type[32];
	char lrg[64];
	char mcp[256];
	char caller[128];
	char dnis[128];
	int64_t start_ms;
	int64_t answer_ms; /* 0: never answered */
	int64_t end_ms;
	int64_t duration_ms;
	enum record_disposition disposition;
	int sip_status;
	enum record_ended_by ended_by;
	int attempts;
	int usage_level; /* 0: none, 1..3: L1..L3 */
} record_t;

/* Decode and validate a schema-1 record from len bytes of JSON (need not be
 * NUL-terminated). Returns 0, or -1 with the offending field's name in field
 * ("id", "start_ms", or "(body)" when the text is not a JSON object) and a sentence
 * in err ("field 'sip_status': expected integer 100..699, got \"abc\""). */
int record_decode(const char *json, size_t len, record_t *out, char *field,
		  size_t fieldlen, char *err, size_t errlen);

/* Check the fields that the rules above make consistent (ranges, end >= start,
 * duration); record_decode calls it. 0, or -1 as record_decode. */
int record_validate(const record_t *r, char *field, size_t fieldlen, char *err,
		    size_t errlen);

/* Encode as compact JSON into out (capacity cap). Returns the length written
 * (excluding the NUL), or -1 if cap is too small. Strings are JSON-escaped. */
int record_encode(const record_t *r, char *out, size_t cap);

/* Encode a call event (rm's /queue/gvp.events body) from r's fields as compact JSON:
 * id, schema, type, node, call_id, session_id, tenant, profile, mcp (empty strings
 * left out), start_ms, answer_ms (with_answer), end_ms, duration_ms, disposition,
 * sip_status, ended_by (with_end), ts_ms. Same writer and escaping as record_encode;
 * returns the length, or -1 if cap is too small. */
int record_encode_event(const record_t *r, const char *type, long long ts_ms,
			bool with_answer, bool with_end, char *out, size_t cap);

/* Validate the envelope of an event or metrics body: a JSON object with `id` and
 * `schema`. Copies the id into id (idlen >= 129). 0, or -1 as record_decode. */
int record_check_envelope(const char *json, size_t len, char *id, size_t idlen,
			  char *field, size_t fieldlen, char *err, size_t errlen);

/* The three STOMP destinations records travel on (ARCHITECTURE.md "Records on the
 * wire"): the one definition of their names. */
#define REC_DEST_CDR "/queue/gvp.cdr"
#define REC_DEST_EVENTS "/queue/gvp.events"
#define REC_DEST_METRICS "/queue/gvp.metrics"

const char *record_disposition_name(enum record_disposition d);
int record_disposition_parse(const char *s); /* -1 if unknown */
const char *record_ended_by_name(enum record_ended_by e);
/* "L1".."L3" for usage level 1..3 (the record's usage_level); NULL otherwise. */
const char *record_usage_level_name(int level);
int record_ended_by_parse(const char *s); /* -1 if unknown */

#endif
