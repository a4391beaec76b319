/*
 * stomp_load: a STOMP 1.2 load generator for rs (tests and benchmarks).
 *
 *   stomp_load -p PORT [-n COUNT] [-w WINDOW] [-r RATE] [-i PREFIX] [-s START]
 *              [-d DEST] [-o RECEIPTS_FILE] [-u LOGIN -P PASSCODE] [-q]
 *
 * Sends COUNT schema-1 CDRs (ids PREFIX-START .. PREFIX-(START+COUNT-1)) on one
 * connection, pipelined with at most WINDOW unreceipted at a time, each SEND asking
 * for a receipt. RATE limits records/s (0 = as fast as possible). With -o, every
 * receipted id is appended to the file as its RECEIPT arrives (flushed at once, so a
 * test can trust the file even if rs dies). Ends with one line:
 *   sent N receipted M seconds S rate R/s
 * Exit: 0 all receipted, 1 an ERROR frame or a lost connection, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "record.h"
#include "stomp.h"
#include "util.h"

static int connect_to(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		perror("stomp_load: connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int make_body(char *out, size_t cap, const char *prefix, long long i)
{
	long long start = 1700000000000LL + i * 10;
	return snprintf(out, cap,
			"{\"id\":\"%s-%lld\",\"schema\":1,\"call_id\":\"%lld-call@10.0.0.1\","
			"\"session_id\":\"5f0c7a9e-0000-4000-8000-%012lld\",\"node\":\"rm-1\","
			"\"tenant\":\"acme\",\"profile\":\"acme-ivr\",\"service_type\":\"voicexml\","
			"\"lrg\":\"ivr\",\"mcp\":\"sip:127.0.0.1:5070\",\"caller\":\"5551234\","
			"\"dnis\":\"8005551000\",\"start_ms\":%lld,\"answer_ms\":%lld,"
			"\"end_ms\":%lld,\"duration_ms\":%d,\"disposition\":\"answered\","
			"\"sip_status\":200,\"ended_by\":\"caller\",\"attempts\":1,"
			"\"usage_level\":\"L1\"}",
			prefix, i, i, i, start, start + 100, start + 100 + 30000, 30000);
}

int main(int argc, char **argv)
{
	int port = 0, o, quiet = 0;
	long long count = 10000, start = 0, window = 1000;
	double rate = 0;
	const char *prefix = "load", *dest = REC_DEST_CDR, *rfile = NULL;
	const char *login = NULL, *pass = NULL;

	while ((o = getopt(argc, argv, "p:n:w:r:i:s:d:o:u:P:q")) != -1) {
		switch (o) {
		case 'p': port = atoi(optarg); break;
		case 'n': count = atoll(optarg); break;
		case 'w': window = atoll(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 'i': prefix = optarg; break;
		case 's': start = atoll(optarg); break;
		case 'd': dest = optarg; break;
		case 'o': rfile = optarg; break;
		case 'u': login = optarg; break;
		case 'P': pass = optarg; break;
		case 'q': quiet = 1; break;
		default:
			fprintf(stderr, "usage: stomp_load -p PORT [-n COUNT] [-w WINDOW] [-r RATE]"
					" [-i PREFIX] [-s START] [-d DEST] [-o FILE] [-q]\n");
			return 2;
		}
	}
	if (port <= 0 || window < 1) {
		fprintf(stderr, "stomp_load: -p PORT is required\n");
		return 2;
	}
	FILE *rf = rfile ? fopen(rfile, "a") : NULL;
	if (rfile && !rf) {
		perror(rfile);
		return 2;
	}
	int fd = connect_to(port);
	size_t ocap = 1 << 20, olen = 0;
	char *obuf = malloc(ocap), body[2048], rid[32];
	stomp_parser_t *p = stomp_parser_new(NULL);
	stomp_header_t ch[4] = { { "accept-version", "1.2" }, { "host", "rs" } };
	size_t nch = 2;
	if (login) {
		ch[nch++] = (stomp_header_t){ "login", login };
		ch[nch++] = (stomp_header_t){ "passcode", pass ? pass : "" };
	}
	olen = stomp_encode(obuf, ocap, STOMP_CMD_CONNECT, ch, nch, NULL, 0);

	long long sent = 0, acked = 0;
	int connected = 0, rc = 0;
	int64_t t0 = util_mono_us();
	char inbuf[65536], err[256];
	while (acked < count) {
		/* Fill the output while the window and the rate allow. */
		while (connected && sent < count && sent - acked < window && olen + 4096 < ocap) {
			if (rate > 0 && (double)sent > (util_mono_us() - t0) / 1e6 * rate)
				break;
			int blen = make_body(body, sizeof(body), prefix, start + sent);
			snprintf(rid, sizeof(rid), "%lld", start + sent);
			stomp_header_t h[] = { { "destination", dest },
					       { "content-type", "application/json" },
					       { "receipt", rid } };
			olen += stomp_encode(obuf + olen, ocap - olen, STOMP_CMD_SEND, h, 3, body,
					     (size_t)blen);
			sent++;
		}
		struct pollfd pf = { fd, POLLIN | (olen ? POLLOUT : 0), 0 };
		int timeout = (rate > 0 && sent < count && sent - acked < window) ? 1 : 5000;
		int n = poll(&pf, 1, timeout);
		if (n < 0 && errno != EINTR) {
			perror("poll");
			rc = 1;
			break;
		}
		if (n == 0 && timeout == 5000) {
			/* Nothing for 5 s: keep waiting, rs may be journaling. */
			if (!quiet)
				fprintf(stderr, "stomp_load: waiting (sent %lld receipted %lld)\n",
					sent, acked);
			continue;
		}
		if (pf.revents & POLLOUT) {
			ssize_t w = write(fd, obuf, olen);
			if (w < 0 && errno != EAGAIN && errno != EINTR) {
				perror("stomp_load: write");
				rc = 1;
				break;
			}
			if (w > 0) {
				memmove(obuf, obuf + w, olen - (size_t)w);
				olen -= (size_t)w;
			}
		}
		if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(fd, inbuf, sizeof(inbuf));
			if (r <= 0) {
				fprintf(stderr, "stomp_load: connection lost\n");
				rc = 1;
				break;
			}
			size_t off = 0;
			while (off < (size_t)r) {
				size_t used;
				stomp_frame_t f;
				enum stomp_status st = stomp_parser_feed(p, inbuf + off, (size_t)r - off,
									 &used, &f, NULL, err, sizeof(err));
				if (st == STOMP_ERROR) {
					fprintf(stderr, "stomp_load: bad frame from server: %s\n", err);
					rc = 1;
					goto out;
				}
				off += used;
				if (st != STOMP_FRAME)
					break;
				if (f.command == STOMP_CMD_CONNECTED) {
					connected = 1;
				} else if (f.command == STOMP_CMD_RECEIPT) {
					acked++;
					if (rf) {
						const char *id = stomp_frame_header(&f, "receipt-id");
						fprintf(rf, "%s-%s\n", prefix, id ? id : "?");
					}
				} else if (f.command == STOMP_CMD_ERROR) {
					const char *m = stomp_frame_header(&f, "message");
					fprintf(stderr, "stomp_load: ERROR %s: %s\n", m ? m : "",
						f.body ? f.body : "");
					rc = 1;
					goto out;
				}
			}
			if (rf)
				fflush(rf);
		}
	}
out:;
	double secs = (util_mono_us() - t0) / 1e6;
	printf("sent %lld receipted %lld seconds %.3f rate %.0f/s\n", sent, acked, secs,
	       secs > 0 ? acked / secs : 0);
	if (rf)
		fclose(rf);
	stomp_parser_free(p);
	free(obuf);
	close(fd);
	return rc ? rc : (acked == count ? 0 : 1);
}
