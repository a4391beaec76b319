/* Unit tests for rm/sip/tcp_sock.c on real loopback sockets: the census of a
 * listener's accepted connections (count, unread bytes), shutting one down, and the
 * listener filter that makes the kernel refuse new connections (and only those). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp_sock.h"

static int listener(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* A non-blocking connect to port; returns the socket (connecting or connected). */
static int dial(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
	assert_true(rc == 0 || errno == EINPROGRESS);
	return fd;
}

/* Did fd's connect complete within ms? */
static int connected_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t l = sizeof err;

	if (poll(&p, 1, ms) != 1)
		return 0;
	return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) == 0 && err == 0;
}

static void test_census_and_shut(void **state)
{
	int port, lfd = listener(&port), c[3], s[3];
	struct tcp_conn conns[8];
	struct tcp_census cen;
	char buf[16];

	(void)state;
	for (int i = 0; i < 3; i++) {
		c[i] = dial(port);
		assert_true(connected_within(c[i], 1000));
		s[i] = accept(lfd, NULL, NULL);
		assert_true(s[i] >= 0);
	}
	assert_int_equal(write(c[1], "0123456789", 10), 10);
	/* the clients' own sockets have ephemeral local ports: not counted */
	assert_int_equal(tcp_sock_census(port, &cen, conns, 8), 0);
	assert_int_equal(cen.listen_fd, lfd);
	assert_int_equal(cen.n, 3);
	assert_int_equal(cen.queued, 10);
	/* too small an array: all counted, the first ones listed */
	assert_int_equal(tcp_sock_census(port, &cen, conns, 2), 0);
	assert_int_equal(cen.n, 3);

	assert_int_equal(tcp_sock_census(port, &cen, conns, 8), 0);
	struct tcp_conn victim = conns[0];
	assert_int_equal(tcp_sock_shut(port, &victim), 0);
	int k = victim.fd == s[0] ? 0 : victim.fd == s[1] ? 1 : 2;
	struct pollfd p = { .fd = c[k], .events = POLLIN };
	assert_int_equal(poll(&p, 1, 1000), 1);
	assert_int_equal(read(c[k], buf, sizeof buf), 0); /* the peer sees the close */
	/* a descriptor that is not that connection any more is left alone */
	struct tcp_conn stale = { s[(k + 1) % 3], victim.peer };
	assert_int_equal(tcp_sock_shut(port, &stale), -1);
	for (int i = 0; i < 3; i++) {
		close(c[i]);
		close(s[i]);
	}
	close(lfd);
}

static void test_refuse_new(void **state)
{
	int port, lfd = listener(&port);
	char buf[8];

	(void)state;
	int old = dial(port);
	assert_true(connected_within(old, 1000));
	int srv = accept(lfd, NULL, NULL);
	assert_true(srv >= 0);

	assert_int_equal(tcp_sock_refuse_new(lfd, 1), 0);
	int refused = dial(port);
	assert_false(connected_within(refused, 300)); /* its SYN was dropped */
	/* the established connection still carries data both ways */
	assert_int_equal(write(old, "ping", 4), 4);
	assert_int_equal(read(srv, buf, sizeof buf), 4);
	assert_int_equal(write(srv, "pong", 4), 4);
	struct pollfd p = { .fd = old, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 1000), 1);

	assert_int_equal(tcp_sock_refuse_new(lfd, 0), 0);
	assert_int_equal(tcp_sock_refuse_new(lfd, 0), 0); /* no filter: still fine */
	int later = dial(port);
	assert_true(connected_within(later, 1000));
	close(later);
	close(refused);
	close(old);
	close(srv);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_census_and_shut),
		cmocka_unit_test(test_refuse_new),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
