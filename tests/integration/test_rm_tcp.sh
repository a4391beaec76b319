#!/usr/bin/env bash
# Transports in Record-Route (issue 10, item 5; RFC 3261 16.6, RFC 5658):
#  - rm's Record-Route names the transport it received the INVITE on
#    (";transport=tcp" for TCP), and rm records two entries when it reaches the MCP
#    over the other transport: on top the one facing the MCP, below the one facing
#    the caller (checked on what a python MCP receives, tests/integration/lib/sip_peer.py);
#  - calls complete with sipp on both sides across transports: caller UDP -> MCP TCP
#    and caller TCP -> MCP UDP (etc/sipp/uac_rr.xml, uas_rr.xml);
#  - a TCP-only rm (sip.transports ["tcp"]) completes calls with TCP callers and MCPs
#    and says ";transport=tcp" in its Record-Route.
. "$(dirname "$0")/lib/rm.sh"

PEER="$HELPERS/sip_peer.py"
RAW="$HELPERS/sip_raw.py"
N=${TCP_CALLS:-200}
SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port); P1=$(free_port); P2=$(free_port)
write_cfg() { # write_cfg TRANSPORTS_JSON
	rm_write_config "$T/rm.json" "$SP" "$HP" "[
  {\"name\":\"udp\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\"}]},
  {\"name\":\"tcp\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M2;transport=tcp\"}]},
  {\"name\":\"pt\",\"members\":[{\"uri\":\"sip:127.0.0.1:$P1;transport=tcp\"}]},
  {\"name\":\"pu\",\"members\":[{\"uri\":\"sip:127.0.0.1:$P2\"}]}]" \
	", \"profiles\": [
  {\"name\":\"udp\",\"tenant\":\"t\",\"lrg\":\"udp\"}, {\"name\":\"tcp\",\"tenant\":\"t\",\"lrg\":\"tcp\"},
  {\"name\":\"pt\",\"tenant\":\"t\",\"lrg\":\"pt\"}, {\"name\":\"pu\",\"tenant\":\"t\",\"lrg\":\"pu\"}],
  \"dnis\": {\"1000\": \"udp\", \"2000\": \"tcp\", \"3000\": \"pt\", \"4000\": \"pu\"},
  \"default_profile\": \"udp\""
	sed -i "s#\"transports\": \[\"udp\", \"tcp\"\]#\"transports\": $1#" "$T/rm.json"
	grep -qF "\"transports\": $1" "$T/rm.json" || die "cannot set transports $1"
}
write_cfg '["udp", "tcp"]'
uas_start mcp_udp "$M1" uas_rr.xml u1
uas_start mcp_tcp "$M2" uas_rr.xml t1
/usr/bin/python3 "$PEER" 127.0.0.1 "$P1" "$T/pt.jsonl" & bg_pid $!
/usr/bin/python3 "$PEER" 127.0.0.1 "$P2" "$T/pu.jsonl" & bg_pid $!
touch "$T/pt.jsonl" "$T/pu.jsonl"
rm_start "$T/rm.json" "$HP"
wait_up() { # wait_up N: until N MCPs are up (5 s)
	for i in $(seq 1 50); do
		v=$(metric "$HP" rm_mcps_up); [ "${v%.*}" -ge "$1" ] 2>/dev/null && return 0; sleep 0.1
	done
	die "only ${v:-0} of $1 MCPs came up"
}
wait_up 4

# rr_of FILE CALLID: the Record-Route values the peer received, in order, "|"-joined
rr_of() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if sys.argv[2] in r["raw"] and r["first"].startswith("INVITE"):
        v = [x.strip() for n, val in r["headers"] if n.lower() == "record-route"
             for x in val.split(",")]
        print(r["proto"] + " " + "|".join(v)); break
PY
}
# invite PROTO DNIS CALLID: a raw INVITE to rm from 127.0.0.1
invite() {
	printf 'INVITE sip:%s@127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/%s 127.0.0.1:@SRCPORT@;rport;branch=z9hG4bK-%s\r\nFrom: <sip:a@127.0.0.1>;tag=f%s\r\nTo: <sip:%s@127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
		"$2" "$SP" "${1^^}" "$RANDOM$RANDOM" "$RANDOM" "$2" "$3" |
		/usr/bin/python3 "$RAW" 127.0.0.1 "$SP" "$1" 3 >/dev/null
}
check_rr() { # check_rr PROTO DNIS PEERFILE WANT
	local id="rr-$1-$2-$RANDOM" got i
	invite "$1" "$2" "$id"
	for i in $(seq 1 30); do got=$(rr_of "$T/$3.jsonl" "$id"); [ -n "$got" ] && break; sleep 0.1; done
	[ "$got" = "$4" ] || die "INVITE over $1 to $3: want '$4', got '${got:-nothing}'"
	ok "INVITE over $1, MCP over ${4%% *}: Record-Route ${got#* }"
}
U="<sip:127.0.0.1:$SP;lr>"; TT="<sip:127.0.0.1:$SP;transport=tcp;lr>"
check_rr udp 4000 pu "udp $U"
check_rr tcp 3000 pt "tcp $TT"
check_rr udp 3000 pt "tcp $TT|$U"
check_rr tcp 4000 pu "udp $U|$TT"

# ---- sipp calls across transports ---------------------------------------------------
uac_run udp2tcp "$SP" uac_rr.xml "$N" 200 30 -d 20 -s 2000 || true
[ "$OK" = "$N" ] && [ "$FAILED" = 0 ] || die "caller UDP -> MCP TCP: $OK of $N calls, $FAILED failed"
ok "caller UDP -> MCP TCP: $N calls"
uac_run tcp2udp "$SP" uac_rr.xml "$N" 200 30 -d 20 -s 1000 -t t1 || true
[ "$OK" = "$N" ] && [ "$FAILED" = 0 ] || die "caller TCP -> MCP UDP: $OK of $N calls, $FAILED failed"
ok "caller TCP -> MCP UDP: $N calls"

# ---- TCP-only rm -----------------------------------------------------------------
kill "$RM_PID"; wait "$RM_PID" 2>/dev/null || true
# (a sipp UAS in -t t1 ends when its peer closes the connection: a fresh one)
SP=$(free_port); HP=$(free_port); M2=$(free_port)
uas_start mcp_tcp2 "$M2" uas_rr.xml t1
write_cfg '["tcp"]'
U="<sip:127.0.0.1:$SP;lr>"; TT="<sip:127.0.0.1:$SP;transport=tcp;lr>"
rm_start "$T/rm.json" "$HP"
wait_up 2 # the two TCP MCPs (UDP ones cannot be reached)
check_rr tcp 3000 pt "tcp $TT"
uac_run tcponly "$SP" uac_rr.xml "$N" 200 30 -d 20 -s 2000 -t t1 || true
[ "$OK" = "$N" ] && [ "$FAILED" = 0 ] || die "TCP-only rm: $OK of $N calls, $FAILED failed"
ok "TCP-only rm: $N calls with TCP caller and MCP"
v=$(metric "$HP" rm_calls_active); [ "${v%.*}" = 0 ] || die "TCP-only rm: $v calls still active"
