/*
 * preflight: host checks on a validated config before start (see preflight.h).
 */
#include "preflight.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int preflight_parse_addr(const char *host, int port, struct sockaddr_storage *ss,
			 socklen_t *sslen)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	char h[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(host);

	memset(ss, 0, sizeof(*ss));
	if (n >= sizeof(h))
		return -1;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*s4);
		return 0;
	}
	if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
	} else {
		memcpy(h, host, n + 1);
	}
	if (inet_pton(AF_INET6, h, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*s6);
		return 0;
	}
	return -1;
}

int preflight_listen(cfg_ctx_t *c, const char *where, const char *key, const char *host)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, rc = 0;

	if (c->failed)
		return -1;
	if (preflight_parse_addr(host, 0, &ss, &len) < 0)
		return cfg_fail(c, where, key, "expected a numeric IPv4 or IPv6 address such as "
				"127.0.0.1, 0.0.0.0 or ::1 (names are not resolved); got \"%s\"",
				host);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cfg_fail(c, where, key, "cannot listen on %s: %s%s", host, strerror(errno),
				errno == EAFNOSUPPORT ? " (IPv6 is off on this host)" : "");
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		rc = cfg_fail(c, where, key, "cannot listen on %s: %s%s", host, strerror(errno),
			      errno == EADDRNOTAVAIL ? " (no interface of this host has that "
						       "address)" : "");
	close(fd);
	return rc;
}

/* The directory part of path ("." when it has none) into out. */
static void preflight_dirname(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, len, ".");
	else if (slash == path)
		snprintf(out, len, "/");
	else
		snprintf(out, len, "%.*s", (int)(slash - path), path);
}

/* `dir` (the parent of what the program creates) must be a writable directory. */
static int preflight_parent(cfg_ctx_t *c, const char *where, const char *key,
			    const char *path, const char *dir)
{
	char cwd[PATH_MAX + 3] = "";
	struct stat st;

	/* A relative path is relative to the working directory: say which that is. */
	if (dir[0] != '/' && realpath(dir, cwd + 2)) {
		cwd[0] = ' ';
		cwd[1] = '(';
		strcat(cwd, ")");
	}
	if (stat(dir, &st) < 0)
		return cfg_fail(c, where, key, "cannot create %s: directory %s: %s", path, dir,
				strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return cfg_fail(c, where, key, "cannot create %s: %s is not a directory", path,
				dir);
	if (access(dir, W_OK | X_OK) < 0)
		return cfg_fail(c, where, key, "cannot create %s: directory %s%s is not "
				"writable: %s", path, dir, cwd, strerror(errno));
	return 0;
}

int preflight_dir(cfg_ctx_t *c, const char *where, const char *key, const char *dir)
{
	char parent[PATH_MAX];
	struct stat st;

	if (c->failed)
		return -1;
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return cfg_fail(c, where, key, "%s exists and is not a directory", dir);
		if (access(dir, W_OK | X_OK) < 0)
			return cfg_fail(c, where, key, "directory %s is not writable: %s", dir,
					strerror(errno));
		return 0;
	}
	if (errno != ENOENT)
		return cfg_fail(c, where, key, "directory %s: %s", dir, strerror(errno));
	preflight_dirname(dir, parent, sizeof(parent));
	return preflight_parent(c, where, key, dir, parent);
}

int preflight_file(cfg_ctx_t *c, const char *where, const char *key, const char *path)
{
	char parent[PATH_MAX];
	struct stat st;

	if (c->failed)
		return -1;
	if (strcmp(path, "-") == 0)
		return 0;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return cfg_fail(c, where, key, "%s is a directory, not a file", path);
		if (access(path, W_OK) < 0)
			return cfg_fail(c, where, key, "file %s is not writable: %s", path,
					strerror(errno));
		return 0;
	}
	if (errno != ENOENT)
		return cfg_fail(c, where, key, "file %s: %s", path, strerror(errno));
	preflight_dirname(path, parent, sizeof(parent));
	return preflight_parent(c, where, key, path, parent);
}

int preflight_readable(cfg_ctx_t *c, const char *where, const char *key, const char *path)
{
	struct stat st;

	if (c->failed)
		return -1;
	if (stat(path, &st) < 0)
		return cfg_fail(c, where, key, "file %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return cfg_fail(c, where, key, "%s is not a regular file", path);
	if (access(path, R_OK) < 0)
		return cfg_fail(c, where, key, "file %s is not readable: %s", path,
				strerror(errno));
	return 0;
}
