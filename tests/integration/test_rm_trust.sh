#!/usr/bin/env bash
# rm trusts by transport source address and is not a relay (issue 10, item 3):
#  - an INVITE from 127.0.0.5 (no SIP Server, MCP or sip.trusted network there) is
#    answered 403 over UDP and TCP and never reaches the MCP; with
#    sip.untrusted "drop" it gets no answer at all; both are counted;
#  - from a trusted source, OPTIONS and BYE (in and out of dialog) whose Route names a
#    third host are not relayed there (403);
#  - a MESSAGE whose Via claims the MCP's address is not sent to the SIP Server, from
#    127.0.0.5 nor from the SIP Server's own address (Via is never trusted);
#  - a burst of truncated INVITEs from a trusted source does not mark the MCP down,
#    and a normal INVITE still reaches the MCP with rm's Record-Route.
# Peers are tests/integration/lib/sip_peer.py (MCP, SIP Server, third host); requests come
# from tests/integration/lib/sip_raw.py sockets bound to 127.0.0.1 or 127.0.0.5.
. "$(dirname "$0")/lib/rm.sh"

PEER="$HELPERS/sip_peer.py"
RAW="$HELPERS/sip_raw.py"
SP=$(free_port); HP=$(free_port); M1=$(free_port); SS=$(free_port); X3=$(free_port)
write_cfg() { # write_cfg EXTRA_SIP_JSON
	rm_write_config "$T/rm.json" "$SP" "$HP" "[
  {\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\"}]}]" \
		"$(rm_default_profile ivr), \"failover\": {\"max_attempts\": 1, \"attempt_timeout_ms\": 500}"
	sed -i "s#\"sip:127.0.0.1:$((SP + 30))\"]#\"sip:127.0.0.1:$SS\"]$1#" "$T/rm.json"
	grep -q "sip:127.0.0.1:$SS" "$T/rm.json" || die "could not set sip_servers: $(cat "$T/rm.json")"
	"$RM_BIN" --check-config "$T/rm.json" >/dev/null || die "config refused: $(cat "$T/rm.json")"
}
write_cfg ""
sed 's#"sip_servers"#"trusted": ["10.0.0.0/40"], "sip_servers"#' "$T/rm.json" >"$T/bad.json"
if "$RM_BIN" --check-config "$T/bad.json" 2>"$T/bad.err"; then die "sip.trusted 10.0.0.0/40 accepted"; fi
grep -q 'sip.trusted' "$T/bad.err" || die "the error does not name sip.trusted: $(cat "$T/bad.err")"
ok "config: $(head -c 160 "$T/bad.err")"
/usr/bin/python3 "$PEER" 127.0.0.1 "$M1" "$T/mcp.jsonl" & bg_pid $!
/usr/bin/python3 "$PEER" 127.0.0.1 "$SS" "$T/sipserver.jsonl" & bg_pid $!
/usr/bin/python3 "$PEER" 127.0.0.1 "$X3" "$T/third.jsonl" & bg_pid $!
touch "$T/mcp.jsonl" "$T/sipserver.jsonl" "$T/third.jsonl"
rm_start "$T/rm.json" "$HP"
for i in $(seq 1 50); do [ "$(metric "$HP" 'rm_mcp_up{')" = 1 ] && break; sleep 0.1; done
[ "$(metric "$HP" 'rm_mcp_up{')" = 1 ] || die "the MCP never came up"

# req METHOD RURI CALLID [EXTRA_HEADER_LINES] [TO_TAG] [VIA_HOSTPORT]
req() {
	local totag=${5:+;tag=$5} via=${6:-127.0.0.1:9}
	printf '%s %s SIP/2.0\r\nVia: SIP/2.0/%s %s;rport;branch=z9hG4bK-%s\r\nFrom: <sip:a@127.0.0.1>;tag=f%s\r\nTo: <sip:1000@127.0.0.1>%s\r\nCall-ID: %s\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\n%sContent-Length: 0\r\n\r\n' \
		"$1" "$2" "${VIA_TP:-UDP}" "$via" "$RANDOM$RANDOM" "$RANDOM" "$totag" "$3" "$1" "${4:-}"
}
seen() { grep -c "$2" "$T/$1.jsonl" || true; }
send() { /usr/bin/python3 "$RAW" "$@"; } # send SRC PORT PROTO [TIMEOUT] < msg
RURI="sip:1000@127.0.0.1:$SP"

# ---- a trusted INVITE reaches the MCP, with rm's Record-Route --------------------
r=$(req INVITE "$RURI" trust-ok-1 | send 127.0.0.1 "$SP" udp 3)
for i in $(seq 1 20); do [ "$(seen mcp trust-ok-1)" -ge 1 ] && break; sleep 0.1; done
[ "$(seen mcp trust-ok-1)" -ge 1 ] || die "a trusted INVITE did not reach the MCP (answer: $r)"
grep trust-ok-1 "$T/mcp.jsonl" | grep -q "\"Record-Route\", \"<sip:127.0.0.1:$SP;lr>\"" ||
	die "the forwarded INVITE lacks rm's Record-Route: $(grep trust-ok-1 "$T/mcp.jsonl" | head -c 600)"
ok "trusted INVITE forwarded with Record-Route <sip:127.0.0.1:$SP;lr> ($(echo "$r" | tail -1))"

# ---- untrusted source: 403, nothing reaches the MCP --------------------------------
for proto in udp tcp; do
	tp=${proto^^}
	r=$(VIA_TP=$tp req INVITE "$RURI" "untrusted-$proto" | send 127.0.0.5 "$SP" "$proto")
	echo "$r" | grep -q '^SIP/2.0 403' || die "INVITE from 127.0.0.5 over $proto answered: '$r'"
done
sleep 0.5 # scenario: an absence is checked; a wrong forward gets time to arrive
[ "$(seen mcp untrusted-)" = 0 ] || die "an untrusted INVITE reached the MCP"
v=$(metric "$HP" 'rm_bad_requests_total{reason="untrusted"}')
[ "${v%.*}" -ge 2 ] || die "untrusted requests not counted: '$v'"
ok "INVITE from 127.0.0.5 over UDP and TCP: 403, not forwarded, counted ($v)"

# ---- Via claims are ignored ----------------------------------------------------------
r=$(req MESSAGE "sip:sipserver@127.0.0.1:$SP" via-spoof-1 "" "" "127.0.0.1:$M1" | send 127.0.0.5 "$SP" udp)
echo "$r" | grep -q '^SIP/2.0 403' || die "MESSAGE from 127.0.0.5 claiming the MCP's Via answered: '$r'"
r=$(req MESSAGE "sip:sipserver@127.0.0.1:$SP" via-spoof-2 "" "" "127.0.0.1:$M1" | send 127.0.0.1 "$SP" udp)
sleep 0.5 # scenario: an absence is checked; a wrong forward gets time to arrive
[ "$(seen sipserver via-spoof-)" = 0 ] || die "a MESSAGE with the MCP's Via was sent to the SIP Server"
ok "MESSAGE whose Via claims the MCP: not sent to the SIP Server (127.0.0.5: 403; 127.0.0.1: '$r')"
# Over TCP an MCP connects from an ephemeral port; on a host shared by an MCP and the
# SIP Server, a Via naming that same address and the MCP's port marks the MCP (a Via
# can never make another host an MCP, see rm/core/sip_trust.h): sent to the SIP Server.
VIA_TP=TCP req MESSAGE "sip:sipserver@127.0.0.1:$SP" via-tcp-mcp "" "" "127.0.0.1:$M1" |
	send 127.0.0.1 "$SP" tcp 3 >/dev/null
for i in $(seq 1 20); do [ "$(seen sipserver via-tcp-mcp)" -ge 1 ] && break; sleep 0.1; done
[ "$(seen sipserver via-tcp-mcp)" -ge 1 ] || die "a MESSAGE from the MCP's host over TCP did not reach the SIP Server"
ok "MESSAGE over TCP from the MCP's host (Via: its port) goes to the SIP Server"

# ---- not a relay ---------------------------------------------------------------------
ROUTE="Route: <sip:127.0.0.1:$X3;lr>"$'\r\n'
for m in OPTIONS BYE; do
	r=$(req "$m" "sip:x@127.0.0.1:$X3" "relay-$m" "$ROUTE" | send 127.0.0.1 "$SP" udp)
	echo "$r" | grep -q '^SIP/2.0 403' || die "$m with a Route to a third host answered '$r'"
	r=$(req "$m" "$RURI" "relay-rs-$m" "$ROUTE" | send 127.0.0.1 "$SP" udp)
	echo "$r" | grep -q '^SIP/2.0 403' || die "$m (R-URI rm) with a Route to a third host answered '$r'"
done
r=$(req BYE "sip:x@127.0.0.1:$X3" relay-dlg-BYE "$ROUTE" totag1 | send 127.0.0.1 "$SP" udp)
echo "$r" | grep -q '^SIP/2.0 403' || die "in-dialog BYE with a foreign Route answered '$r'"
r=$(req OPTIONS "sip:x@127.0.0.1:$X3" relay-ruri | send 127.0.0.1 "$SP" udp)
echo "$r" | grep -q '^SIP/2.0 403' || die "OPTIONS to a third host by request-URI answered '$r'"
sleep 0.5 # scenario: an absence is checked; a wrong relay gets time to arrive
[ "$(seen third relay-)" = 0 ] || die "rm relayed $(seen third relay-) requests to a third host"
v=$(metric "$HP" 'rm_bad_requests_total{reason="relay"}')
ok "OPTIONS/BYE routed to a third host: 403, nothing relayed, counted ($v)"

# ---- truncated INVITEs do not mark the MCP down -------------------------------------
full=$(req INVITE "$RURI" trunc-x 'X-Pad: 0123456789012345678901234567890123456789'$'\r\n')
/usr/bin/python3 - "$SP" "$full" <<'PY'
import socket, sys, random
port, msg = int(sys.argv[1]), sys.argv[2].encode()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
for i in range(104):
    m = msg.replace(b"trunc-x", b"trunc-%d" % i).replace(b"z9hG4bK-", b"z9hG4bK-%d-" % i)
    s.sendto(m[:random.randint(150, len(m) - 5)], ("127.0.0.1", port))
PY
ok "104 truncated INVITEs sent in a burst"
# attempt timeout 500 ms, failures_to_down 2, OPTIONS every 500 ms: watch for 3 s
for i in $(seq 1 30); do
	[ "$(metric "$HP" 'rm_mcp_up{')" = 1 ] || die "the MCP was marked down after the truncated burst"
	sleep 0.1
done
n=$(grep trunc- "$T/mcp.jsonl" | grep -c '"garbled": true' || true)
[ "$n" = 0 ] || die "$n truncated INVITEs were forwarded to the MCP"
v=$(metric "$HP" 'rm_bad_requests_total{reason="framing"}')
p=$(metric "$HP" 'rm_bad_requests_total{reason="parser"}')
echo "framing: $v, parser (refused by sofia-sip): $p"
[ $(( ${v%.*} + ${p%.*} )) -ge 100 ] || die "truncated INVITEs not counted: framing $v + parser $p"
r=$(req INVITE "$RURI" trust-ok-2 | send 127.0.0.1 "$SP" udp 3)
for i in $(seq 1 20); do [ "$(seen mcp trust-ok-2)" -ge 1 ] && break; sleep 0.1; done
[ "$(seen mcp trust-ok-2)" -ge 1 ] || die "after the burst an INVITE did not reach the MCP ($r)"
ok "truncated burst: MCP stays up, none forwarded, counted; next INVITE reaches the MCP"

# ---- sip.untrusted: drop --------------------------------------------------------------
write_cfg ', "untrusted": "drop", "trusted": ["127.0.0.6/32"]'
kill -HUP "$RM_PID"
for i in $(seq 1 30); do grep -q "configuration reloaded" "$T/rm.log" && break; sleep 0.1; done
before=$(metric "$HP" 'rm_bad_requests_total{reason="untrusted"}')
r=$(req INVITE "$RURI" untrusted-drop | send 127.0.0.5 "$SP" udp 1)
[ -z "$r" ] || die "sip.untrusted drop: 127.0.0.5 got an answer: '$r'"
after=$(metric "$HP" 'rm_bad_requests_total{reason="untrusted"}')
[ "${after%.*}" -gt "${before%.*}" ] || die "a dropped request was not counted ($before -> $after)"
r=$(req INVITE "$RURI" trusted-cidr | send 127.0.0.6 "$SP" udp 3)
for i in $(seq 1 20); do [ "$(seen mcp trusted-cidr)" -ge 1 ] && break; sleep 0.1; done
[ "$(seen mcp trusted-cidr)" -ge 1 ] || die "INVITE from a sip.trusted network (127.0.0.6) not forwarded ($r)"
ok "sip.untrusted drop: silence, counted; sip.trusted 127.0.0.6/32 is served"
