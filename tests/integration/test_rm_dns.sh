#!/usr/bin/env bash
# Name resolution never blocks rm's SIP thread (issue 10, item 1). Runs itself inside
# a network namespace with only loopback up and its own /etc/resolv.conf and
# /etc/hosts (unshare -n -m, bind mounts), twice:
#   unreachable  resolv.conf names 10.255.255.1: no route in the namespace, every
#                query fails at once (ENETUNREACH);
#   silent       resolv.conf names 127.0.0.53, where a python UDP socket reads the
#                queries and never answers (every lookup runs into its timeout);
#   nxdomain     resolv.conf names 127.0.0.54, a stub answering NXDOMAIN: 404.
# Each case: the MCP is configured by a name that /etc/hosts resolves; an in-dialog
# request whose Route names services.example.com is answered 503/404 within
# sip.dns.timeout_ms (+ slack); a normal call then completes within 3 s; /healthz is
# 200; the log stays small (no sofia-sip resolver loop); SIGTERM stops rm within the
# drain bound. A third check: with sip.dns "off" a named MCP is refused at load.
. "$(dirname "$0")/lib/netns.sh"
netns_enter "$@"
. "$(dirname "$0")/lib/rm.sh"

netns_names $'127.0.0.1 localhost\n127.0.0.1 mcp.test.internal' ""
getent hosts mcp.test.internal | grep -q 127.0.0.1 || die "the namespace's /etc/hosts is not used"

# a DNS server that reads and never answers
dns_silent 127.0.0.53 "$T/dns_queries"
# a DNS server that answers every query NXDOMAIN (no such name)
cat >"$T/dns_nx.py" <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.54", 53))
while True:
    q, peer = s.recvfrom(4096)
    if len(q) < 12:
        continue
    # same id, QR=1 + RD from the query, RA=1, RCODE=3; the question echoed
    flags = bytes([0x80 | (q[2] & 0x01), 0x83])
    s.sendto(q[:2] + flags + q[4:6] + b"\0\0\0\0\0\0" + q[12:], peer)
PY
/usr/bin/python3 "$T/dns_nx.py" &
bg_pid $!

# in_dialog_request PORT CALLID: an INFO inside a (made-up) dialog whose next hop is a
# name; prints rm's answer status line and the time it took (ms).
in_dialog_request() {
	local t0 t1 r
	t0=$(date +%s%N)
	r=$(printf 'INFO sip:mcp@127.0.0.1:5999 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-%s\r\nRoute: <sip:127.0.0.1:%s;lr>, <sip:services.example.com;lr>\r\nFrom: <sip:a@127.0.0.1>;tag=f%s\r\nTo: <sip:b@127.0.0.1>;tag=t%s\r\nCall-ID: dns-%s\r\nCSeq: 2 INFO\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
		"$RANDOM$RANDOM" "$1" "$RANDOM" "$RANDOM" "$2" | SIP_WAIT=${SIP_WAIT:-6} sip_send_wait "$1" || true)
	t1=$(date +%s%N)
	echo "${r%%$'\r'*} $(((t1 - t0) / 1000000))"
}
# like sip_send, but waits up to SIP_WAIT seconds for a final (non-1xx) answer
sip_send_wait() {
	[ -f "$T/sip_send_wait.py" ] || cat >"$T/sip_send_wait.py" <<'PY'
import os, socket, sys, time
data = sys.stdin.buffer.read()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.sendto(data, ("127.0.0.1", int(sys.argv[1])))
end = time.time() + float(os.environ.get("SIP_WAIT", "6"))
while time.time() < end:
    s.settimeout(max(0.01, end - time.time()))
    try:
        r = s.recv(65536).decode("latin-1")
    except socket.timeout:
        break
    if not r.startswith("SIP/2.0 1"):
        sys.stdout.write(r); sys.exit(0)
sys.exit(1)
PY
	/usr/bin/python3 "$T/sip_send_wait.py" "$1"
}

run_case() { # NAME NAMESERVER EXPECTED-STATUS-REGEX
	local name=$1 ns=$2 want=$3
	echo "nameserver $ns" >"$T/resolv.conf"
	local SP HP M1 t0 t1 r ms size
	SP=$(free_port); HP=$(free_port); M1=$(free_port)
	: >"$T/rm.log"
	rm_write_config "$T/rm.json" "$SP" "$HP" "[
	  {\"name\":\"udp\",\"members\":[{\"uri\":\"sip:mcp.test.internal:$M1\"}]}]" \
		"$(rm_default_profile udp), \"session\": {\"drain_timeout_s\": 2}"
	sed -i 's/"sip_servers"/"dns": {"timeout_ms": 1000, "cache_s": 1}, "sip_servers"/' "$T/rm.json"
	uas_start "mcp_$name" "$M1" uas_rr.xml u1
	local mcp_pid=$UAS_PID
	rm_start "$T/rm.json" "$HP"
	# the MCP (by name, from /etc/hosts) comes up
	for _ in $(seq 50); do
		[ "$(metric "$HP" rm_mcps_up)" = 1 ] && break; sleep 0.1
	done
	[ "$(metric "$HP" rm_mcps_up)" = 1 ] || die "$name: the MCP named mcp.test.internal never came up"
	ok "$name: MCP configured as mcp.test.internal (via /etc/hosts) is up"

	r=$(in_dialog_request "$SP" "$name-1")
	ms=${r##* }
	[[ "$r" =~ ^SIP/2.0\ ($want) ]] ||
		die "$name: in-dialog request naming services.example.com: got '$r', want $want"
	[ "$ms" -le 2500 ] || die "$name: the unresolvable target was answered after ${ms}ms"
	ok "$name: Route to services.example.com answered '${r% *}' in ${ms}ms"
	# a second one while the first lookup may still run: answered as well
	r=$(in_dialog_request "$SP" "$name-2")
	case "$r" in "SIP/2.0 503"* | "SIP/2.0 404"*) ;; *) die "$name: second request: '$r'" ;; esac

	t0=$(date +%s%N)
	uac_run "call_$name" "$SP" uac_rr.xml 1 1 3 -d 10 || true
	t1=$(date +%s%N)
	[ "$OK" = 1 ] || die "$name: a normal call did not complete within 3 s after the DNS request"
	ok "$name: a normal call completed in $(((t1 - t0) / 1000000))ms"
	http_get "$HP" /healthz >/dev/null || die "$name: /healthz is not 200"

	# the MCP's name stops resolving: past cache_s (1 s) the last good address is kept
	printf '127.0.0.1 localhost\n' >"$T/hosts"
	for _ in $(seq 60); do grep -q "cannot resolve mcp.test.internal" "$T/rm.log" && break; sleep 0.1; done
	grep -q "cannot resolve mcp.test.internal" "$T/rm.log" || die "$name: mcp.test.internal never re-resolved"
	# the MCP stays up over several OPTIONS rounds (500 ms, 2 failures mark it down)
	for _ in $(seq 15); do
		[ "$(metric "$HP" rm_mcps_up)" = 1 ] ||
			die "$name: the MCP went down when its name stopped resolving"
		sleep 0.1
	done
	uac_run "grace_$name" "$SP" uac_rr.xml 1 1 3 -d 10 || true
	[ "$OK" = 1 ] || die "$name: a call to the MCP whose name stopped resolving failed"
	grep -q "cannot resolve mcp.test.internal.*keeping the last good address" "$T/rm.log" ||
		die "$name: the log does not say the last good address was kept"
	ok "$name: mcp.test.internal stopped resolving; its last good address still serves calls"
	printf '127.0.0.1 localhost\n127.0.0.1 mcp.test.internal\n' >"$T/hosts"

	size=$(stat -c %s "$T/rm.log")
	[ "$size" -lt 100000 ] || die "$name: rm's log grew to $size bytes"
	! grep -q sres_ "$T/rm.log" || die "$name: sofia-sip's resolver ran: $(grep -m1 sres_ "$T/rm.log")"
	ok "$name: log is $size bytes, no sofia-sip resolver activity"

	t0=$(date +%s%N)
	kill -TERM "$RM_PID"
	for _ in $(seq 60); do kill -0 "$RM_PID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$RM_PID" 2>/dev/null && die "$name: rm still runs 6 s after SIGTERM (drain bound 2 s)"
	t1=$(date +%s%N)
	ok "$name: SIGTERM stopped rm in $(((t1 - t0) / 1000000))ms"
	kill "$mcp_pid" 2>/dev/null || true
	cat "$T/rm.log" >>"$T/rm-all.log"
}

run_case unreachable 10.255.255.1 503
run_case silent 127.0.0.53 503
run_case nxdomain 127.0.0.54 404
[ -s "$T/dns_queries" ] || die "the silent DNS stub saw no query: the test did not exercise a lookup"
ok "the silent DNS stub received $(cat "$T/dns_queries") queries"

# sip.dns "off": names are refused when the configuration is loaded
SP=$(free_port); HP=$(free_port)
rm_write_config "$T/off.json" "$SP" "$HP" \
	'[{"name":"n","members":[{"uri":"sip:mcp.test.internal:5070"}]}]' "$(rm_default_profile n)"
sed -i 's/"sip_servers"/"dns": "off", "sip_servers"/' "$T/off.json"
if "$RM_BIN" --check-config "$T/off.json" >"$T/off.out" 2>&1; then
	die "sip.dns off accepted an MCP named by host name"
fi
grep -q "mcp.test.internal" "$T/off.out" || die "the error does not name the host: $(cat "$T/off.out")"
ok "sip.dns off: $(head -c 160 "$T/off.out")"
