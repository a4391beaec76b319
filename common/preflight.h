/*
 * preflight: the checks a program runs on its validated config before it starts,
 * so that `--check-config` saying "ok" means the program will start.
 *
 * Each check records its error in a cfg_ctx_t (cfg.h), so messages have the usual
 * shape "FILE: KEY.PATH: reason", and is a no-op returning -1 once the context
 * failed. These look at the host (sockets, the file system); the program-specific
 * lists of what to check are rm/config/rm_preflight.c and rs/config/rs_preflight.c.
 *
 * Listen addresses: numeric IPv4 or IPv6 only (an IPv6 address may be written in
 * brackets, "[::1]"). Names such as "localhost" are refused, not resolved: a listener
 * must not depend on DNS at start, and what it binds must be what the file says.
 */
#ifndef COMMON_PREFLIGHT_H
#define COMMON_PREFLIGHT_H

#include <sys/socket.h>

#include "cfg.h"

/* Pure: parse a numeric listen address (IPv4, IPv6 or "[IPv6]") with port into *ss.
 * Returns 0, or -1 when host is not one. */
int preflight_parse_addr(const char *host, int port, struct sockaddr_storage *ss,
			 socklen_t *sslen);

/* Host must parse (preflight_parse_addr) and a TCP socket must bind to it (on an
 * ephemeral port, so a running instance holding the real port does not fail the
 * check): catches "999.1.1.1", "localhost", "::1" on a host without IPv6, and
 * addresses that belong to no interface here. */
int preflight_listen(cfg_ctx_t *c, const char *where, const char *key, const char *host);

/* A directory the program creates if missing (only its last part: mkdir, not
 * mkdir -p) and then writes in: it must be a writable directory, or be missing
 * inside a writable directory. */
int preflight_dir(cfg_ctx_t *c, const char *where, const char *key, const char *dir);

/* A file the program opens for writing, creating it if missing (a log file, an
 * SQLite database): it must be a writable regular file, or be missing inside a
 * writable directory. "-" (stderr) passes. */
int preflight_file(cfg_ctx_t *c, const char *where, const char *key, const char *path);

/* A file the program only reads (certificates, keys): it must be a readable regular
 * file. */
int preflight_readable(cfg_ctx_t *c, const char *where, const char *key, const char *path);

#endif
