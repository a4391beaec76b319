/*
 * spool_codec: the spool's on-disk records, encoded and checked (the format is in
 * spool.h). Pure: byte buffers in, byte buffers or values out; no files.
 */
#ifndef RM_SPOOL_CODEC_H
#define RM_SPOOL_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPCODEC_SEG_MAGIC "GVPSPL01"
#define SPCODEC_SEG_HDR 24 /* segment file header */
#define SPCODEC_ENT_MAGIC 0x53504c45u
#define SPCODEC_ENT_HDR 24 /* entry header before the payload */
#define SPCODEC_ACK_REC 12 /* one release record */
#define SPCODEC_MAX_PAYLOAD (64u << 20)

/* Little-endian integers at p. */
void spcodec_put32(unsigned char *p, uint32_t v);
void spcodec_put64(unsigned char *p, uint64_t v);
uint32_t spcodec_get32(const unsigned char *p);
uint64_t spcodec_get64(const unsigned char *p);

/* Fill hdr (SPCODEC_SEG_HDR bytes) with a segment header for base_seq. */
void spcodec_seg_header(unsigned char *hdr, uint64_t base_seq);
/* Is b (n bytes, a whole segment file) headed by a valid segment header? The base
 * sequence goes to *base_seq. */
bool spcodec_seg_header_ok(const unsigned char *b, size_t n, uint64_t *base_seq);

/* Encode entry seq at h: header, then dest with its NUL, then body_len bytes of
 * body. h has room for SPCODEC_ENT_HDR + dlen + 1 + body_len bytes (dlen is
 * strlen(dest); the payload length must be at most SPCODEC_MAX_PAYLOAD). */
void spcodec_entry_encode(unsigned char *h, uint64_t seq, const char *dest, size_t dlen,
			  const char *body, size_t body_len);
/* Is p (SPCODEC_ENT_HDR + len bytes) still entry seq of payload length len, with a
 * good checksum? */
bool spcodec_entry_ok(const unsigned char *p, uint64_t seq, uint32_t len);
/* Is there a valid entry at b[pos] (b holds n bytes)? Checks magic, bounds, crc, the
 * destination's NUL and that its seq follows last_seq; returns its payload length
 * and seq. */
bool spcodec_entry_at(const unsigned char *b, size_t n, size_t pos, uint64_t last_seq,
		      uint32_t *len, uint64_t *seq);

/* Release records (SPCODEC_ACK_REC bytes at p). decode: false when its crc is bad. */
void spcodec_ack_encode(unsigned char *p, uint64_t seq);
bool spcodec_ack_decode(const unsigned char *p, uint64_t *seq);

/* "000000012.seg" -> 12 with ext "seg"; -1 when the name is not a spool file's. */
long spcodec_parse_name(const char *name, const char *ext);

#endif
