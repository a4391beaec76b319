#!/usr/bin/env bash
# A TCP-only rm sheds like a UDP one (issue 10, item 2):
#  - with overload.max_cps 50, sipp over TCP offering 200 calls/s for 3 s: the excess
#    INVITEs get 503 with Retry-After, every admitted call completes, none is lost,
#    the MCP (over TCP) is never marked down;
#  - overload.max_tcp_connections 8: 30 connections opened at once are cut back to 8
#    (the newest closed by rm, counted in rm_tcp_refused_total), connection attempts
#    while 8 are open are refused by the kernel (SYN dropped), a SIP request on a
#    surviving connection is still answered, and once they close new connections and
#    calls are accepted again.
. "$(dirname "$0")/lib/rm.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port)
rm_write_config "$T/rm.json" "$SP" "$HP" "[
  {\"name\":\"g\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1;transport=tcp\",\"max_ports\":1000}]}]" \
	"$(rm_default_profile g), \"failover\": {\"max_attempts\": 1, \"attempt_timeout_ms\": 2000},
  \"overload\": {\"max_cps\": 50, \"max_tcp_connections\": 8}"
sed -i 's#"transports": \["udp", "tcp"\]#"transports": ["tcp"]#' "$T/rm.json"
grep -q '"transports": \["tcp"\]' "$T/rm.json" || die "could not make rm TCP-only"
uas_start mcp "$M1" uas_rr.xml t1
rm_start "$T/rm.json" "$HP"
wait_metric "$HP" rm_mcps_up -eq 1 10 || die "the MCP (TCP) never came up"

# ---- 4x max_cps over TCP ------------------------------------------------------------------
uac_run load "$SP" uac_overload.xml 600 200 20 -d 100 -t t1 || true
[ "$((OK + FAILED))" = 600 ] || die "load did not finish: $OK ok, $FAILED failed"
[ "$FAILED" = 0 ] || die "$FAILED calls over TCP failed (neither completed nor shed with Retry-After)"
shed=$(mval "$HP" 'rm_rejects_total{reason="overload"}')
answered=$(mval "$HP" 'rm_calls_total{disposition="answered"}')
[ "$shed" -ge 300 ] && [ "$shed" -le 500 ] || die "expected about 440 of 600 INVITEs shed at 50/s, got $shed"
[ "$((shed + answered))" = 600 ] || die "shed $shed + answered $answered != 600: admitted calls failed"
! grep -q "is down" "$T/rm.log" || die "the MCP was marked down: $(grep 'is down' "$T/rm.log")"
ok "600 INVITEs over TCP at 200/s with max_cps 50: $shed shed (503 + Retry-After), $answered answered, none lost"

# ---- a flood of connections ----------------------------------------------------------------
wait_metric "$HP" rm_tcp_connections -eq 0 5 || die "sipp's connection is still counted"
out=$(/usr/bin/python3 - "$SP" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def connect():
    s = socket.socket()
    s.settimeout(0.5)
    try:
        s.connect(("127.0.0.1", port))
        return s
    except OSError:
        s.close()
        return None
def alive(s):
    s.setblocking(False)
    try:
        return s.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
socks = [c for c in (connect() for _ in range(30)) if c]
end = time.time() + 3
while time.time() < end and sum(alive(s) for s in socks) > 8:
    time.sleep(0.05)
live = [s for s in socks if alive(s)]
late = [connect() for _ in range(3)]  # while 8 are open: the kernel drops the SYN
refused_late = sum(1 for c in late if c is None)
s = live[0] if live else None
answer = ""
if s:
    s.settimeout(2)
    me = s.getsockname()[1]
    s.sendall((f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/TCP 127.0.0.1:{me};branch=z9hG4bK-flood\r\n"
               f"From: <sip:a@127.0.0.1>;tag=f1\r\nTo: <sip:rm@127.0.0.1>\r\n"
               f"Call-ID: flood-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
               f"Content-Length: 0\r\n\r\n").encode())
    try:
        answer = s.recv(65535).decode(errors="replace").split("\r\n")[0]
    except OSError as e:
        answer = str(e)
print(f"{len(socks)} {len(live)} {refused_late} {answer}")
for c in socks + [c for c in late if c]:
    c.close()
PY
)
read -r opened live refused_late answer <<<"$out"
[ "$opened" -ge 9 ] || die "only $opened of 30 connections were accepted at first (the flood did not reach the limit)"
[ "$live" -le 8 ] || die "$live of $opened connections still open 3 s after the flood (limit 8)"
[ "$live" -ge 1 ] || die "rm closed every connection, not just the excess"
[ "$refused_late" = 3 ] || die "$((3 - refused_late)) of 3 connection attempts were accepted while 8 were open"
[[ "$answer" == "SIP/2.0 200"* ]] || die "OPTIONS on a surviving connection answered '$answer'"
refused=$(mval "$HP" rm_tcp_refused_total)
[ "$refused" -ge $((opened - 8)) ] || die "rm_tcp_refused_total is $refused, want >= $((opened - 8))"
ok "30 connections: $opened accepted, cut back to $live (rm_tcp_refused_total $refused), 3 of 3 later attempts refused, OPTIONS on a survivor: $answer"

wait_metric "$HP" rm_tcp_connections -eq 0 5 || die "rm still counts the flood's connections"
uac_run after "$SP" uac_rr.xml 5 10 10 -d 10 -t t1 || true
[ "$OK" = 5 ] || die "after the flood: $OK/5 calls over TCP succeeded"
ok "after the flood: new connections accepted again, 5/5 calls over TCP"
