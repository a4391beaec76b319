/*
 * libFuzzer target for rm's real SIP path: the proxy (rm/proxy*.c, route, session,
 * monitor, cdr, billing record building) on a real su_root and real sockets, fed one
 * SIP message per input.
 *
 * Input: byte 0 is a set of flags, the rest is sent to rm as one message.
 *   bit 0       also send it over a fresh TCP connection (after the UDP datagram)
 *   bits 1-2    how the MCP answers what rm forwards to it: 0 never (attempt
 *               timeouts, failover), 1 200 OK, 2 503 (failover), 3 180 then 486
 *   bit 3       send the UDP datagram from the MCP's socket instead of the SIP
 *               Server's (requests an MCP originates)
 * Seeds (tests/fuzz/corpus/fuzz_sip/) start with an ASCII digit or ':', whose low
 * bits are these flags, so that the files stay readable; regress_* are inputs that
 * found bugs.
 *
 * The harness owns two UDP sockets on 127.0.0.1: the SIP Server ("caller", also
 * rm's sip_servers entry) and the only MCP of the only LRG. After sending, it steps
 * the root until, for two rounds, neither socket nor the TCP connection received
 * anything and rm received no request. It answers the MCP's requests as the flags
 * say, and the SIP Server's with 200 unless the MCP stays silent too; OPTIONS pings
 * always get 200 so that the MCP stays up. Unanswered requests keep nta transactions
 * for 32 s, so answering most of them is what keeps memory flat. State (sessions,
 * transactions, route counters) deliberately carries over between inputs, as in a
 * running rm: a crash may need the inputs before it to reproduce.
 *
 * Oracles: ASan/UBSan/LSan (leaks at exit, see fuzz_default_flags); every CDR rm
 * builds must decode and validate as rs would (record_decode), since a record rs
 * refuses is a lost bill; an input that makes rm receive more than FUZZ_MAX_REQUESTS
 * requests is a forwarding loop.
 *
 * Isolation: rm forwards wherever the input's Route or request-URI points and
 * resolves names through DNS. So that nothing leaves 127.0.0.1, Initialize moves the
 * process into its own network namespace (unshare; an unprivileged user namespace
 * when not root) where only loopback exists. If that is not possible the target
 * refuses to run, unless FUZZ_SIP_ALLOW_NET=1 says the host is isolated already.
 * FUZZ_SIP_LOG=1 shows rm's and sofia-sip's logs.
 */
#define SU_ROOT_MAGIC_T void

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include "billing.h"
#include "log.h"
#include "metrics.h"
#include "proxy.h"
#include "record.h"
#include "rm_config.h"

#define FUZZ_IDLE_ROUNDS 2 /* rounds with nothing received that end an input */
/* Requests rm may receive per copy of an input (UDP, TCP): a request it routes back
 * to itself comes round at most 256 times (Max-Forwards), plus what other calls
 * still in flight send meanwhile (seen: 66). Many more is a forwarding loop that
 * Max-Forwards does not end (those seen ended after 416-472 laps, at sofia-sip's size
 * limits). A heuristic: an abort here needs a look at the input, not a reflex fix. */
#define FUZZ_MAX_REQUESTS 400
#define FUZZ_MAX_ROUNDS 100000 /* a bound for the harness itself */

static struct {
	su_root_t *root;
	struct proxy *proxy;
	metrics_t *metrics;
	metric_t *requests; /* rm_sip_requests_total: rm is still receiving */
	int caller_fd, mcp_fd;
	struct sockaddr_in rm_addr;
	int rm_port, caller_port, mcp_port;
} F;

static void fuzz_die(const char *what)
{
	fprintf(stderr, "fuzz_sip: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* sofia-sip's resolver reads /etc/resolv.conf only; with the host's nameserver
 * unreachable it spins (socket, connect ENETUNREACH, close) for a long time on each
 * lookup. In a private mount namespace, point it at 127.0.0.1, where nothing answers
 * and a lookup fails at once. Best effort: without it lookups are only slow. */
static void fuzz_private_resolv_conf(void)
{
	char path[] = "/tmp/fuzz_sip_resolv.XXXXXX";
	int fd;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return;
	fd = mkstemp(path);
	if (fd < 0)
		return;
	if (write(fd, "nameserver 127.0.0.1\n", 21) == 21 &&
	    mount(path, "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0)
		fprintf(stderr, "fuzz_sip: cannot replace /etc/resolv.conf: %s\n",
			strerror(errno));
	close(fd);
	unlink(path);
}

/* Network and mount namespaces of our own, loopback up and nothing else (see the
 * top). */
static int fuzz_isolate(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	struct ifreq ifr;
	char map[64];
	int s;

	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) < 0)
			return -1;
		/* keep our own ids, so that crash files are written as us */
		write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof map, "%u %u 1", (unsigned)uid, (unsigned)uid);
		if (write_file("/proc/self/uid_map", map) < 0)
			return -1;
		snprintf(map, sizeof map, "%u %u 1", (unsigned)gid, (unsigned)gid);
		if (write_file("/proc/self/gid_map", map) < 0)
			return -1;
	}
	fuzz_private_resolv_conf();
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return -1;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		close(s);
		return -1;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
		close(s);
		return -1;
	}
	close(s);
	return 0;
}

static void loopback(struct sockaddr_in *sa, int port)
{
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* A socket of `type` bound to 127.0.0.1:want, or to a port the kernel picks when
 * want is taken. Returns the fd and the port in *port. */
static int bind_port(int type, int want, int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, type, 0);

	if (fd < 0)
		fuzz_die("socket");
	loopback(&sa, want);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		loopback(&sa, 0);
		if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
			fuzz_die("bind");
	}
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		fuzz_die("getsockname");
	*port = ntohs(sa.sin_port);
	return fd;
}

/* rm's port: free for both UDP and TCP. The usual ports when free, so that the seeds'
 * addresses (127.0.0.1:5060, MCP 5070, SIP Server 5090) mean what they say. */
static int pick_rm_port(void)
{
	for (int want = 5060;; want = 0) {
		int port, u = bind_port(SOCK_DGRAM, want, &port);
		struct sockaddr_in sa;
		int t = socket(AF_INET, SOCK_STREAM, 0);
		loopback(&sa, port);
		int ok = t >= 0 && bind(t, (struct sockaddr *)&sa, sizeof sa) == 0;
		close(u);
		if (t >= 0)
			close(t);
		if (ok)
			return port;
		if (want == 0)
			fuzz_die("no free port for rm");
	}
}

/* The billing end: every CDR must be one rs accepts. */
static void fuzz_bill(void *arg, struct billing_item *it)
{
	char field[64] = "", err[256] = "";
	record_t r;

	if (it->len != strlen(it->body))
		abort();
	if (it->kind == BILLING_CDR &&
	    record_decode(it->body, it->len, &r, field, sizeof field, err, sizeof err) < 0) {
		fprintf(stderr, "fuzz_sip: rm built a record rs refuses: %s: %s\n%s\n", field,
			err, it->body);
		abort();
	}
	free(it);
}

static const char fuzz_config[] =
	"{\"node\": \"fuzz-1\","
	" \"sip\": {\"listen\": \"127.0.0.1\", \"port\": %d, \"transports\": [\"udp\", \"tcp\"],"
	"         \"sip_servers\": [\"sip:127.0.0.1:%d\"],"
	"         \"dns\": \"off\"}," /* hermetic: no lookups of fuzzed names */
	" \"lrgs\": [{\"name\": \"ivr\", \"scheme\": \"least-used\","
	"            \"members\": [{\"uri\": \"sip:127.0.0.1:%d\", \"max_ports\": 4}]}],"
	" \"tenants\": [{\"name\": \"acme\", \"profile\": \"acme-ivr\","
	"               \"limits\": {\"l1\": 1, \"l2\": 2, \"l3\": 3}}],"
	" \"profiles\": [{\"name\": \"acme-ivr\", \"id\": \"1001\", \"tenant\": \"acme\","
	"                \"lrg\": \"ivr\", \"limits\": {\"l1\": 1, \"l2\": 1, \"l3\": 2}},"
	"               {\"name\": \"default\", \"tenant\": \"default\", \"lrg\": \"ivr\"}],"
	" \"dnis\": {\"8005551000\": \"acme-ivr\"},"
	" \"default_profile\": \"default\","
	" \"reject\": {\"code\": 503, \"retry_after\": 5,"
	"             \"reasons\": {\"profile-limit\": {\"code\": 486, \"retry_after\": 0}}},"
	" \"failover\": {\"codes\": [500, 503], \"on_timeout\": true, \"max_attempts\": 2,"
	"               \"attempt_timeout_ms\": 100},"
	" \"monitor\": {\"interval_ms\": 200, \"timeout_ms\": 100, \"failures_to_down\": 3,"
	"              \"successes_to_up\": 1},"
	" \"session\": {\"max_duration_s\": 1, \"drain_timeout_s\": 0},"
	" \"billing\": {\"mode\": \"off\"},"
	" \"logging\": {\"level\": \"debug\"}}";

/* libFuzzer's per-input leak check scans the whole heap after every input that
 * allocated more than it freed, which for a stateful proxy is most of them (seen:
 * 50 exec/s instead of thousands). Default it off; LeakSanitizer still checks at exit, where
 * everything rm holds is reachable from F, so a leak is still reported. An explicit
 * -detect_leaks=1 on the command line wins (libFuzzer reads flags after this). */
static void fuzz_default_flags(int *argc, char ***argv)
{
	static char *args[64];
	static char flag[] = "-detect_leaks=0";
	int n = *argc;

	for (int i = 1; i < n; i++)
		if (strncmp((*argv)[i], "-detect_leaks=", 14) == 0)
			return;
	if (n < 1 || n + 2 > (int)(sizeof args / sizeof args[0]))
		return;
	args[0] = (*argv)[0];
	args[1] = flag;
	for (int i = 1; i < n; i++)
		args[i + 1] = (*argv)[i];
	args[n + 1] = NULL;
	*argc = n + 1;
	*argv = args;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rm_config *cfg;
	char json[sizeof fuzz_config + 64], err[512];
	const char *allow = getenv("FUZZ_SIP_ALLOW_NET");

	fuzz_default_flags(argc, argv);

	if (fuzz_isolate() < 0 && !(allow && strcmp(allow, "1") == 0)) {
		fprintf(stderr, "fuzz_sip: cannot get a private network namespace (%s); rm would "
			"send to any address an input names. Run where unshare(CLONE_NEWNET) "
			"works, or set FUZZ_SIP_ALLOW_NET=1 on an isolated host.\n",
			strerror(errno));
		exit(1);
	}
	/* sofia-sip's own log: quiet unless asked for */
	if (!getenv("FUZZ_SIP_LOG")) {
		setenv("SOFIA_DEBUG", "0", 0);
		setenv("NTA_DEBUG", "0", 0);
		setenv("TPORT_DEBUG", "0", 0);
	}
	if (log_init("rm", getenv("FUZZ_SIP_LOG") ? "-" : "/dev/null", LOGL_DEBUG, false, err,
		     sizeof err) < 0) {
		fprintf(stderr, "fuzz_sip: %s\n", err);
		exit(1);
	}

	F.rm_port = pick_rm_port();
	F.mcp_fd = bind_port(SOCK_DGRAM, 5070, &F.mcp_port);
	F.caller_fd = bind_port(SOCK_DGRAM, 5090, &F.caller_port);
	fcntl(F.mcp_fd, F_SETFL, O_NONBLOCK);
	fcntl(F.caller_fd, F_SETFL, O_NONBLOCK);
	loopback(&F.rm_addr, F.rm_port);

	snprintf(json, sizeof json, fuzz_config, F.rm_port, F.caller_port, F.mcp_port);
	cfg = calloc(1, sizeof *cfg);
	if (!cfg || rm_config_parse(json, "fuzz_sip.json", cfg, err, sizeof err) < 0) {
		fprintf(stderr, "fuzz_sip: config: %s\n", cfg ? err : "out of memory");
		exit(1);
	}
	if (su_init() != 0 || !(F.root = su_root_create(NULL))) {
		fprintf(stderr, "fuzz_sip: cannot start sofia-sip\n");
		exit(1);
	}
	F.metrics = metrics_new();
	F.proxy = proxy_create(F.root, cfg, F.metrics, err, sizeof err);
	if (!F.proxy) {
		fprintf(stderr, "fuzz_sip: proxy_create: %s\n", err);
		exit(1);
	}
	proxy_set_billing(F.proxy, fuzz_bill, NULL, true);
	F.requests = metrics_find(F.metrics, "rm_sip_requests_total", NULL);
	fprintf(stderr, "fuzz_sip: rm on 127.0.0.1:%d, MCP %d, SIP Server %d\n", F.rm_port,
		F.mcp_port, F.caller_port);
	return 0;
}

/* ---- the peers: the MCP and the SIP Server ------------------------------------ */

static int hdr_is(const char *line, size_t len, const char *full, char compact)
{
	size_t n = strlen(full);
	const char *c = memchr(line, ':', len);

	if (!c)
		return 0;
	while (c > line && (c[-1] == ' ' || c[-1] == '\t'))
		c--;
	if ((size_t)(c - line) == n && strncasecmp(line, full, n) == 0)
		return 1;
	return c - line == 1 && (line[0] | 0x20) == compact;
}

/* Answer the request req (as rm sent it) with `code` from fd, to `to`: Via, From, To
 * (with a tag), Call-ID and CSeq copied, no body. Either peer gives the MCP's Contact;
 * what matters is that rm gets a well-formed answer. */
static void peer_reply(int fd, const char *req, size_t len, int code,
		       const struct sockaddr_in *to)
{
	char out[16384];
	size_t o;
	const char *p = memchr(req, '\n', len), *end = req + len;

	o = (size_t)snprintf(out, sizeof out, "SIP/2.0 %d %s\r\n", code,
			     code == 200 ? "OK" : code == 180 ? "Ringing" : "Failure");
	while (p && ++p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((eol ? eol : end) - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break; /* end of headers */
		int is_to = hdr_is(p, n, "To", 't');
		if (is_to || hdr_is(p, n, "Via", 'v') || hdr_is(p, n, "From", 'f') ||
		    hdr_is(p, n, "Call-ID", 'i') || hdr_is(p, n, "CSeq", 0)) {
			bool tag = is_to && !memmem(p, n, ";tag=", 5);
			if (o + n + 32 >= sizeof out)
				return;
			memcpy(out + o, p, n);
			o += n;
			o += (size_t)snprintf(out + o, sizeof out - o, "%s\r\n",
					      tag ? ";tag=mcp-fuzz" : "");
		}
		p = eol;
	}
	o += (size_t)snprintf(out + o, sizeof out - o,
			      "Contact: <sip:mcp@127.0.0.1:%d>\r\nContent-Length: 0\r\n\r\n",
			      F.mcp_port);
	if (o < sizeof out)
		sendto(fd, out, o, 0, (const struct sockaddr *)to, sizeof *to);
}

/* Read everything rm sent to the MCP (fd is F.mcp_fd) or the SIP Server, answering
 * requests as `mode` says (see the top; the SIP Server answers 200 unless mode is 0).
 * Returns the number of datagrams read. */
static int drain_peer(int fd, int mode)
{
	char buf[65536];
	struct sockaddr_in from;
	socklen_t fl = sizeof from;
	ssize_t n;
	int got = 0;

	while ((n = recvfrom(fd, buf, sizeof buf - 1, MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl)) >= 0) {
		got++;
		fl = sizeof from;
		buf[n] = '\0';
		if (n < 8 || strncmp(buf, "SIP/2.0 ", 8) == 0 || strncmp(buf, "ACK ", 4) == 0)
			continue;
		if (fd == F.mcp_fd && strncmp(buf, "OPTIONS ", 8) == 0)
			peer_reply(fd, buf, (size_t)n, 200, &from);
		else if (fd == F.mcp_fd && strncmp(buf, "INVITE ", 7) == 0) {
			if (mode == 1)
				peer_reply(fd, buf, (size_t)n, 200, &from);
			else if (mode == 2)
				peer_reply(fd, buf, (size_t)n, 503, &from);
			else if (mode == 3) {
				peer_reply(fd, buf, (size_t)n, 180, &from);
				peer_reply(fd, buf, (size_t)n, 486, &from);
			}
		} else if (mode != 0)
			peer_reply(fd, buf, (size_t)n, 200, &from);
	}
	return got;
}

static int drain_fd(int fd)
{
	char buf[65536];
	int got = 0;

	while (fd >= 0 && recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
		got++;
	return got;
}

/* Send data over a new TCP connection to rm; the fd, or -1. */
static int tcp_send(const uint8_t *data, size_t size)
{
	struct linger lg = { 1, 0 }; /* close with RST: no TIME_WAIT pile-up */
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	if (connect(fd, (const struct sockaddr *)&F.rm_addr, sizeof F.rm_addr) < 0 ||
	    send(fd, data, size, MSG_NOSIGNAL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Step the root until, for FUZZ_IDLE_ROUNDS rounds, nothing reached the MCP, the SIP
 * Server or the TCP connection (tcp, or -1) and rm received no request. Returns the
 * number of requests rm received meanwhile. */
static double pump(int mode, int tcp)
{
	double first = metric_value(F.requests), seen = first;
	int idle = 0;

	for (int i = 0; i < FUZZ_MAX_ROUNDS && idle < FUZZ_IDLE_ROUNDS; i++) {
		su_root_step(F.root, 0);
		int got = drain_peer(F.mcp_fd, mode) + drain_peer(F.caller_fd, mode) +
			  drain_fd(tcp);
		if (metric_value(F.requests) != seen) {
			seen = metric_value(F.requests);
			got++;
		}
		idle = got ? 0 : idle + 1;
	}
	return seen - first;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned flags;
	int mode, tcp = -1;
	double n;

	if (size < 1 || size > 65000)
		return 0;
	flags = data[0];
	mode = (flags >> 1) & 3;
	data++;
	size--;
	/* what earlier inputs left in flight settles first: the count below is ours */
	pump(mode, -1);
	sendto(flags & 8 ? F.mcp_fd : F.caller_fd, data, size, 0,
	       (const struct sockaddr *)&F.rm_addr, sizeof F.rm_addr);
	if (flags & 1)
		tcp = tcp_send(data, size);
	n = pump(mode, tcp);
	if (n > FUZZ_MAX_REQUESTS * (tcp >= 0 ? 2 : 1)) {
		fprintf(stderr, "fuzz_sip: rm received %.0f requests for one input: a loop "
			"that Max-Forwards does not end\n", n);
		abort();
	}
	if (tcp >= 0) {
		close(tcp);
		su_root_step(F.root, 0); /* let rm see the reset */
	}
	return 0;
}
