/* udp_sock: find, size and watch rm's UDP SIP socket (contract in udp_sock.h). */
#include "udp_sock.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/sock_diag.h>

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

static int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int type = 0;
	socklen_t tl = sizeof type;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_DGRAM)
		return -1;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

int udp_sock_find(int port)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = -1;

	if (!d)
		return -1;
	while (found < 0 && (e = readdir(d))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (*end || fd < 0 || fd == dirfd(d))
			continue;
		if (bound_port((int)fd) == port)
			found = (int)fd;
	}
	closedir(d);
	return found;
}

static int get_int(int fd, int opt)
{
	int v = 0;
	socklen_t l = sizeof v;
	return getsockopt(fd, SOL_SOCKET, opt, &v, &l) < 0 ? -1 : v;
}

/* The kernel doubles what it is given; a buffer of `want` reads back as >= want. */
static void grow(int fd, int opt, int force_opt, int want)
{
	if (get_int(fd, opt) >= want)
		return;
	if (setsockopt(fd, SOL_SOCKET, opt, &want, sizeof want) == 0 && get_int(fd, opt) >= want)
		return;
	(void)setsockopt(fd, SOL_SOCKET, force_opt, &want, sizeof want);
}

int udp_sock_size(int fd, int rmem, int wmem, int *rcv, int *snd)
{
	grow(fd, SO_RCVBUF, SO_RCVBUFFORCE, rmem);
	grow(fd, SO_SNDBUF, SO_SNDBUFFORCE, wmem);
	*rcv = get_int(fd, SO_RCVBUF);
	*snd = get_int(fd, SO_SNDBUF);
	return *rcv >= rmem ? 0 : -1;
}

int udp_sock_stats(int fd, struct udp_sock_stats *st)
{
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t len = sizeof mi;

	memset(mi, 0, sizeof mi);
	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &len) < 0)
		return -1;
	st->queued = mi[SK_MEMINFO_RMEM_ALLOC];
	st->rcvbuf = mi[SK_MEMINFO_RCVBUF];
	st->drops = mi[SK_MEMINFO_DROPS];
	return 0;
}

/* The filter runs with the packet's data at the UDP header: the payload starts at
 * offset 8. Loads past the end make a classic filter return 0 (drop), so short
 * datagrams (CRLF keepalives) are accepted before anything is loaded. */
int udp_sock_filter_invites(int fd, uint32_t accept)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 8 + 7, 0, 8),       /* short: accept */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 8),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x494e5649, 0, 6), /* "INVI" */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 11),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x49544520, 0, 4), /* "ITE " */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_RANDOM),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xffff),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, accept, 0, 1),     /* unlucky: drop */
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
	};
	struct sock_fprog prog = { sizeof code / sizeof code[0], code };
	int dummy = 0;

	if (accept < 65536)
		return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
	if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &dummy, sizeof dummy) < 0 &&
	    errno != ENOENT)
		return -1;
	return 0;
}
