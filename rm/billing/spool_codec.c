/* spool_codec: see spool_codec.h; crc32c is spool_crc32c (spool.h). */
#include "spool_codec.h"

#include <string.h>

#include "spool.h"

/* ---- crc32c (Castagnoli, reflected 0x82F63B78), table driven ---- */

static uint32_t crc_table[256];
static bool crc_ready;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[i] = c;
	}
	crc_ready = true;
}

static uint32_t crc_soft(uint32_t crc, const unsigned char *p, size_t len)
{
	if (!crc_ready)
		crc_init();
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* SSE4.2's crc32 instruction computes exactly this CRC (Castagnoli, reflected), 8
 * bytes per instruction: about 10x the table's speed (every spool entry is
 * checksummed when written and when read back; issue 12). */
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const unsigned char *p,
							 size_t len)
{
	uint64_t c = crc;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
	}
	crc = (uint32_t)c;
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}

static int crc_hw_ok = -1;

uint32_t spool_crc32c(uint32_t crc, const void *data, size_t len)
{
	if (crc_hw_ok < 0)
		crc_hw_ok = __builtin_cpu_supports("sse4.2") ? 1 : 0;
	return ~(crc_hw_ok ? crc_hw(~crc, data, len) : crc_soft(~crc, data, len));
}
#else
uint32_t spool_crc32c(uint32_t crc, const void *data, size_t len)
{
	return ~crc_soft(~crc, data, len);
}
#endif

/* ---- little-endian helpers ---- */

void spcodec_put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

void spcodec_put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

uint32_t spcodec_get32(const unsigned char *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

uint64_t spcodec_get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* ---- segment header ---- */

void spcodec_seg_header(unsigned char *hdr, uint64_t base_seq)
{
	memset(hdr, 0, SPCODEC_SEG_HDR);
	memcpy(hdr, SPCODEC_SEG_MAGIC, 8);
	spcodec_put64(hdr + 8, base_seq);
	spcodec_put32(hdr + 16, spool_crc32c(0, hdr, 16));
}

bool spcodec_seg_header_ok(const unsigned char *b, size_t n, uint64_t *base_seq)
{
	if (n < SPCODEC_SEG_HDR || memcmp(b, SPCODEC_SEG_MAGIC, 8) != 0 ||
	    spool_crc32c(0, b, 16) != spcodec_get32(b + 16))
		return false;
	*base_seq = spcodec_get64(b + 8);
	return true;
}

/* ---- entries ---- */

void spcodec_entry_encode(unsigned char *h, uint64_t seq, const char *dest, size_t dlen,
			  const char *body, size_t body_len)
{
	uint32_t len = (uint32_t)(dlen + 1 + body_len);

	spcodec_put32(h, SPCODEC_ENT_MAGIC);
	spcodec_put32(h + 4, len);
	spcodec_put64(h + 8, seq);
	memcpy(h + SPCODEC_ENT_HDR, dest, dlen + 1);
	if (body_len)
		memcpy(h + SPCODEC_ENT_HDR + dlen + 1, body, body_len);
	uint32_t crc = spool_crc32c(0, h + 4, 12);
	spcodec_put32(h + 16, spool_crc32c(crc, h + SPCODEC_ENT_HDR, len));
	spcodec_put32(h + 20, 0);
}

bool spcodec_entry_ok(const unsigned char *p, uint64_t seq, uint32_t len)
{
	uint32_t crc = spool_crc32c(spool_crc32c(0, p + 4, 12), p + SPCODEC_ENT_HDR, len);
	return spcodec_get32(p) == SPCODEC_ENT_MAGIC && spcodec_get64(p + 8) == seq &&
	       spcodec_get32(p + 16) == crc;
}

bool spcodec_entry_at(const unsigned char *b, size_t n, size_t pos, uint64_t last_seq,
		      uint32_t *len, uint64_t *seq)
{
	if (pos + SPCODEC_ENT_HDR > n || spcodec_get32(b + pos) != SPCODEC_ENT_MAGIC)
		return false;
	uint32_t l = spcodec_get32(b + pos + 4);
	uint64_t q = spcodec_get64(b + pos + 8);
	if (l < 2 || l > n - pos - SPCODEC_ENT_HDR || q <= last_seq)
		return false;
	uint32_t crc = spool_crc32c(spool_crc32c(0, b + pos + 4, 12),
				    b + pos + SPCODEC_ENT_HDR, l);
	if (crc != spcodec_get32(b + pos + 16))
		return false;
	const unsigned char *d = b + pos + SPCODEC_ENT_HDR;
	if (d[0] == '\0' || !memchr(d, '\0', l))
		return false;
	*len = l;
	*seq = q;
	return true;
}

/* ---- release records ---- */

void spcodec_ack_encode(unsigned char *p, uint64_t seq)
{
	spcodec_put64(p, seq);
	spcodec_put32(p + 8, spool_crc32c(0, p, 8));
}

bool spcodec_ack_decode(const unsigned char *p, uint64_t *seq)
{
	if (spool_crc32c(0, p, 8) != spcodec_get32(p + 8))
		return false;
	*seq = spcodec_get64(p);
	return true;
}

long spcodec_parse_name(const char *name, const char *ext)
{
	if (strlen(name) != 13 || name[9] != '.' || strcmp(name + 10, ext) != 0)
		return -1;
	long v = 0;
	for (int i = 0; i < 9; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	return v > 0 ? v : -1;
}
