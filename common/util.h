/* util: small helpers shared by both programs (time, ids, files). */
#ifndef COMMON_UTIL_H
#define COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Wall clock, UTC milliseconds since the epoch. */
int64_t util_now_ms(void);
/* Monotonic clock in microseconds (for latencies and timers). */
int64_t util_mono_us(void);
/* Random version-4 UUID, lowercase, 36 chars + NUL into out (needs 37 bytes).
 * A per-thread generator seeded once from getrandom(2): no system call per id;
 * never fails. */
void util_uuid4(char out[37]);
/* Write the whole buffer or fail (handles EINTR and short writes). 0 / -1. */
int util_write_all(int fd, const void *buf, size_t len);
/* fsync a directory so a create/rename in it is durable. 0 / -1. */
int util_fsync_dir(const char *dir);

#endif
