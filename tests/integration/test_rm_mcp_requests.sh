#!/usr/bin/env bash
# Requests that an MCP starts (issue 3: "Requests that an MCP starts inside a dialog
# (BYE, INFO, REFER) follow the Route set. Out-of-dialog requests from an MCP go to
# the configured SIP Server (sip.sip_servers)."), with sipp as every peer:
#  - in dialog: N calls from a sipp SIP Server through rm to a sipp MCP; the MCP
#    sends an INFO, a REFER and then the BYE by the recorded Route set
#    (etc/sipp/uas_mcp_bye.xml);
#    the SIP Server checks each arrived through rm (Request-URI = its Contact, two Vias,
#    Max-Forwards 69, Route = its own Record-Route entry only; etc/sipp/uac_mcp_bye.xml)
#    and answers 200. Its Contact names a port where nobody listens, so the requests
#    arrive only if rm follows the Route set, not the Request-URI. Both sides complete
#    every call, and rm's /metrics count them ended by the MCP;
#  - out of dialog: from an MCP's configured address a sipp sends OPTIONS and INFO to
#    rm (no To tag, no Route; etc/sipp/uac_mcp_ood.xml); rm must forward them to the
#    sip_servers URI, where a sipp SIP Server checks and answers them
#    (etc/sipp/uas_sipserver_ood.xml), and the 200s must come back to the MCP; then
#    the same for INVITE: rm must forward it to sip_servers with its Record-Route, and
#    the MCP's ACK and BYE must reach the SIP Server through rm by that Route
#    (etc/sipp/uac_mcp_invite.xml, uas_sipserver_invite.xml).
. "$(dirname "$0")/lib/rm.sh"

N=${MCP_CALLS:-50}
SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port); SS=$(free_port)
# LRG "ivr" (M1) takes the calls; LRG "ood" (M2) only makes M2 a known MCP address,
# the source of the out-of-dialog requests.
rm_write_config "$T/rm.json" "$SP" "$HP" "[
  {\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\"}]},
  {\"name\":\"ood\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M2\"}]}]" "$(rm_default_profile ivr)"
# rm_write_config points sip_servers at SIP port + 30, which may be taken: use SS.
sed -i "s#\"sip:127.0.0.1:$((SP + 30))\"#\"sip:127.0.0.1:$SS\"#" "$T/rm.json"
grep -q "\"sip:127.0.0.1:$SS\"" "$T/rm.json" || die "could not set sip_servers in rm.json"
"$RM_BIN" --check-config "$T/rm.json" >/dev/null || die "config refused: $(cat "$T/rm.json")"

uas_start mcp "$M1" uas_mcp_bye.xml u1
MCP_PID=$UAS_PID
rm_start "$T/rm.json" "$HP"
wait_mcp_up "$HP" "sip:127.0.0.1:$M1" || die "the MCP is not up"

# ---- in dialog: INFO and BYE from the MCP ------------------------------------------
t0=$EPOCHREALTIME
rc=0
uac_run sipserver "$SP" uac_mcp_bye.xml "$N" 50 20 -d 200 -trace_msg \
	-message_file "$T/sipserver_msg.log" || rc=$?
echo "SIP Server side: created $CREATED, ok $OK, failed $FAILED (sipp exit $rc)," \
	"$(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}") s"
[ "$OK" = "$N" ] && [ "$FAILED" = 0 ] && [ "$rc" = 0 ] ||
	die "SIP Server side: $OK of $N calls got INFO + REFER + BYE from the MCP through rm, $FAILED failed (errors: $(head -c 1500 "$T/sipserver.err" 2>/dev/null))"
ok "SIP Server side: $N calls, each got the MCP's INFO, REFER and BYE via rm (Route set, 2 Vias, Max-Forwards 69)"

# the MCP's own view: every call answered, its INFO, REFER and BYE got 200, 202, 200
# (sipp writes its -stf stats once a second: wait up to 5 s for the last calls to show)
stats_wait() { # stats_wait CSV WANT_OK
	local i
	for i in $(seq 1 25); do
		uac_stats "$1"; [ "$OK" -ge "$2" ] 2>/dev/null && return 0; sleep 0.2
	done
}
stats_wait "$T/mcp.csv" "$N"
inv=$(uas_calls mcp)
# (CREATED also counts rm's OPTIONS pings, which -aa answers: count INVITEs instead)
echo "MCP side: INVITEs $inv, ok $OK, failed $FAILED"
[ "$inv" = "$N" ] && [ "$OK" = "$N" ] && [ "$FAILED" = 0 ] ||
	die "MCP side: $OK of $N calls completed ($inv INVITEs), $FAILED failed (errors: $(head -c 1500 "$T/mcp.err" 2>/dev/null))"
ok "MCP side: $N calls, 200/202/200 to each INFO, REFER and BYE"

http_get "$HP" /metrics >"$T/metrics.txt" || die "GET /metrics failed"
grep -E '^rm_calls_(active|ended_total|total)' "$T/metrics.txt" || true
mv_() { awk -v n="$1" 'index($0, n) == 1 { print $NF; exit }' "$T/metrics.txt"; }
v=$(mv_ 'rm_calls_ended_total{ended_by="mcp"}'); [ "${v%.*}" = "$N" ] ||
	die "rm_calls_ended_total{ended_by=\"mcp\"} = '$v', want $N"
v=$(mv_ 'rm_calls_ended_total{ended_by="caller"}'); [ "${v%.*}" = 0 ] ||
	die "rm_calls_ended_total{ended_by=\"caller\"} = '$v', want 0"
v=$(mv_ 'rm_calls_total{disposition="answered"}'); [ "${v%.*}" = "$N" ] ||
	die "rm_calls_total{disposition=\"answered\"} = '$v', want $N"
v=$(mv_ 'rm_calls_active'); [ "${v%.*}" = 0 ] || die "rm_calls_active = '$v', want 0"
ok "metrics: $N calls ended_by=mcp, 0 by the caller, $N answered, 0 active"
kill "$MCP_PID" 2>/dev/null || true

# ---- out of dialog: requests from an MCP go to sip_servers -------------------------
# ood NAME UAS_SCENARIO UAC_SCENARIO CALLS WHAT [sipp args]: a sipp SIP Server on SS
# (no -aa: its scenario must see every request), and CALLS calls from a sipp on the
# MCP address M2 to rm; both must complete every call.
ood() {
	local name=$1 uas=$2 uac=$3 n=$4 what=$5 rc=0 t0=$EPOCHREALTIME
	shift 5
	mkdir -p "$T/$name.d"
	(cd "$T/$name.d" && exec sipp -sf "$SIPP_DIR/$uas" -i 127.0.0.1 -p "$SS" -t u1 \
		-nostdin -max_socket 200 -trace_stat -stf "$T/${name}_ss.csv" -fd 1 \
		-trace_msg -message_file "$T/${name}_ss_msg.log" -trace_err \
		-error_file "$T/${name}_ss.err" >"$T/${name}_ss.log" 2>&1) &
	local ss_pid=$!
	bg_pid "$ss_pid"
	wait_udp "$SS" 5 || die "$name: the sipp SIP Server did not bind $SS"
	(cd "$T/$name.d" && exec sipp "127.0.0.1:$SP" -sf "$SIPP_DIR/$uac" -s notify \
		-i 127.0.0.1 -p "$M2" -m "$n" -r 20 -l 100 -nostdin -aa -recv_timeout 3s \
		-timeout 15s -timeout_error -default_behaviors all,-abortunexp -trace_msg \
		-message_file "$T/${name}_mcp_msg.log" -trace_stat -stf "$T/${name}_mcp.csv" \
		-fd 1 -trace_err -error_file "$T/${name}_mcp.err" "$@" \
		>"$T/${name}_mcp.log" 2>&1) || rc=$?
	uac_stats "$T/${name}_mcp.csv"
	echo "MCP side ($what): created $CREATED, ok $OK, failed $FAILED (sipp exit $rc)," \
		"$(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}") s"
	if ! { [ "$OK" = "$n" ] && [ "$FAILED" = 0 ] && [ "$rc" = 0 ]; }; then
		echo "--- MCP-side SIP trace (start):"
		head -n 80 "$T/${name}_mcp_msg.log" 2>/dev/null || true
		echo "--- SIP Server-side SIP trace (start):"
		head -n 60 "$T/${name}_ss_msg.log" 2>/dev/null || true
		die "$what: $OK of $n MCP calls got through rm to the SIP Server and back, $FAILED failed (errors: $(head -c 1500 "$T/${name}_mcp.err" 2>/dev/null))"
	fi
	stats_wait "$T/${name}_ss.csv" "$n"
	[ "$OK" = "$n" ] && [ "$FAILED" = 0 ] ||
		die "SIP Server side ($what): $OK of $n calls passed its checks, $FAILED failed (errors: $(head -c 1500 "$T/${name}_ss.err" 2>/dev/null))"
	kill "$ss_pid" 2>/dev/null || true
	wait "$ss_pid" 2>/dev/null || true
}

ood opt uas_sipserver_ood.xml uac_mcp_ood.xml 10 "OPTIONS + INFO"
ok "out of dialog: 10 OPTIONS + INFO from an MCP reached sip_servers through rm, 200s came back"
ood inv uas_sipserver_invite.xml uac_mcp_invite.xml 10 "INVITE" -d 100
ok "out of dialog: 10 INVITEs from an MCP reached sip_servers through rm (Record-Route), ACK and BYE followed the Route"
