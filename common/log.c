/*
 * log: leveled logging to stderr or a file, as plain text or JSON lines (see log.h).
 *
 * Each line is formatted on the stack and written with one write(2), so lines from
 * different threads never interleave (O_APPEND makes that hold across processes
 * too). The file descriptor number never changes while logging: log_reopen() opens
 * the new file and dup2()s it over the old number, so writers never see a closed fd.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 8192

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int log_level = LOGL_INFO;
static atomic_int log_fd = STDERR_FILENO;
static atomic_bool log_json;
static char log_prog[64];
static char *log_path; /* NULL: stderr */

/* Per-level counts of the messages logged (before the rate limit), and the rate
 * limit: per format string, at most log_rate lines a second; the rest are counted
 * and reported once in a "suppressed" line (log_flush_suppressed or the next line
 * of that format). Slots are direct-mapped by the format's address: two formats
 * sharing a slot evict each other, reporting what was suppressed first. */
#define LOG_RL_SLOTS 256
struct log_rl {
	const char *fmt;
	int level;
	int64_t sec;
	unsigned n;
	uint64_t suppressed;
};
static atomic_ullong log_counts[4];
static atomic_ullong log_suppressed_total;
static atomic_int log_rate; /* 0: unlimited */
static struct log_rl log_rl[LOG_RL_SLOTS]; /* under log_lock */

static const char *const log_upper[] = { "ERROR", "WARN", "INFO", "DEBUG" };
static const char *const log_lower[] = { "error", "warn", "info", "debug" };

static int log_open(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

int log_init(const char *prog, const char *path, enum log_level level, bool json,
	     char *err, size_t errlen)
{
	int fd = STDERR_FILENO, old;
	char *np = NULL;

	if (path && strcmp(path, "-") != 0) {
		fd = log_open(path);
		if (fd < 0) {
			snprintf(err, errlen, "cannot open log file %s: %s", path,
				 strerror(errno));
			goto fail;
		}
		np = strdup(path);
		if (!np) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	pthread_mutex_lock(&log_lock);
	snprintf(log_prog, sizeof(log_prog), "%s", prog && *prog ? prog : "-");
	old = atomic_load(&log_fd);
	if (old != STDERR_FILENO) {
		/* Keep the descriptor number stable so a line being written by
		 * another thread never lands in a file that reuses a closed number. */
		if (dup2(fd, old) < 0) {
			pthread_mutex_unlock(&log_lock);
			snprintf(err, errlen, "cannot switch log file: %s", strerror(errno));
			goto fail;
		}
		if (fd != STDERR_FILENO)
			close(fd);
		fd = -1;
	} else {
		atomic_store(&log_fd, fd);
	}
	free(log_path);
	log_path = np;
	atomic_store(&log_level, level);
	atomic_store(&log_json, json);
	pthread_mutex_unlock(&log_lock);
	return 0;
fail:
	if (fd >= 0 && fd != STDERR_FILENO)
		close(fd);
	free(np);
	return -1;
}

int log_reopen(void)
{
	int fd, rc = 0;

	pthread_mutex_lock(&log_lock);
	if (!log_path)
		goto out;
	fd = log_open(log_path);
	if (fd < 0) {
		rc = -1;
		goto out;
	}
	if (dup2(fd, atomic_load(&log_fd)) < 0)
		rc = -1;
	close(fd);
out:
	pthread_mutex_unlock(&log_lock);
	return rc;
}

void log_set_level(enum log_level level)
{
	atomic_store(&log_level, level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&log_level);
}

int log_level_parse(const char *name, enum log_level *out)
{
	for (int i = 0; name && i < 4; i++) {
		if (strcasecmp(name, log_lower[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_close(void)
{
	int old;

	pthread_mutex_lock(&log_lock);
	old = atomic_exchange(&log_fd, STDERR_FILENO);
	if (old != STDERR_FILENO)
		close(old);
	free(log_path);
	log_path = NULL;
	pthread_mutex_unlock(&log_lock);
}

/* Append msg to line at *pos as JSON string content (quotes not included). */
static void log_json_escape(char *line, size_t *pos, size_t cap, const char *msg)
{
	static const char hex[] = "0123456789abcdef";
	size_t p = *pos;

	for (const unsigned char *s = (const unsigned char *)msg; *s && p + 6 < cap; s++) {
		if (*s == '"' || *s == '\\') {
			line[p++] = '\\';
			line[p++] = (char)*s;
		} else if (*s == '\n') {
			line[p++] = '\\';
			line[p++] = 'n';
		} else if (*s < 0x20) {
			line[p++] = '\\';
			line[p++] = 'u';
			line[p++] = '0';
			line[p++] = '0';
			line[p++] = hex[*s >> 4];
			line[p++] = hex[*s & 15];
		} else {
			line[p++] = (char)*s;
		}
	}
	*pos = p;
}

static void log_write(unsigned lv, const char *msg);

void log_set_rate(int per_s)
{
	atomic_store(&log_rate, per_s > 0 ? per_s : 0);
}

unsigned long long log_count(enum log_level level)
{
	return (unsigned)level < 4 ? atomic_load(&log_counts[level]) : 0;
}

unsigned long long log_suppressed(void)
{
	return atomic_load(&log_suppressed_total);
}

static void log_report(int level, const char *fmt, uint64_t k)
{
	char msg[512];

	snprintf(msg, sizeof msg, "log: suppressed %llu similar lines (\"%.300s\")",
		 (unsigned long long)k, fmt);
	log_write((unsigned)level, msg);
}

/* The rate-limit decision for one line of fmt: true to write it. A report of what a
 * slot suppressed before is written here when its second is over. */
static bool log_admit(unsigned lv, const char *fmt)
{
	int rate = atomic_load(&log_rate);
	struct timespec mono;
	const char *old_fmt = NULL;
	uint64_t old_k = 0;
	int old_level = 0;
	bool ok = true;

	if (rate <= 0)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	struct log_rl *s = &log_rl[((uintptr_t)fmt >> 3) % LOG_RL_SLOTS];
	pthread_mutex_lock(&log_lock);
	if (s->fmt != fmt || s->sec != mono.tv_sec) {
		old_fmt = s->fmt;
		old_k = s->suppressed;
		old_level = s->level;
		if (s->fmt != fmt)
			s->fmt = fmt;
		s->level = (int)lv;
		s->sec = mono.tv_sec;
		s->n = 0;
		s->suppressed = 0;
	}
	if (s->n >= (unsigned)rate) {
		s->suppressed++;
		ok = false;
	} else {
		s->n++;
	}
	pthread_mutex_unlock(&log_lock);
	if (old_k)
		log_report(old_level, old_fmt, old_k);
	if (!ok)
		atomic_fetch_add(&log_suppressed_total, 1);
	return ok;
}

void log_flush_suppressed(void)
{
	struct timespec mono;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	for (size_t i = 0; i < LOG_RL_SLOTS; i++) {
		const char *fmt = NULL;
		uint64_t k = 0;
		int level = 0;
		pthread_mutex_lock(&log_lock);
		struct log_rl *s = &log_rl[i];
		if (s->suppressed && s->sec != mono.tv_sec) {
			fmt = s->fmt;
			k = s->suppressed;
			level = s->level;
			s->suppressed = 0;
		}
		pthread_mutex_unlock(&log_lock);
		if (k)
			log_report(level, fmt, k);
	}
}

/* Count, rate-limit, format and write one message. */
void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;
	int saved = errno;
	unsigned lv = (unsigned)level < 4 ? (unsigned)level : LOGL_DEBUG;

	if ((int)level > atomic_load(&log_level))
		return;
	atomic_fetch_add(&log_counts[lv], 1);
	if (!log_admit(lv, fmt)) {
		errno = saved;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_write(lv, msg);
	errno = saved;
}

/* Format one line (timestamp, program, level, message) and write it at once. Long
 * messages are cut to fit LOG_LINE_MAX; a plain-text line keeps to one line by
 * turning CR/LF in the message into spaces. msg is modified (CR/LF). */
static void log_write(unsigned lv, const char *msg_in)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX + 256], ts[40];
	struct timespec now;
	struct tm tm;
	size_t pos;
	int n;

	snprintf(msg, sizeof msg, "%s", msg_in);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = (int)strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - (size_t)n, ".%03ldZ", now.tv_nsec / 1000000);
	const char *prog = log_prog[0] ? log_prog : program_invocation_short_name;
	if (atomic_load(&log_json)) {
		n = snprintf(line, sizeof(line),
			     "{\"ts\":\"%s\",\"prog\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts,
			     prog, log_lower[lv]);
		pos = (size_t)n;
		log_json_escape(line, &pos, sizeof(line) - 3, msg);
		line[pos++] = '"';
		line[pos++] = '}';
	} else {
		for (char *c = msg; *c; c++)
			if (*c == '\n' || *c == '\r')
				*c = ' ';
		n = snprintf(line, sizeof(line) - 1, "%s %s %s %s", ts, prog, log_upper[lv],
			     msg);
		pos = (size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 2;
	}
	line[pos++] = '\n';
	if (write(atomic_load(&log_fd), line, pos) < 0) {
		/* Nowhere better to report it. */
	}
}
