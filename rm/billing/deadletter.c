/*
 * deadletter: the dead-letter file of refused billing records. See deadletter.h.
 */
#include "deadletter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

char *deadletter_line(int64_t time_ms, uint64_t seq, const char *dest, const char *body,
		      size_t body_len, const char *reason)
{
	cJSON *o = cJSON_CreateObject();
	char *b = malloc(body_len + 1), *s = NULL, *line = NULL;

	if (!o || !b)
		goto done;
	memcpy(b, body, body_len);
	b[body_len] = '\0';
	if (!cJSON_AddNumberToObject(o, "time_ms", (double)time_ms) ||
	    !cJSON_AddNumberToObject(o, "seq", (double)seq) ||
	    !cJSON_AddStringToObject(o, "destination", dest ? dest : "") ||
	    !cJSON_AddStringToObject(o, "reason", reason ? reason : "") ||
	    !cJSON_AddStringToObject(o, "body", b))
		goto done;
	s = cJSON_PrintUnformatted(o);
	if (!s)
		goto done;
	size_t n = strlen(s);
	line = malloc(n + 2);
	if (line) {
		memcpy(line, s, n);
		line[n] = '\n';
		line[n + 1] = '\0';
	}
done:
	free(s);
	free(b);
	cJSON_Delete(o);
	return line;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int deadletter_append(const char *dir, const char *line, char *err, size_t errlen)
{
	char path[1024];
	const char *what = "open";
	size_t len = strlen(line), off = 0;
	struct stat st;
	bool created;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, DEADLETTER_FILE);
	created = stat(path, &st) != 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		goto fail;
	what = "write";
	errno = 0;
	while (off < len) {
		ssize_t n = write(fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	what = "fsync";
	if (fsync(fd) < 0 || (created && fsync_dir(dir) < 0))
		goto fail;
	close(fd);
	return 0;
fail:
	snprintf(err, errlen, "dead-letter file %s: %s: %s", path, what,
		 errno ? strerror(errno) : "short write");
	if (fd >= 0)
		close(fd);
	return -1;
}
