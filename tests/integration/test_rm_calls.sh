#!/usr/bin/env bash
# rm as a record-routing proxy with real sipp peers (issue 3, acceptance 1, 2, 6):
#  - 1,000 calls over UDP, then 1,000 over TCP, 0 failures; ACK/BYE travel by Route
#    through rm and the MCP echoes Record-Route (etc/sipp/uac_rr.xml, uas_rr.xml);
#  - CANCEL before answer: the caller gets 487 and the MCP sees the CANCEL;
#  - robustness: garbage, a truncated INVITE, a missing Via, an oversized header and
#    Max-Forwards 0 (483); rm keeps serving calls after each.
# The MCPs get 1,000 ports: this test is about proxying, not capacity, and on a busy
# machine 250 calls/s of sipp can hold more than the default 100 at once
# (test_rm_admission and test_rm_sched test the limits).
. "$(dirname "$0")/lib/rm.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port)
rm_write_config "$T/rm.json" "$SP" "$HP" "[
  {\"name\":\"udp\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\",\"max_ports\":1000}]},
  {\"name\":\"tcp\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M2;transport=tcp\",\"max_ports\":1000}]}]" \
	", \"profiles\": [
  {\"name\":\"udp\",\"tenant\":\"t\",\"lrg\":\"udp\"},
  {\"name\":\"tcp\",\"tenant\":\"t\",\"lrg\":\"tcp\"}],
  \"dnis\": {\"1000\": \"udp\", \"2000\": \"tcp\"}, \"default_profile\": \"udp\""
uas_start mcp_udp "$M1" uas_rr.xml u1
uas_start mcp_tcp "$M2" uas_rr.xml t1
rm_start "$T/rm.json" "$HP"
wait_mcp_up "$HP" "sip:127.0.0.1:$M1" || die "the UDP MCP is not up"
wait_mcp_up "$HP" "sip:127.0.0.1:$M2;transport=tcp" || die "the TCP MCP is not up"

uac_run udp "$SP" uac_rr.xml 1000 250 40 -d 50 || true
[ "$OK" = 1000 ] && [ "$FAILED" = 0 ] || die "UDP: $OK of 1000 calls succeeded, $FAILED failed"
ok "UDP: 1000 record-routed calls, 0 failed"

uac_run tcp "$SP" uac_rr.xml 1000 250 40 -d 50 -t t1 -s 2000 || true
[ "$OK" = 1000 ] && [ "$FAILED" = 0 ] || die "TCP: $OK of 1000 calls succeeded, $FAILED failed"
ok "TCP: 1000 record-routed calls, 0 failed"

# ---- CANCEL -----------------------------------------------------------------------
kill "$UAS_PID" 2>/dev/null || true
MC=$(free_port)
uas_start mcp_noanswer "$MC" uas_noanswer.xml u1
rm_write_config "$T/rm.json" "$SP" "$HP" "[
  {\"name\":\"udp\",\"members\":[{\"uri\":\"sip:127.0.0.1:$MC\"}]}]" "$(rm_default_profile udp)"
rm_reload
wait_mcp_up "$HP" "sip:127.0.0.1:$MC" || die "the no-answer MCP is not up"
uac_run cancel "$SP" uac_cancel.xml 20 20 20 || true
[ "$OK" = 20 ] && [ "$FAILED" = 0 ] || die "CANCEL: $OK of 20 callers got 200+487, $FAILED failed"
# the MCP's -trace_counts file is written every second
wait_for 5 eval '[ "$(uas_calls mcp_noanswer)" = 20 ]' ||
	die "CANCEL: the MCP completed $(uas_calls mcp_noanswer) of 20 CANCEL dialogs"
ok "CANCEL: 20 callers got 487, the MCP saw 20 CANCELs"
c=$(metric "$HP" 'rm_calls_total{disposition="cancelled"}')
[ "${c%.*}" -ge 20 ] || die "cancelled calls not counted: $c"

# ---- robustness ---------------------------------------------------------------------
MR=$(free_port)
uas_start mcp_rr "$MR" uas_rr.xml u1
rm_write_config "$T/rm.json" "$SP" "$HP" "[
  {\"name\":\"udp\",\"members\":[{\"uri\":\"sip:127.0.0.1:$MR\"}]}]" "$(rm_default_profile udp)"
rm_reload
wait_mcp_up "$HP" "sip:127.0.0.1:$MR" || die "the MCP is not up after the reload"

still_serving() {
	kill -0 "$RM_PID" 2>/dev/null || die "rm died after: $1"
	uac_run "after_$2" "$SP" uac_rr.xml 5 50 15 -d 10 || true
	[ "$OK" = 5 ] || die "rm stopped serving calls after: $1 ($OK/5)"
	ok "rm still serves calls after: $1"
}
invite() { # invite MAXFWD [extra header line]
	printf 'INVITE sip:1000@127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-%s\r\nFrom: <sip:a@127.0.0.1>;tag=x%s\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: robust-%s\r\nCSeq: 1 INVITE\r\nMax-Forwards: %s\r\n%sContent-Length: 0\r\n\r\n' \
		"$SP" "$RANDOM$RANDOM" "$RANDOM" "$RANDOM$RANDOM" "$1" "${2:-}"
}

head -c 3000 /dev/urandom | sip_send "$SP" udp >/dev/null || true
head -c 3000 /dev/urandom | sip_send "$SP" tcp >/dev/null || true
still_serving "garbage bytes (UDP and TCP)" garbage

invite 70 | head -c 120 | sip_send "$SP" udp >/dev/null || true
invite 70 | head -c 120 | sip_send "$SP" tcp >/dev/null || true
still_serving "a truncated INVITE" truncated

r=$(invite 70 | grep -v '^Via:' | sip_send "$SP" tcp || true)
echo "missing Via -> ${r%%$'\r'*}"
still_serving "an INVITE without Via" novia

big=$(head -c 70000 /dev/zero | tr '\0' 'a')
invite 70 "X-Big: $big"$'\r\n' | sip_send "$SP" tcp >/dev/null || true
invite 70 "X-Big: ${big:0:9000}"$'\r\n' | sip_send "$SP" udp >/dev/null || true
still_serving "an oversized header" oversized

r=$(invite 0 | sip_send "$SP" udp || true)
echo "$r" | head -1 | grep -q '^SIP/2.0 483' || die "Max-Forwards 0 answered: ${r%%$'\r'*}"
ok "Max-Forwards 0 -> 483"
still_serving "Max-Forwards 0" maxfwd
