/* util: small helpers shared by both programs (see util.h). */
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int64_t util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t util_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Fill buf with random bytes. getrandom(2) first; if the kernel lacks it, a mix of
 * clocks and the pid, which is unique enough for ids though not secret. */
static void util_random(unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	if (got == len)
		return;
	{
		static unsigned long long state;
		unsigned long long x = state ^ (unsigned long long)util_mono_us() ^
				       ((unsigned long long)util_now_ms() << 20) ^
				       ((unsigned long long)getpid() << 40);

		for (size_t i = got; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (unsigned char)(x >> 24);
		}
		state = x;
	}
}

/* xoshiro256** (Blackman & Vigna): a fast generator, one state per thread, seeded
 * once from util_random (getrandom): ids cost no system call each (issue 12). Its
 * 256-bit state makes a repeat within a process, or between processes seeded from
 * the kernel, as unlikely as for getrandom's own bytes. */
static __thread uint64_t rng_s[4];
static __thread bool rng_seeded;

static uint64_t rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(void)
{
	uint64_t *s = rng_s, r = rng_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng_rotl(s[3], 45);
	return r;
}

void util_uuid4(char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	size_t pos = 0;

	while (!rng_seeded) {
		util_random((unsigned char *)rng_s, sizeof rng_s);
		rng_seeded = (rng_s[0] | rng_s[1] | rng_s[2] | rng_s[3]) != 0;
	}
	for (int i = 0; i < 2; i++) {
		uint64_t v = rng_next();
		memcpy(b + 8 * i, &v, 8);
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[pos++] = '-';
		out[pos++] = hex[b[i] >> 4];
		out[pos++] = hex[b[i] & 15];
	}
	out[pos] = '\0';
}

int util_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int util_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc, saved;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc < 0 ? -1 : 0;
}
