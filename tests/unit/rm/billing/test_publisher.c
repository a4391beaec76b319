/* Tests for rm/billing/publisher.c against a small STOMP 1.2 server written in python
 * (stdlib only, embedded below, started as a child process on 127.0.0.1):
 * receipts release spool entries; a killed and restarted server gets every record
 * (nothing lost); primary down -> backup -> fail-back; a permanent per-record ERROR
 * (retryable:false) is dead-lettered, counted, released and does not block the rest;
 * a retryable ERROR (retryable:true, or no retryable header) and a connection-level
 * ERROR keep every record in the spool until the server takes it; billing sends
 * billing.login / billing.passcode (env override) in CONNECT. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "billing.h"
#include "metrics.h"
#include "publisher.h"
#include "rm_config.h"
#include "spool.h"

/* argv: port outfile [hold_after]. Logs "R <receipt> <body>" for each SEND it
 * receipts, "H ..." for one it holds (no receipt after hold_after SENDs), and
 * answers a body containing BAD with ERROR receipt-id + retryable:false + close, as
 * rs does for a malformed record. Logs "C login=.. passcode=.." per CONNECT. The file
 * outfile.mode, read at each SEND, switches behaviour: "retry" answers every SEND
 * with ERROR receipt-id + retryable:true + close (rs's "journal full"), "nohdr" the
 * same without a retryable header (logged "E <receipt>"), "connerr" holds SENDs and
 * after the 4th on a connection sends an ERROR without receipt-id and closes ("X"). */
static const char stomp_server_py[] =
	"import socket, sys, threading\n"
	"modef = sys.argv[2] + '.mode'\n"
	"port = int(sys.argv[1]); out = open(sys.argv[2], 'a', buffering=1)\n"
	"hold_after = int(sys.argv[3]) if len(sys.argv) > 3 else -1\n"
	"lock = threading.Lock(); nsend = [0]\n"
	"srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
	"srv.bind(('127.0.0.1', port)); srv.listen(16)\n"
	"def frames(conn):\n"
	"    buf = b''\n"
	"    while True:\n"
	"        while buf[:1] == b'\\n' or buf[:2] == b'\\r\\n':\n"
	"            buf = buf[1:] if buf[:1] == b'\\n' else buf[2:]\n"
	"        i = buf.find(b'\\n\\n')\n"
	"        if i < 0:\n"
	"            d = conn.recv(65536)\n"
	"            if not d: return\n"
	"            buf += d; continue\n"
	"        lines = buf[:i].decode().split('\\n'); cmd = lines[0].strip('\\r'); h = {}\n"
	"        for l in lines[1:]:\n"
	"            k, _, v = l.rstrip('\\r').partition(':'); h.setdefault(k, v)\n"
	"        s = i + 2\n"
	"        while True:\n"
	"            if 'content-length' in h:\n"
	"                e = s + int(h['content-length'])\n"
	"                if len(buf) > e: break\n"
	"            else:\n"
	"                e = buf.find(b'\\0', s)\n"
	"                if e >= 0: break\n"
	"            d = conn.recv(65536)\n"
	"            if not d: return\n"
	"            buf += d\n"
	"        body = buf[s:e]; buf = buf[e + 1:]\n"
	"        yield cmd, h, body\n"
	"def mode():\n"
	"    try:\n"
	"        return open(modef).read().strip()\n"
	"    except OSError:\n"
	"        return ''\n"
	"def handle(conn):\n"
	"    held = 0\n"
	"    for cmd, h, body in frames(conn):\n"
	"        if cmd in ('CONNECT', 'STOMP'):\n"
	"            out.write('C login=%s passcode=%s\\n' % (h.get('login', '-'), h.get('passcode', '-')))\n"
	"            conn.sendall(b'CONNECTED\\nversion:1.2\\nheart-beat:0,0\\n\\n\\0')\n"
	"        elif cmd == 'SEND':\n"
	"            r = h.get('receipt', ''); m = mode()\n"
	"            ok = h.get('persistent') == 'true' and h.get('content-type') == 'application/json'\n"
	"            if b'BAD' in body or not ok:\n"
	"                conn.sendall(('ERROR\\nreceipt-id:%s\\nretryable:false\\nmessage:field id: bad\\n\\n\\0' % r).encode())\n"
	"                conn.close(); return\n"
	"            if m in ('retry', 'nohdr'):\n"
	"                out.write('E %s\\n' % r)\n"
	"                x = 'retryable:true\\n' if m == 'retry' else ''\n"
	"                conn.sendall(('ERROR\\nreceipt-id:%s\\n%smessage:journal full\\n\\nretry later\\0' % (r, x)).encode())\n"
	"                conn.close(); return\n"
	"            if m == 'connerr':\n"
	"                held += 1\n"
	"                if held >= 4:\n"
	"                    out.write('X\\n')\n"
	"                    conn.sendall(b'ERROR\\nmessage:server trouble\\n\\n\\0')\n"
	"                    conn.close(); return\n"
	"                continue\n"
	"            with lock:\n"
	"                nsend[0] += 1; hold = hold_after >= 0 and nsend[0] > hold_after\n"
	"                out.write('%s %s %s %s\\n' % ('H' if hold else 'R', r, h.get('destination'), body.decode()))\n"
	"            if not hold:\n"
	"                conn.sendall(('RECEIPT\\nreceipt-id:%s\\n\\n\\0' % r).encode())\n"
	"    conn.close()\n"
	"while True:\n"
	"    c, _ = srv.accept()\n"
	"    threading.Thread(target=handle, args=(c,), daemon=True).start()\n";

struct fx {
	char dir[64];
	char script[96];
	struct event_base *base;
	spool_t *spool;
	publisher_t *pub;
	pid_t servers[4];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256], sdir[96];
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_publisher.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->script, sizeof(f->script), "%s/stomp_server.py", f->dir);
	FILE *fp = fopen(f->script, "w");
	if (!fp)
		return -1;
	fputs(stomp_server_py, fp);
	fclose(fp);
	snprintf(sdir, sizeof(sdir), "%s/spool", f->dir);
	spool_opts_t so = { .dir = sdir, .segment_bytes = 4096 };
	f->spool = spool_open(&so, err, sizeof(err));
	f->base = event_base_new();
	if (!f->spool || !f->base)
		return -1;
	*state = f;
	return 0;
}

static void kill_server(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	for (int i = 0; i < 4; i++)
		kill_server(&f->servers[i]);
	publisher_free(f->pub);
	spool_close(f->spool);
	event_base_free(f->base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static unsigned short free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static bool port_open(unsigned short port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static pid_t start_server(struct fx *f, unsigned short port, const char *out, int hold)
{
	char ps[16], hs[16];
	snprintf(ps, sizeof(ps), "%u", port);
	snprintf(hs, sizeof(hs), "%d", hold);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/usr/bin/python3", "python3", f->script, ps, out, hs, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && !port_open(port); i++)
		usleep(10000);
	assert_true(port_open(port));
	return pid;
}

static void noop(evutil_socket_t fd, short w, void *a)
{
	(void)fd;
	(void)w;
	(void)a;
}

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

typedef bool (*pred_fn)(struct fx *f);

/* Run the loop until pred holds or ms pass; returns pred. */
static bool run_until(struct fx *f, pred_fn pred, int ms)
{
	struct event *t = event_new(f->base, -1, EV_PERSIST, noop, NULL);
	struct timeval tv = { 0, 10000 };
	int64_t end = now_ms() + ms;
	event_add(t, &tv);
	while (!(pred && pred(f)) && now_ms() < end)
		event_base_loop(f->base, EVLOOP_ONCE);
	event_free(t);
	return pred ? pred(f) : true;
}

static bool spool_empty(struct fx *f)
{
	spool_stats_t st;
	spool_get_stats(f->spool, &st);
	return st.depth == 0;
}

static void append_range(struct fx *f, int from, int to, int bad)
{
	char body[128];
	uint64_t seq;
	for (int i = from; i < to; i++) {
		snprintf(body, sizeof(body), "{\"id\":\"rec-%d\",\"schema\":1%s}", i,
			 i == bad ? ",\"x\":\"BAD\"" : "");
		assert_int_equal(spool_append(f->spool, "/queue/gvp.cdr", body, strlen(body),
					      &seq), SPOOL_OK);
		if (f->pub)
			publisher_submit(f->pub, seq);
	}
	assert_int_equal(spool_flush(f->spool), 0);
}

/* Distinct record numbers receipted ('R' lines) in the given server logs, as a
 * bitmap over 0..cap-1; returns how many. Checks the SENDs' destination too. */
static int receipted_ids(const char *const *files, size_t n, bool *seen, int cap)
{
	int count = 0;
	memset(seen, 0, (size_t)cap);
	for (size_t k = 0; k < n; k++) {
		FILE *fp = fopen(files[k], "r");
		char line[512];
		if (!fp)
			continue;
		while (fgets(line, sizeof(line), fp)) {
			char *p = strstr(line, "\"rec-");
			int id;
			if (line[0] != 'R' || !p || sscanf(p, "\"rec-%d", &id) != 1)
				continue;
			assert_non_null(strstr(line, " /queue/gvp.cdr "));
			if (id >= 0 && id < cap && !seen[id]) {
				seen[id] = true;
				count++;
			}
		}
		fclose(fp);
	}
	return count;
}

static void make_pub(struct fx *f, const unsigned short *ports, size_t n, unsigned window)
{
	publisher_endpoint_t eps[4];
	char err[256];
	for (size_t i = 0; i < n; i++)
		eps[i] = (publisher_endpoint_t){ .host = "127.0.0.1", .port = ports[i] };
	publisher_opts_t o = { .endpoints = eps, .nendpoints = n, .window = window,
			       .backoff_min_ms = 50, .backoff_max_ms = 400,
			       .failback_ms = 200, .connect_timeout_ms = 1000,
			       .heartbeat_ms = 1000 };
	f->pub = publisher_new(f->base, f->spool, &o, err, sizeof(err));
	if (!f->pub)
		fail_msg("publisher_new: %s", err);
	publisher_start(f->pub);
}

static void test_publish_and_release(void **state)
{
	struct fx *f = *state;
	unsigned short port = free_port();
	char out[128];
	bool seen[300];
	publisher_stats_t st;

	snprintf(out, sizeof(out), "%s/a.log", f->dir);
	f->servers[0] = start_server(f, port, out, -1);
	append_range(f, 0, 100, -1); /* before start: replayed on connect */
	make_pub(f, &port, 1, 16);
	append_range(f, 100, 300, -1);
	assert_true(run_until(f, spool_empty, 10000));
	publisher_get_stats(f->pub, &st);
	assert_int_equal(st.receipted, 300);
	assert_int_equal(st.sent, 300);
	assert_int_equal(st.rejected, 0);
	assert_true(st.connected);
	assert_int_equal(st.endpoint, 0);
	assert_int_equal(st.inflight, 0);
	const char *files[] = { out };
	assert_int_equal(receipted_ids(files, 1, seen, 300), 300);
	/* releases are durable: a reopened spool has nothing to replay */
	assert_int_equal(spool_flush(f->spool), 0);
}

static bool held_window(struct fx *f)
{
	publisher_stats_t st;
	publisher_get_stats(f->pub, &st);
	return st.receipted == 30 && st.inflight == 16;
}

static bool disconnected(struct fx *f)
{
	publisher_stats_t st;
	publisher_get_stats(f->pub, &st);
	return !st.connected;
}

static void test_server_restart_nothing_lost(void **state)
{
	struct fx *f = *state;
	unsigned short port = free_port();
	char out1[128], out2[128];
	bool seen[150];
	publisher_stats_t st;

	snprintf(out1, sizeof(out1), "%s/1.log", f->dir);
	snprintf(out2, sizeof(out2), "%s/2.log", f->dir);
	/* the first server receipts 30 records, then goes silent */
	f->servers[0] = start_server(f, port, out1, 30);
	make_pub(f, &port, 1, 16);
	append_range(f, 0, 100, -1);
	assert_true(run_until(f, held_window, 5000));
	kill_server(&f->servers[0]);
	assert_true(run_until(f, disconnected, 3000));
	append_range(f, 100, 150, -1); /* while rs is down: spooled */
	run_until(f, NULL, 300);
	spool_stats_t ss;
	spool_get_stats(f->spool, &ss);
	assert_int_equal(ss.depth, 120);

	f->servers[1] = start_server(f, port, out2, -1);
	assert_true(run_until(f, spool_empty, 10000));
	publisher_get_stats(f->pub, &st);
	assert_int_equal(st.receipted, 150);
	assert_true(st.reconnects >= 1);
	assert_true(st.connect_failures >= 1);
	const char *files[] = { out1, out2 };
	assert_int_equal(receipted_ids(files, 2, seen, 150), 150);
	/* the second server got everything the first did not receipt */
	const char *second[] = { out2 };
	assert_int_equal(receipted_ids(second, 1, seen, 150), 120);
}

static bool on_primary(struct fx *f)
{
	publisher_stats_t st;
	publisher_get_stats(f->pub, &st);
	return st.connected && st.endpoint == 0;
}

static void test_failover_failback(void **state)
{
	struct fx *f = *state;
	unsigned short ports[2] = { free_port(), free_port() };
	char out1[128], out2[128];
	bool seen[40];
	publisher_stats_t st;

	snprintf(out1, sizeof(out1), "%s/primary.log", f->dir);
	snprintf(out2, sizeof(out2), "%s/backup.log", f->dir);
	f->servers[1] = start_server(f, ports[1], out2, -1);
	make_pub(f, ports, 2, 8);
	append_range(f, 0, 20, -1);
	assert_true(run_until(f, spool_empty, 5000));
	publisher_get_stats(f->pub, &st);
	assert_int_equal(st.endpoint, 1);
	const char *b[] = { out2 };
	assert_int_equal(receipted_ids(b, 1, seen, 40), 20);

	f->servers[0] = start_server(f, ports[0], out1, -1);
	assert_true(run_until(f, on_primary, 5000));
	append_range(f, 20, 40, -1);
	assert_true(run_until(f, spool_empty, 5000));
	publisher_get_stats(f->pub, &st);
	assert_int_equal(st.failbacks, 1);
	assert_int_equal(st.receipted, 40);
	const char *a[] = { out1 };
	assert_int_equal(receipted_ids(a, 1, seen, 40), 20);
	for (int i = 20; i < 40; i++)
		assert_true(seen[i]);
}

static void test_rejected_record_released(void **state)
{
	struct fx *f = *state;
	unsigned short port = free_port();
	char out[128];
	bool seen[10];
	publisher_stats_t st;

	snprintf(out, sizeof(out), "%s/r.log", f->dir);
	f->servers[0] = start_server(f, port, out, -1);
	make_pub(f, &port, 1, 4);
	append_range(f, 0, 10, 3);
	assert_true(run_until(f, spool_empty, 5000));
	publisher_get_stats(f->pub, &st);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.receipted, 9);
	const char *files[] = { out };
	assert_int_equal(receipted_ids(files, 1, seen, 10), 9);
	assert_false(seen[3]);

	/* the refused record is in the dead-letter file, with the server's reason */
	char dl[128], line[1024];
	snprintf(dl, sizeof(dl), "%s/spool/dead-letter.jsonl", f->dir);
	FILE *fp = fopen(dl, "r");
	if (!fp)
		fail_msg("no dead-letter file %s", dl);
	int lines = 0;
	while (fgets(line, sizeof(line), fp)) {
		lines++;
		assert_non_null(strstr(line, "rec-3"));
		assert_non_null(strstr(line, "field id: bad"));
		assert_non_null(strstr(line, "\"destination\":\"/queue/gvp.cdr\""));
	}
	fclose(fp);
	assert_int_equal(lines, 1);
}

/* Lines of the server log starting with tag (a letter and a space, or "X"). */
static int count_lines(const char *file, const char *tag)
{
	FILE *fp = fopen(file, "r");
	char line[1024];
	int n = 0;
	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		if (strncmp(line, tag, strlen(tag)) == 0)
			n++;
	fclose(fp);
	return n;
}

static void set_mode(const char *out, const char *mode)
{
	char path[160];
	snprintf(path, sizeof(path), "%s.mode", out);
	if (!mode) {
		unlink(path);
		return;
	}
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(mode, fp);
	fclose(fp);
}

static uint64_t depth(struct fx *f)
{
	spool_stats_t st;
	spool_get_stats(f->spool, &st);
	return st.depth;
}

/* rs says "journal full, retry later" (retryable:true), then gives no retryable
 * header at all: every record stays in the spool, the publisher backs off between
 * attempts, and once rs takes records again all of them arrive. */
static void test_retryable_error_keeps_record(void **state)
{
	struct fx *f = *state;
	unsigned short port = free_port();
	char out[128];
	bool seen[10];
	publisher_stats_t st;

	snprintf(out, sizeof(out), "%s/t.log", f->dir);
	set_mode(out, "retry");
	f->servers[0] = start_server(f, port, out, -1);
	make_pub(f, &port, 1, 4);
	append_range(f, 0, 10, -1);
	run_until(f, NULL, 1000);
	int refusals = count_lines(out, "E ");
	assert_true(refusals >= 2);     /* it does retry */
	assert_true(refusals <= 12);    /* with back-off (50..400 ms), not in a hot loop */
	assert_int_equal(depth(f), 10); /* nothing released */
	publisher_get_stats(f->pub, &st);
	assert_int_equal(st.rejected, 0);
	assert_int_equal(st.receipted, 0);

	set_mode(out, "nohdr"); /* not proven permanent: kept as well */
	int before = count_lines(out, "E ");
	run_until(f, NULL, 800);
	assert_true(count_lines(out, "E ") > before);
	assert_int_equal(depth(f), 10);

	set_mode(out, NULL);
	assert_true(run_until(f, spool_empty, 5000));
	publisher_get_stats(f->pub, &st);
	assert_int_equal(st.receipted, 10);
	assert_int_equal(st.rejected, 0);
	const char *files[] = { out };
	assert_int_equal(receipted_ids(files, 1, seen, 10), 10);
}

/* An ERROR without receipt-id while four SENDs are in flight: none of them (nor the
 * six behind) is released; the reconnects back off although each CONNECT succeeds;
 * all ten arrive once the server behaves. */
static void test_connection_error_keeps_inflight(void **state)
{
	struct fx *f = *state;
	unsigned short port = free_port();
	char out[128];
	bool seen[10];
	publisher_stats_t st;

	snprintf(out, sizeof(out), "%s/x.log", f->dir);
	set_mode(out, "connerr");
	f->servers[0] = start_server(f, port, out, -1);
	make_pub(f, &port, 1, 4);
	append_range(f, 0, 10, -1);
	run_until(f, NULL, 800);
	assert_true(count_lines(out, "X") >= 1);
	assert_true(count_lines(out, "X") <= 8); /* back-off 50, 100, 200, 400 ms */
	assert_int_equal(depth(f), 10);
	publisher_get_stats(f->pub, &st);
	assert_int_equal(st.rejected, 0);
	assert_int_equal(st.receipted, 0);

	set_mode(out, NULL);
	assert_true(run_until(f, spool_empty, 5000));
	publisher_get_stats(f->pub, &st);
	assert_int_equal(st.receipted, 10);
	const char *files[] = { out };
	assert_int_equal(receipted_ids(files, 1, seen, 10), 10);
}

static struct billing *g_billing;
static metrics_t *g_metrics;

static double mv(const char *name)
{
	metric_t *m = metrics_find(g_metrics, name, NULL);
	if (!m)
		fail_msg("metric %s is not registered", name);
	return metric_value(m);
}

static bool billing_done(struct fx *f)
{
	(void)f;
	metric_t *dl = metrics_find(g_metrics, "rm_billing_dead_letter_total", NULL);
	return mv("rm_billing_published_total") >= 1 && dl && metric_value(dl) >= 1;
}

static void take(const char *body)
{
	size_t len = strlen(body);
	struct billing_item *it = malloc(sizeof(*it) + len + 1);
	assert_non_null(it);
	it->kind = BILLING_CDR;
	it->end_ms = 0;
	it->len = len;
	memcpy(it->body, body, len + 1);
	billing_take(g_billing, it);
}

/* billing.login / billing.passcode from rm's config (RM_BILLING_PASSCODE overrides
 * the file) go out in CONNECT; a permanently refused record is counted in
 * rm_billing_dead_letter_total and not in rm_billing_lost_total. */
static void test_billing_login_and_dead_letter(void **state)
{
	struct fx *f = *state;
	unsigned short port = free_port();
	char out[128], json[1024], err[512];
	struct rm_config cfg;

	snprintf(out, sizeof(out), "%s/b.log", f->dir);
	f->servers[0] = start_server(f, port, out, -1);
	snprintf(json, sizeof(json),
		 "{\"lrgs\":[{\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:127.0.0.1:5070\"}]}],"
		 "\"profiles\":[{\"name\":\"p\",\"lrg\":\"ivr\"}],"
		 "\"billing\":{\"mode\":\"stomp\",\"endpoints\":[\"127.0.0.1:%u\"],"
		 "\"spool_dir\":\"%s/bspool\",\"login\":\"rm-user\",\"passcode\":\"file-pw\"}}",
		 port, f->dir);
	setenv("RM_BILLING_PASSCODE", "env-pw", 1);
	int rc = rm_config_parse(json, "rm.json", &cfg, err, sizeof(err));
	unsetenv("RM_BILLING_PASSCODE");
	if (rc != 0)
		fail_msg("rm_config_parse: %s", err);
	g_metrics = metrics_new();
	g_billing = billing_new(f->base, &cfg, g_metrics, err, sizeof(err));
	if (!g_billing)
		fail_msg("billing_new: %s", err);
	take("{\"id\":\"rec-bad\",\"schema\":1,\"x\":\"BAD\"}");
	take("{\"id\":\"rec-good\",\"schema\":1}");
	bool done = run_until(f, billing_done, 5000);
	billing_free(g_billing);
	g_billing = NULL;
	rm_config_free(&cfg);
	assert_true(count_lines(out, "C login=rm-user passcode=env-pw") >= 1);
	assert_int_equal(count_lines(out, "C "), count_lines(out, "C login=rm-user "));
	assert_true(done);
	assert_int_equal((int)mv("rm_billing_dead_letter_total"), 1);
	assert_int_equal((int)mv("rm_billing_lost_total"), 0);
	metrics_free(g_metrics);
	g_metrics = NULL;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_publish_and_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_restart_nothing_lost, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failover_failback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected_record_released, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_retryable_error_keeps_record, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_connection_error_keeps_inflight, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_billing_login_and_dead_letter, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
