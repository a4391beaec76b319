#!/usr/bin/env bash
# More slow lookups than the resolver runs at once (issue 10, item 1): rm's resolver
# runs at most 64 lookups; in a network namespace whose only nameserver (a python
# socket on 127.0.0.53) never answers, 300 in-dialog requests, each with a Route to a
# different host name, arrive at once, twice:
#  - every one is answered 503 within sip.dns.timeout_ms (1000) + 1 s: past the bound
#    a name fails at once instead of queueing. The second flood comes while the first
#    one's 64 lookups still run (glibc gives a silent nameserver 5 s a try), so every
#    one of its names is past the bound: all answered within 500 ms, half the lookup
#    timeout (a resolver without the bound would queue them and answer at 1000 ms);
#  - rm's memory does not grow with the second flood (lookups and cache are bounded);
#  - the log stays small (log.c writes at most 10 lines a second per call site);
#  - a normal call (MCP by numeric address) completes afterwards.
. "$(dirname "$0")/lib/netns.sh"
netns_enter "$@"
. "$(dirname "$0")/lib/rm.sh"

netns_names "127.0.0.1 localhost" "nameserver 127.0.0.53"
dns_silent 127.0.0.53

SP=$(free_port); HP=$(free_port); M1=$(free_port)
rm_write_config "$T/rm.json" "$SP" "$HP" "[
  {\"name\":\"g\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\"}]}]" "$(rm_default_profile g)"
sed -i 's/"sip_servers"/"dns": {"timeout_ms": 1000}, "sip_servers"/' "$T/rm.json"
uas_start mcp "$M1" uas_rr.xml u1
rm_start "$T/rm.json" "$HP"
wait_metric "$HP" rm_mcps_up -eq 1 10 || die "the MCP never came up"

# flood TAG: 300 INFOs at once, each routed to its own name; prints
# "answered n503 max_ms" (answers collected for 3 s)
flood() {
	/usr/bin/python3 - "$SP" "$1" <<'PY'
import socket, sys, time
port, tag = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
me = s.getsockname()[1]
sent = {}
for i in range(300):
    cid = f"dnsflood-{tag}-{i}"
    s.sendto((f"INFO sip:mcp@127.0.0.1:5999 SIP/2.0\r\n"
              f"Via: SIP/2.0/UDP 127.0.0.1:{me};rport;branch=z9hG4bK-{tag}-{i}\r\n"
              f"Route: <sip:127.0.0.1:{port};lr>, <sip:svc-{tag}-{i}.example.com;lr>\r\n"
              f"From: <sip:a@127.0.0.1>;tag=f{i}\r\nTo: <sip:b@127.0.0.1>;tag=t{i}\r\n"
              f"Call-ID: {cid}\r\nCSeq: 2 INFO\r\nMax-Forwards: 70\r\n"
              f"Content-Length: 0\r\n\r\n").encode(), ("127.0.0.1", port))
    sent[cid] = time.time()
final, worst, n503 = set(), 0.0, 0
end = time.time() + 3
while time.time() < end and len(final) < len(sent):
    s.settimeout(max(0.01, end - time.time()))
    try:
        m = s.recv(65535).decode("latin-1")
    except socket.timeout:
        break
    if m.startswith("SIP/2.0 1"):
        continue
    cid = next((l.split(":", 1)[1].strip() for l in m.split("\r\n")
                if l.lower().startswith("call-id:")), "")
    if cid in sent and cid not in final:
        final.add(cid)
        worst = max(worst, time.time() - sent[cid])
        n503 += m.startswith("SIP/2.0 503")
print(len(final), n503, int(worst * 1000))
PY
}
rss() { awk '/^VmRSS/ {print $2}' /proc/"$RM_PID"/status; }

read -r answered n503 worst < <(flood a)
[ "$answered" = 300 ] || die "first flood: $answered of 300 requests answered within 3 s"
[ "$n503" = 300 ] || die "first flood: $n503 of 300 answered 503"
[ "$worst" -le 2000 ] || die "first flood: the slowest answer took ${worst}ms (bound 1000 ms + 1 s)"
rss1=$(rss)
ok "300 requests naming 300 hosts under a silent nameserver: all 503, slowest ${worst}ms; rm RSS ${rss1} kB"
read -r answered n503 worst < <(flood b)
[ "$answered" = 300 ] && [ "$n503" = 300 ] || die "second flood: $answered answered, $n503 with 503"
[ "$worst" -le 500 ] ||
	die "second flood: the slowest answer took ${worst}ms: names past the bound of 64 lookups queued instead of failing at once"
rss2=$(rss)
[ $((rss2 - rss1)) -le 8192 ] || die "rm grew from $rss1 to $rss2 kB with the second flood"
ok "a second flood of 300 new names: all 503, slowest ${worst}ms; RSS $rss1 -> $rss2 kB"

lines=$(log_count "$T/rm.log" "dns:|does not resolve")
[ "$lines" -le 150 ] || die "600 unresolvable names made $lines log lines: $(grep -m3 -E 'dns:|does not resolve' "$T/rm.log")"
ok "log: $lines resolver line(s) for 600 unresolvable names, e.g. $(grep -E 'dns:' "$T/rm.log" | grep -v suppressed | tail -n 1 | cut -c24-140)"

uac_run call "$SP" uac_rr.xml 1 1 5 -d 10 || true
[ "$OK" = 1 ] || die "a normal call did not complete after the floods"
ok "a normal call completes after the floods"
