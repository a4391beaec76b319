/* Unit tests for rm/sip/udp_sock.c on real loopback sockets: finding the socket by
 * port, its queue and drop counters, and the kernel filter that drops INVITEs (and
 * only INVITEs) while overload control engages it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "udp_sock.h"

/* A UDP socket bound to 127.0.0.1 on an ephemeral port; *port filled. */
static int bound(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void send_to(int fd, int port, const char *text)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(sendto(fd, text, strlen(text), 0, (struct sockaddr *)&a, sizeof a),
			 (ssize_t)strlen(text));
}

/* The next datagram waiting on fd into buf ("" when none). */
static const char *next(int fd, char *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_find_and_stats(void **state)
{
	int port, port2, rx = bound(&port), tx = bound(&port2);
	struct udp_sock_stats st;
	char buf[256];
	(void)state;

	assert_int_equal(udp_sock_find(port), rx);
	assert_int_equal(udp_sock_stats(rx, &st), 0);
	assert_int_equal(st.queued, 0);
	send_to(tx, port, "OPTIONS sip:x SIP/2.0\r\n\r\n");
	assert_int_equal(udp_sock_stats(rx, &st), 0);
	assert_true(st.queued > 0);
	assert_string_equal(next(rx, buf, sizeof buf), "OPTIONS sip:x SIP/2.0\r\n\r\n");
	close(rx);
	close(tx);
}

static void test_filter_invites(void **state)
{
	int port, port2, rx = bound(&port), tx = bound(&port2);
	char buf[256];
	(void)state;

	assert_int_equal(udp_sock_filter_invites(rx, 0), 0);
	send_to(tx, port, "INVITE sip:a@b SIP/2.0\r\n\r\n");
	send_to(tx, port, "ACK sip:a@b SIP/2.0\r\n\r\n");
	send_to(tx, port, "INVITED sip:a@b SIP/2.0\r\n\r\n"); /* another method */
	send_to(tx, port, "SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n");
	send_to(tx, port, "\r\n\r\n"); /* a keepalive, shorter than "INVITE " */
	send_to(tx, port, "BYE sip:a@b SIP/2.0\r\n\r\n");
	assert_string_equal(next(rx, buf, sizeof buf), "ACK sip:a@b SIP/2.0\r\n\r\n");
	assert_string_equal(next(rx, buf, sizeof buf), "INVITED sip:a@b SIP/2.0\r\n\r\n");
	assert_string_equal(next(rx, buf, sizeof buf), "SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n");
	assert_string_equal(next(rx, buf, sizeof buf), "\r\n\r\n");
	assert_string_equal(next(rx, buf, sizeof buf), "BYE sip:a@b SIP/2.0\r\n\r\n");
	assert_string_equal(next(rx, buf, sizeof buf), "");
	/* off again: INVITEs arrive */
	assert_int_equal(udp_sock_filter_invites(rx, 65536), 0);
	send_to(tx, port, "INVITE sip:a@b SIP/2.0\r\n\r\n");
	assert_string_equal(next(rx, buf, sizeof buf), "INVITE sip:a@b SIP/2.0\r\n\r\n");
	close(rx);
	close(tx);
}

/* accept 1/2: about half of 400 INVITEs pass, every OPTIONS does */
static void test_filter_fraction(void **state)
{
	int port, port2, rx = bound(&port), tx = bound(&port2);
	int rcv = 1 << 20, invites = 0, options = 0;
	char buf[256];
	(void)state;

	setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
	assert_int_equal(udp_sock_filter_invites(rx, 32768), 0);
	for (int i = 0; i < 400; i++) {
		send_to(tx, port, "INVITE sip:a@b SIP/2.0\r\n\r\n");
		send_to(tx, port, "OPTIONS sip:a@b SIP/2.0\r\n\r\n");
	}
	while (*next(rx, buf, sizeof buf))
		*buf == 'I' ? invites++ : options++;
	assert_int_equal(options, 400);
	assert_in_range(invites, 140, 260);
	close(rx);
	close(tx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_and_stats),
		cmocka_unit_test(test_filter_invites),
		cmocka_unit_test(test_filter_fraction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
