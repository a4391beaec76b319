/* tcp_sock: census and limits of rm's TCP SIP connections (contract in tcp_sock.h). */
#include "tcp_sock.h"

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/sockios.h>

static int port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return -1;
}

/* FNV-1a over the peer's address and port. */
static uint64_t peer_key(const struct sockaddr_storage *ss)
{
	const uint8_t *b;
	size_t n;
	uint64_t h = 1469598103934665603ULL;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;
		b = (const uint8_t *)&s->sin_addr;
		n = 4;
		h = (h ^ s->sin_port) * 1099511628211ULL;
	} else {
		const struct sockaddr_in6 *s = (const void *)ss;
		b = (const uint8_t *)&s->sin6_addr;
		n = 16;
		h = (h ^ s->sin6_port) * 1099511628211ULL;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

/* 1: a connected TCP socket on `port` (*peer set); 2: the listener; 0: neither. */
static int classify(int fd, int port, uint64_t *peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int type = 0, acc = 0;
	socklen_t tl = sizeof type;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 || port_of(&ss) != port)
		return 0; /* ENOTSOCK for files, pipes, eventfds: one cheap call */
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM)
		return 0;
	len = sizeof ss;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		*peer = peer_key(&ss);
		return 1;
	}
	tl = sizeof acc;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &tl) == 0 && acc)
		return 2;
	return 0;
}

int tcp_sock_census(int port, struct tcp_census *c, struct tcp_conn *conns, size_t max)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	memset(c, 0, sizeof *c);
	c->listen_fd = -1;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		uint64_t peer = 0;
		int unread = 0;
		if (*end || fd < 0 || fd == dirfd(d))
			continue;
		switch (classify((int)fd, port, &peer)) {
		case 1:
			if (c->n < max)
				conns[c->n] = (struct tcp_conn){ (int)fd, peer };
			c->n++;
			if (ioctl((int)fd, SIOCINQ, &unread) == 0 && unread > 0)
				c->queued += (uint64_t)unread;
			break;
		case 2:
			if (c->listen_fd < 0)
				c->listen_fd = (int)fd;
			break;
		}
	}
	closedir(d);
	return 0;
}

int tcp_sock_shut(int port, const struct tcp_conn *conn)
{
	uint64_t peer = 0;

	if (classify(conn->fd, port, &peer) != 1 || peer != conn->peer)
		return -1;
	return shutdown(conn->fd, SHUT_RDWR);
}

int tcp_sock_refuse_new(int listen_fd, int on)
{
	/* the filter sees the segment from its TCP header: flags are byte 13 */
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),       /* SYN | ACK */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1), /* SYN alone */
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
	};
	struct sock_fprog prog = { .len = sizeof code / sizeof code[0], .filter = code };

	if (!on) {
		int dummy = 0; /* the kernel wants an int's worth of option, unused */
		if (setsockopt(listen_fd, SOL_SOCKET, SO_DETACH_FILTER, &dummy, sizeof dummy) < 0 &&
		    errno != ENOENT)
			return -1;
		return 0;
	}
	return setsockopt(listen_fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
}
