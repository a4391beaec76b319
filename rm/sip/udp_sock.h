/*
 * udp_sock: the kernel side of rm's UDP SIP socket, which sofia-sip does not expose:
 * find it, size its buffers past net.core.rmem_max when rm may, and read its queue
 * and drop counters (SO_MEMINFO, Linux >= 4.12). Linux only; plain syscalls.
 */
#ifndef RM_UDP_SOCK_H
#define RM_UDP_SOCK_H

#include <stdbool.h>
#include <stdint.h>

struct udp_sock_stats {
	uint32_t queued;  /* bytes waiting in the receive queue (skb truesize) */
	uint32_t rcvbuf;  /* the receive buffer in force, bytes */
	uint32_t drops;   /* datagrams dropped since the socket was made (wraps) */
};

/* The UDP socket bound to `port` (any local address) among this process's
 * descriptors; -1 if none. The descriptor stays owned by sofia-sip. */
int udp_sock_find(int port);

/* Make the buffers of fd at least rmem and wmem bytes: SO_RCVBUF and SO_SNDBUF are capped by
 * net.core.rmem_max and wmem_max; then SO_RCVBUFFORCE and SO_SNDBUFFORCE (CAP_NET_ADMIN)
 * are tried. Fills *rcv and *snd with what the kernel reports (which counts its own
 * overhead: about twice what was asked). Returns 0, or -1 when the receive buffer
 * stays below rmem (the caller logs the sysctl to raise). */
int udp_sock_size(int fd, int rmem, int wmem, int *rcv, int *snd);

/* Queue and drops of fd now. Returns 0, or -1 (unsupported kernel, bad fd). */
int udp_sock_stats(int fd, struct udp_sock_stats *st);

/* Tell the kernel to drop new INVITEs before they are queued (they then cost rm
 * nothing: no wakeup, no copy, no parse): a classic BPF socket filter on fd that
 * lets through a datagram whose payload starts with "INVITE " only with probability
 * accept/65536 (the kernel's per-packet random number), and every other datagram.
 * accept >= 65536 detaches the filter. The last resort of overload control, for
 * when rm cannot even answer 503 as fast as INVITEs come: without it the full
 * buffer drops datagrams at random, the ACKs, BYEs and answers of admitted calls
 * among them. It drops re-INVITEs alike (they have a To tag, which a filter cannot
 * look for cheaply); their senders retransmit them. Returns 0, or -1 (errno set). */
int udp_sock_filter_invites(int fd, uint32_t accept);

#endif
