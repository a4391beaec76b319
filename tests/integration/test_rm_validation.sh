#!/usr/bin/env bash
# rm validates a request before proxying it (issue 10, item 4; RFC 3261 16.3), each
# case over UDP and TCP from a trusted source (sip_raw.py), with sip_peer.py as the
# MCP that would receive any forward:
#   escaped headers in the request-URI (?Route=...)       -> 400, reason uri-headers
#   unknown URI scheme in the request-URI                 -> 416, reason scheme
#   Proxy-Require: an option rm does not support          -> 420 + Unsupported listing it
#   SIP/7.0 in the request line                           -> 505, reason version, sent to
#                  the transport source even when Via names another port (nta used to
#                  answer it itself, to the Via sent-by: a spoofed Via reflected it);
#                  with SIP/7.0/UDP in Via too, nta drops it (a Via rm cannot answer)
#   CSeq method differs from the method                  -> 400 (nta's: reason parser)
#   Max-Forwards: 0                                       -> 483, reason max-forwards
# and over UDP, where a datagram is the whole message:
#   Content-Length larger than the body received         -> refused (400 or silence)
#   last header line cut ("Content-Lengt"), no empty line -> 400, reason framing
# None of them reaches the MCP, each is counted in rm_bad_requests_total{reason}, and
# rm still forwards a valid INVITE afterwards, with no header glued onto another.
. "$(dirname "$0")/lib/rm.sh"

PEER="$HELPERS/sip_peer.py"
RAW="$HELPERS/sip_raw.py"
SP=$(free_port); HP=$(free_port); M1=$(free_port)
rm_write_config "$T/rm.json" "$SP" "$HP" "[
  {\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\"}]}]" "$(rm_default_profile ivr)"
/usr/bin/python3 "$PEER" 127.0.0.1 "$M1" "$T/mcp.jsonl" & bg_pid $!
touch "$T/mcp.jsonl"
rm_start "$T/rm.json" "$HP"
for i in $(seq 1 50); do [ "$(metric "$HP" 'rm_mcp_up{')" = 1 ] && break; sleep 0.1; done
[ "$(metric "$HP" 'rm_mcp_up{')" = 1 ] || die "the MCP never came up"

# msg PROTO RURI CALLID [EXTRA_HEADER_LINES] [VERSION] [CSEQ_METHOD] [MAXFWD] [BODY]
# (Via sent-by: the sending socket's own port, filled in by sip_raw.py; Via's protocol
# version: $VIA_VERSION, default SIP/2.0)
msg() {
	local tp=${1^^} body=${8:-}
	printf 'INVITE %s %s\r\nVia: %s/%s 127.0.0.1:@SRCPORT@;rport;branch=z9hG4bK-%s\r\nFrom: <sip:a@127.0.0.1>;tag=f%s\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 %s\r\nMax-Forwards: %s\r\n%sContent-Length: %s\r\n\r\n%s' \
		"$2" "${5:-SIP/2.0}" "${VIA_VERSION:-SIP/2.0}" "$tp" "$RANDOM$RANDOM" "$RANDOM" "$3" \
		"${6:-INVITE}" "${7:-70}" "${4:-}" "${#body}" "$body"
}
bad() { # bad REASON[|REASON...]: the sum of those rm_bad_requests_total series
	local r sum=0 v
	for r in ${1//|/ }; do
		v=$(metric "$HP" "rm_bad_requests_total{reason=\"$r\"}"); v=${v:-0}; sum=$((sum + ${v%.*}))
	done
	echo "$sum"
}
RURI="sip:1000@127.0.0.1:$SP"
# expect NAME WANT_REGEX REASON PROTO [msg args...]: send, check the answer and counter
expect() {
	local name=$1 want=$2 reason=$3 proto=$4 before after r
	shift 4
	before=$(bad "$reason"); before=${before%.*}
	r=$(msg "$proto" "$@" | /usr/bin/python3 "$RAW" 127.0.0.1 "$SP" "$proto" 2)
	echo "$r" | tr '\n' ' ' | grep -Eq "$want" || die "$name over $proto: want /$want/, got '$r'"
	# nta's own refusals (reason parser) reach the counter on rm's one-second tick
	wait_for 3 eval '[ "$(bad "$reason")" -gt "$before" ]' || true
	after=$(bad "$reason"); after=${after%.*}
	[ "$after" -gt "$before" ] || die "$name over $proto: reason=$reason not counted ($before -> $after)"
	ok "$name over $proto -> $(echo "$r" | tr '\n' ' ')(reason=$reason $after)"
}
for p in udp tcp; do
	expect "URI headers" '^SIP/2.0 400' uri-headers "$p" "$RURI?Route=%3Csip:127.0.0.1:9%3E" "v-urihdr-$p"
	expect "unknown scheme" '^SIP/2.0 416' scheme "$p" "isbn:2983792873" "v-scheme-$p"
	expect "Proxy-Require" '^SIP/2.0 420.*Unsupported: *foo, *bar' proxy-require "$p" \
		"$RURI" "v-preq-$p" $'Proxy-Require: foo, bar\r\n'
	expect "SIP/7.0" '^SIP/2.0 505' version "$p" "$RURI" "v-version-$p" "" "SIP/7.0"
	expect "CSeq method mismatch" '^SIP/2.0 400' 'cseq|parser' "$p" "$RURI" "v-cseq-$p" "" "" OPTIONS
	expect "Max-Forwards 0" '^SIP/2.0 483' max-forwards "$p" "$RURI" "v-maxfwd-$p" "" "" "" 0
done

# ---- SIP/7.0 with a Via naming another host's port: 505 to the source, none there ----
SPY=$(free_port)
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", int(sys.argv[1])))
s.settimeout(4)
try:
    d, a = s.recvfrom(65535); open(sys.argv[2], "wb").write(d)
except socket.timeout:
    pass' "$SPY" "$T/spy.out" & spy=$!
sleep 0.2
r=$(msg udp "$RURI" v-version-spoof "" "SIP/7.0" | sed "s/127.0.0.1:@SRCPORT@;rport;/127.0.0.1:$SPY;/" |
	/usr/bin/python3 "$RAW" 127.0.0.1 "$SP" udp 2)
echo "$r" | grep -q '^SIP/2.0 505' || die "SIP/7.0 with Via port $SPY: the sender got '${r:-silence}', want 505"
r2=$(VIA_VERSION=SIP/7.0 msg udp "$RURI" v-version-via7 "" "SIP/7.0" |
	sed "s/127.0.0.1:@SRCPORT@;rport;/127.0.0.1:$SPY;/" | /usr/bin/python3 "$RAW" 127.0.0.1 "$SP" udp 1)
echo "SIP/7.0 in the request line and in Via -> '${r2:-silence}'"
wait "$spy" || true
[ ! -s "$T/spy.out" ] || die "rm sent to the Via's port $SPY: $(head -c 200 "$T/spy.out")"
ok "SIP/7.0 with a spoofed Via port: 505 to the transport source, nothing to the Via"

# ---- UDP framing: the datagram is all there is --------------------------------------
send_udp() { /usr/bin/python3 "$RAW" 127.0.0.1 "$SP" udp 1.5; }
fr0=$(bad framing); pa0=$(bad parser)
r=$(msg udp "$RURI" v-cl-udp "" "" "" "" "0123456789" | sed 's/Content-Length: 10/Content-Length: 50/' | send_udp)
echo "Content-Length 50, body 10 -> '${r:-silence}'"
[ -z "$r" ] || echo "$r" | grep -q '^SIP/2.0 400' || die "a short body was answered '$r'"
full=$(msg udp "$RURI" v-cut-udp)
r=$(printf '%s' "$full" | head -c $(( ${#full} - 8 )) | send_udp)  # "...Content-Lengt"
echo "cut inside the last header -> '${r:-silence}'"
[ -z "$r" ] || echo "$r" | grep -q '^SIP/2.0 400' || die "a cut header line was answered '$r'"
r=$(printf '%s' "$full" | head -c $(( ${#full} - 2 )) | send_udp)  # no empty line
echo "$r" | grep -q '^SIP/2.0 400' || die "headers without the empty line answered '${r:-silence}'"
# nta's refusals are folded into the counter on rm's tick (every second)
refused_since() { local f p; f=$(bad framing); p=$(bad parser); echo $(( ${f%.*} + ${p%.*} - ${fr0%.*} - ${pa0%.*} )); }
wait_for 5 eval '[ "$(refused_since)" -ge 3 ]' || true
fr1=$(bad framing); pa1=$(bad parser)
[ $(( ${fr1%.*} + ${pa1%.*} - ${fr0%.*} - ${pa0%.*} )) -ge 3 ] ||
	die "UDP framing refusals not all counted: framing ${fr0}->${fr1}, parser ${pa0}->${pa1}"
ok "UDP framing: short body, cut header line, missing empty line refused and counted (framing ${fr1%.*}, parser ${pa1%.*})"

sleep 0.3 # scenario: an absence is checked; a wrong forward gets time to arrive
n=$(grep -c '"v-' "$T/mcp.jsonl" || true)
[ "$n" = 0 ] || die "$n refused requests reached the MCP: $(grep '"v-' "$T/mcp.jsonl" | head -c 500)"
ok "no refused request reached the MCP"

# ---- a valid INVITE still goes through, headers intact ------------------------------
r=$(msg udp "$RURI" v-good-udp | send_udp)
for i in $(seq 1 20); do grep -q v-good-udp "$T/mcp.jsonl" && break; sleep 0.1; done
grep v-good-udp "$T/mcp.jsonl" >"$T/good.jsonl" || die "a valid INVITE did not reach the MCP ($r)"
grep -q '"Content-Length", "0"' "$T/good.jsonl" || die "forwarded INVITE headers damaged: $(head -c 800 "$T/good.jsonl")"
grep -q '"X-Genesys-GVP-Session-ID", "' "$T/good.jsonl" || die "forwarded INVITE lacks rm's session header"
ok "a valid INVITE is forwarded intact ($r)"
