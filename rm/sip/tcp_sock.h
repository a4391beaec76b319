/*
 * tcp_sock: the kernel side of rm's TCP SIP listener and the connections sofia-sip
 * accepted on it, which sofia-sip 1.12 neither counts nor limits: a census of them
 * (how many, how many bytes they hold unread), closing one, and telling the kernel
 * to refuse new connections for a while. Linux only; plain syscalls. Used on the SIP
 * thread only (the descriptors stay sofia-sip's: tcp_sock never closes one, it shuts
 * a connection down and sofia-sip then closes it as if the peer had).
 */
#ifndef RM_TCP_SOCK_H
#define RM_TCP_SOCK_H

#include <stddef.h>
#include <stdint.h>

/* One accepted connection: its descriptor and who is on the other end (a key made
 * from the peer's address and port, so that a reused descriptor number is not taken
 * for the connection it replaced). */
struct tcp_conn {
	int fd;
	uint64_t peer;
};

struct tcp_census {
	int listen_fd;       /* the listener bound to the port; -1 if none found */
	size_t n;            /* connections found (may exceed max) */
	uint64_t queued;     /* bytes they hold unread, in all (SIOCINQ) */
};

/* Every TCP socket of this process whose local port is `port`: the listener into
 * c->listen_fd, the connected ones (an accepted connection has the listener's
 * port; rm's own outgoing connections have ephemeral ones and are not counted)
 * into conns[0..min(n, max)). O(descriptors of the process): a few system calls per
 * socket; call it a few times a second, not per message. Returns 0, or -1 when
 * /proc/self/fd cannot be read. */
int tcp_sock_census(int port, struct tcp_census *c, struct tcp_conn *conns, size_t max);

/* Shut conn down both ways (if fd still is that connection): the peer sees the
 * connection close, sofia-sip reads end-of-file and closes it. Returns 0 or -1. */
int tcp_sock_shut(int port, const struct tcp_conn *conn);

/* on: a socket filter on the listener that drops every segment with SYN set and ACK
 * clear, i.e. new connection attempts: the kernel never completes them (the client
 * retries its SYN later). Established connections are untouched (a connection
 * accepted later inherits the filter, which can only drop a SYN it never gets).
 * off: the filter is removed. Returns 0, or -1 (errno set). */
int tcp_sock_refuse_new(int listen_fd, int on);

#endif
