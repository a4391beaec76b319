#!/usr/bin/env bash
# Dead dialogs end (issue 10): with session.keepalive_s 1 rm sends OPTIONS inside
# each answered dialog to both sides.
#   1. a healthy call (both sides answer OPTIONS: sipp -aa) of 3.5 s outlives three
#      rounds and ends normally (ended_by caller), with keepalives sent;
#   2. a caller that vanishes after the ACK (etc/sipp/uac_vanish.xml: sipp exits, its
#      port closes): within 5 s the MCP gets rm's BYE (its scenario completes), the
#      call ends as rm_calls_ended_total{ended_by="rm-keepalive"} and the MCP's port
#      is released (rm_mcp_active 0, rm_calls_active 0);
#   3. a caller that stays but never answers (a python socket that set up the call
#      and then reads and ignores everything): ended within two rounds.
. "$(dirname "$0")/lib/rm.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port)
rm_write_config "$T/rm.json" "$SP" "$HP" \
	"[{\"name\":\"g\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\"}]}]" \
	"$(rm_default_profile g), \"session\": {\"keepalive_s\": 1}"
uas_start mcp "$M1" uas_rr.xml u1
rm_start "$T/rm.json" "$HP"
for _ in $(seq 50); do [ "$(metric "$HP" rm_mcps_up)" = 1 ] && break; sleep 0.1; done
[ "$(metric "$HP" rm_mcps_up)" = 1 ] || die "the MCP never came up"

ended() { local v; v=$(metric "$HP" "rm_calls_ended_total{ended_by=\"$1\"}"); echo "${v%.*}"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# wait_ended N MS: until N calls ended by rm-keepalive, at most MS of wall-clock time
wait_ended() {
	local end=$(($(now_ms) + $2))
	while [ "$(now_ms)" -lt "$end" ]; do
		[ "$(ended rm-keepalive)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# 1. healthy call
uac_run healthy "$SP" uac_rr.xml 1 1 15 -d 3500 -aa || true
[ "$OK" = 1 ] || die "a healthy 3.5 s call did not complete with keepalive_s 1 ($OK/1)"
sent=$(metric "$HP" rm_keepalive_sent_total)
[ "${sent%.*}" -ge 4 ] || die "rm sent $sent keepalive OPTIONS during a 3.5 s call"
[ "$(ended rm-keepalive)" = 0 ] || die "keepalive ended a healthy call"
[ "$(ended caller)" = 1 ] || die "the healthy call did not end by the caller's BYE"
ok "a healthy 3.5 s call survived $sent keepalive OPTIONS and ended by the caller's BYE"

# 2. vanishing caller
uac_run vanish "$SP" uac_vanish.xml 1 1 10 || true
[ "$OK" = 1 ] || die "the vanishing caller's call was not set up ($OK/1)"
t0=$(date +%s%N) # the caller is gone now (sipp exited after its ACK)
wait_ended 1 5000 || die "the vanished caller's call did not end by keepalive within 5 s"
t1=$(date +%s%N)
ok "vanished caller: call ended by rm-keepalive $(((t1 - t0) / 1000000))ms after the caller left"
# per-MCP gauges are published by rm's one-second tick
for _ in $(seq 20); do
	[ "$(metric "$HP" "rm_mcp_active{mcp=\"sip:127.0.0.1:$M1\"}")" = 0 ] && break
	sleep 0.1
done
[ "$(metric "$HP" "rm_mcp_active{mcp=\"sip:127.0.0.1:$M1\"}")" = 0 ] ||
	die "the MCP's port is still held: rm_mcp_active=$(metric "$HP" "rm_mcp_active{mcp=\"sip:127.0.0.1:$M1\"}")"
[ "$(metric "$HP" rm_calls_active)" = 0 ] || die "rm_calls_active is not 0"
byes=$(metric "$HP" 'rm_byes_sent_total{to="mcp"}')
[ "${byes%.*}" -ge 1 ] || die "rm sent no BYE to the MCP"
# the MCP's scenario (INVITE, ACK, BYE) completes: 2 successful calls in its stats
for _ in $(seq 30); do uac_stats "$T/mcp.csv"; [ "$OK" = 2 ] && break; sleep 0.2; done
[ "$OK" = 2 ] || die "the MCP completed $OK of 2 calls: it did not get the BYE"
ok "the MCP got rm's BYE; its port is released (rm_mcp_active 0)"

# 3. a silent caller: its socket stays open, it answers nothing
cat >"$T/silent_caller.py" <<'PY'
import re, socket, sys, time
rm_port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
me = s.getsockname()[1]
inv = (f"INVITE sip:1000@127.0.0.1:{rm_port} SIP/2.0\r\n"
       f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK-silent1\r\n"
       f"From: <sip:silent@127.0.0.1:{me}>;tag=silent\r\nTo: <sip:1000@127.0.0.1>\r\n"
       f"Call-ID: silent-caller\r\nCSeq: 1 INVITE\r\nContact: <sip:silent@127.0.0.1:{me}>\r\n"
       "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
s.sendto(inv.encode(), ("127.0.0.1", rm_port))
s.settimeout(5)
while True:
    r = s.recv(65536).decode("latin-1")
    if r.startswith("SIP/2.0 200"):
        break
to = re.search(r"^To: (.*)$", r, re.M | re.I).group(1).strip()
contact = re.search(r"^Contact: *<([^>]*)>", r, re.M | re.I).group(1)
rr = re.findall(r"^Record-Route: (.*)$", r, re.M | re.I)
routes = ", ".join(x.strip() for x in reversed(rr))
ack = (f"ACK {contact} SIP/2.0\r\n"
       f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK-silent2\r\n"
       + (f"Route: {routes}\r\n" if routes else "") +
       f"From: <sip:silent@127.0.0.1:{me}>;tag=silent\r\nTo: {to}\r\n"
       "Call-ID: silent-caller\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
s.sendto(ack.encode(), ("127.0.0.1", rm_port))
print("answered and ACKed", flush=True)
end = time.time() + 30  # outlives the check below: no ICMP may end the call
n = 0
while time.time() < end:  # read and ignore: OPTIONS, BYE, retransmissions
    s.settimeout(max(0.01, end - time.time()))
    try:
        r = s.recv(65536).decode("latin-1")
        n += r.startswith("OPTIONS")
    except socket.timeout:
        break
print(f"ignored {n} OPTIONS", flush=True)
PY
/usr/bin/python3 "$T/silent_caller.py" "$SP" >"$T/silent.log" 2>&1 &
SILENT=$!
bg_pid $SILENT
for _ in $(seq 50); do grep -q ACKed "$T/silent.log" && break; sleep 0.1; done
grep -q ACKed "$T/silent.log" || die "the silent caller's call was not set up: $(cat "$T/silent.log")"
t0=$(date +%s%N)
wait_ended 2 6000 || die "the silent caller's call did not end by keepalive within 6 s"
t1=$(date +%s%N)
grep -q "call-id=silent-caller did not answer keepalive OPTIONS" "$T/rm.log" ||
	die "the log does not say the caller did not answer"
[ "$(metric "$HP" rm_calls_active)" = 0 ] || die "rm_calls_active is not 0 after the silent caller"
ok "silent caller: call ended by rm-keepalive $(((t1 - t0) / 1000000))ms after the ACK"
