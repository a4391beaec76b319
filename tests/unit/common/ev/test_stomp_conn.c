/* Unit tests for common/ev/stomp_conn.c on a real loopback pair (127.0.0.1, a listener
 * on a free port, one event_base): frames split across reads and several frames in
 * one read, back-pressure pause/resume, heart-beats kept and missed, the deadline,
 * close-after-flush of a large frame, bad input, and closing from inside a callback. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "stomp_conn.h"
#include "util.h"

#define MAXF 16

/* One side of the pair: what its callbacks saw. */
struct side {
	stomp_conn_t *sc;
	int nframes;
	char body[MAXF][64];
	size_t blen[MAXF];
	int opened, closed, bad;
	enum stomp_conn_end why;
	size_t big;              /* length of a large body received, if any */
	bool pause_after_one;    /* pause after the first frame */
	bool close_in_frame;     /* stomp_conn_close inside on_frame */
	int64_t closed_us;
};

struct fx {
	struct event_base *base;
	struct evconnlistener *lis;
	int port;
	struct side srv, cli;
	stomp_conn_opts_t srv_opts;
};

static void on_open(stomp_conn_t *sc, void *arg)
{
	((struct side *)arg)->opened++;
}

static void on_frame(stomp_conn_t *sc, const stomp_frame_t *f, void *arg)
{
	struct side *s = arg;
	if (f->body_len > 1000) {
		s->big = f->body_len;
	} else if (s->nframes < MAXF) {
		memcpy(s->body[s->nframes], f->body, f->body_len < 63 ? f->body_len : 63);
		s->blen[s->nframes] = f->body_len;
	}
	s->nframes++;
	if (s->pause_after_one)
		stomp_conn_pause(sc, true);
	if (s->close_in_frame) {
		stomp_conn_close(sc);
		s->sc = NULL;
	}
}

static void on_bad(stomp_conn_t *sc, const char *err, void *arg)
{
	struct side *s = arg;
	s->bad++;
	stomp_conn_end(sc);
}

static void on_close(stomp_conn_t *sc, enum stomp_conn_end why, const char *d, void *arg)
{
	struct side *s = arg;
	s->closed++;
	s->why = why;
	s->sc = NULL;
	s->closed_us = util_mono_us();
}

static const stomp_conn_cbs_t cbs = { on_open, on_frame, on_bad, on_close };

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int len, void *arg)
{
	struct fx *x = arg;
	x->srv.sc = stomp_conn_accept(x->base, NULL, fd, &x->srv_opts, &cbs, &x->srv);
}

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	x->base = event_base_new();
	x->lis = evconnlistener_new_bind(x->base, accept_cb, x, LEV_OPT_CLOSE_ON_FREE, 8,
					 (struct sockaddr *)&sin, sizeof(sin));
	if (!x->lis)
		return -1;
	getsockname(evconnlistener_get_fd(x->lis), (struct sockaddr *)&sin, &sl);
	x->port = ntohs(sin.sin_port);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	stomp_conn_close(x->srv.sc);
	stomp_conn_close(x->cli.sc);
	evconnlistener_free(x->lis);
	event_base_free(x->base);
	free(x);
	return 0;
}

/* Run the loop until *flag is true or ms pass. */
static void run_until(struct fx *x, const int *flag, int ms)
{
	int64_t end = util_mono_us() + (int64_t)ms * 1000;
	while ((!flag || !*flag) && util_mono_us() < end) {
		event_base_loop(x->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
}

/* Run the loop until *count reaches n or ms pass. */
static void run_until_n(struct fx *x, const int *count, int n, int ms)
{
	int64_t end = util_mono_us() + (int64_t)ms * 1000;
	while (*count < n && util_mono_us() < end) {
		event_base_loop(x->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
}

/* A raw client socket connected to the listener, the server side accepted. */
static int raw_client(struct fx *x)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(x->port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	for (int i = 0; i < 2000 && !x->srv.sc; i++)
		run_until(x, NULL, 1);
	assert_non_null(x->srv.sc);
	return fd;
}

/* A stomp_conn client connected to the listener, both sides up. */
static void pair(struct fx *x)
{
	char err[256];
	x->cli.sc = stomp_conn_connect(x->base, NULL, NULL, "127.0.0.1", x->port, NULL, &cbs,
				       &x->cli, err, sizeof(err));
	assert_non_null(x->cli.sc);
	run_until(x, &x->cli.opened, 2000);
	for (int i = 0; i < 2000 && !x->srv.sc; i++)
		run_until(x, NULL, 1);
	assert_int_equal(x->cli.opened, 1);
	assert_non_null(x->srv.sc);
}

static const char frames[] = "SEND\ndestination:/q\n\nfirst\0\n\n"
			     "SEND\ncontent-length:5\n\na\0b\0c\0"
			     "\r\nSEND\n\nthird\0";

/* Byte by byte, each byte its own read: the frames come out whole. */
static void test_framing_partial_reads(void **state)
{
	struct fx *x = *state;
	int fd = raw_client(x);

	for (size_t i = 0; i < sizeof(frames) - 1; i++) {
		assert_int_equal(write(fd, &frames[i], 1), 1);
		run_until(x, NULL, 2);
	}
	run_until_n(x, &x->srv.nframes, 3, 2000);
	assert_int_equal(x->srv.nframes, 3);
	assert_memory_equal(x->srv.body[0], "first", 5);
	assert_int_equal(x->srv.blen[1], 5);
	assert_memory_equal(x->srv.body[1], "a\0b\0c", 5);
	assert_memory_equal(x->srv.body[2], "third", 5);
	close(fd);
	run_until(x, &x->srv.closed, 2000);
	assert_int_equal(x->srv.why, STOMP_CONN_EOF);
}

/* Three frames in one read, the reader paused after the first: one frame until it
 * resumes, then the two buffered ones (no new bytes needed). */
static void test_several_frames_one_read_and_pause(void **state)
{
	struct fx *x = *state;
	int fd = raw_client(x);

	x->srv.pause_after_one = true;
	assert_int_equal(write(fd, frames, sizeof(frames) - 1), (ssize_t)sizeof(frames) - 1);
	run_until_n(x, &x->srv.nframes, 1, 2000);
	run_until(x, NULL, 100);
	assert_int_equal(x->srv.nframes, 1);
	assert_true(stomp_conn_paused(x->srv.sc));
	x->srv.pause_after_one = false;
	stomp_conn_pause(x->srv.sc, false);
	assert_int_equal(x->srv.nframes, 1); /* never from inside the call */
	run_until_n(x, &x->srv.nframes, 3, 2000);
	assert_int_equal(x->srv.nframes, 3);
	assert_memory_equal(x->srv.body[2], "third", 5);
	close(fd);
}

/* Heart-beats: a peer that beats every 200 ms keeps a 200 ms receiver open; once it
 * stops, the receiver closes after the tolerance (200 ms + 1 s), not before. */
static void test_heartbeat_kept_then_missed(void **state)
{
	struct fx *x = *state;

	pair(x);
	stomp_conn_heartbeat(x->cli.sc, 200, 0);
	stomp_conn_heartbeat(x->srv.sc, 0, 200);
	run_until(x, &x->srv.closed, 2500);
	assert_int_equal(x->srv.closed, 0);
	int64_t t0 = util_mono_us();
	stomp_conn_heartbeat(x->cli.sc, 0, 0);
	run_until(x, &x->srv.closed, 4000);
	assert_int_equal(x->srv.closed, 1);
	assert_int_equal(x->srv.why, STOMP_CONN_HB_TIMEOUT);
	assert_true(x->srv.closed_us - t0 >= 1000 * 1000);
	assert_true(x->srv.closed_us - t0 < 2500 * 1000);
	run_until(x, &x->cli.closed, 2000);
	assert_int_equal(x->cli.why, STOMP_CONN_EOF);
	assert_int_equal(x->srv.nframes, 0); /* heart-beats are not frames */
}

/* The deadline is a timer: closing with STOMP_CONN_DEADLINE even while bytes flow;
 * disarmed, nothing happens. */
static void test_deadline(void **state)
{
	struct fx *x = *state;

	x->srv_opts.deadline_ms = 300;
	pair(x);
	stomp_conn_heartbeat(x->cli.sc, 50, 0);
	run_until(x, &x->srv.closed, 2000);
	assert_int_equal(x->srv.why, STOMP_CONN_DEADLINE);
	run_until(x, &x->cli.closed, 2000);

	memset(&x->srv, 0, sizeof(x->srv));
	memset(&x->cli, 0, sizeof(x->cli));
	pair(x);
	stomp_conn_deadline(x->srv.sc, 0);
	run_until(x, &x->srv.closed, 600);
	assert_int_equal(x->srv.closed, 0);
}

/* stomp_conn_end after a frame larger than the socket buffers: the peer gets all of
 * it, then the end of the stream; the ender sees STOMP_CONN_DONE. */
static void test_close_after_flush(void **state)
{
	struct fx *x = *state;
	size_t n = 600 * 1024;
	char *body = malloc(n);

	memset(body, 'x', n);
	pair(x);
	assert_int_equal(stomp_conn_send(x->srv.sc, STOMP_CMD_MESSAGE, NULL, 0, body, n), 0);
	stomp_conn_end(x->srv.sc);
	assert_true(stomp_conn_ending(x->srv.sc));
	assert_int_equal(stomp_conn_send(x->srv.sc, STOMP_CMD_MESSAGE, NULL, 0, "late", 4), -1);
	assert_int_equal(x->srv.closed, 0); /* never from inside the call */
	run_until(x, &x->cli.closed, 5000);
	assert_int_equal(x->cli.big, n);
	assert_int_equal(x->cli.why, STOMP_CONN_EOF);
	assert_int_equal(x->srv.closed, 1);
	assert_int_equal(x->srv.why, STOMP_CONN_DONE);
	free(body);
}

/* Not STOMP: on_bad_input once, and the owner's stomp_conn_end closes. */
static void test_bad_input(void **state)
{
	struct fx *x = *state;
	int fd = raw_client(x);
	char buf[16];

	assert_int_equal(write(fd, "SEND\nno colon here\n\n\0", 21), 21);
	run_until(x, &x->srv.closed, 2000);
	assert_int_equal(x->srv.bad, 1);
	assert_int_equal(x->srv.why, STOMP_CONN_DONE);
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);
	close(fd);
}

/* stomp_conn_close inside on_frame: no further callback, no use after free (ASan). */
static void test_close_inside_callback(void **state)
{
	struct fx *x = *state;
	int fd = raw_client(x);

	x->srv.close_in_frame = true;
	assert_int_equal(write(fd, frames, sizeof(frames) - 1), (ssize_t)sizeof(frames) - 1);
	run_until_n(x, &x->srv.nframes, 1, 2000);
	run_until(x, NULL, 100);
	assert_int_equal(x->srv.nframes, 1);
	assert_int_equal(x->srv.closed, 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_framing_partial_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_several_frames_one_read_and_pause, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat_kept_then_missed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_after_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_inside_callback, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
