#!/usr/bin/env bash
# rm cluster over SNMP (issue 13): rm-a (127.0.0.2) is an AgentX subagent of a real
# snmpd, with a real snmptrapd; rm-b (127.0.0.3) is its peer.
#  - the peer table (BASE.1.5.1) shows rm-b: node, address, state up(1), a heartbeat
#    age under dead_after_ms, and the calls of rm-b replicated to rm-a (5 long calls);
#  - rm-b joining sent rmPeerUp (BASE.1.0.7); kill -9 rm-b sends rmPeerDown
#    (BASE.1.0.6) naming it, once, and the row says down(2) with 0 calls;
#  - rm-b restarted: rmPeerUp again, the row up(1).
. "$(dirname "$0")/lib/rm_cluster.sh"
for c in snmpd snmptrapd snmpwalk; do
	command -v "$c" >/dev/null || die "$c not installed (packages snmpd snmptrapd snmp)"
done

SP=$(free_port); CP=$(free_port); HA=$(free_port); HB=$(free_port); M1=$(free_port)
AX=$(free_port); SNMP=$(free_port); TRAP=$(free_port)
BASE=1.3.6.1.4.1.99999.1
RMOID=$BASE.1
export MIBS=
SNMPOPT=(-v2c -c public -On -Oe -r 0 -t 1 "udp:127.0.0.1:$SNMP")

echo "disableAuthorization yes" >"$T/snmptrapd.conf"
snmptrapd -f -C -c "$T/snmptrapd.conf" -m '' -n -On -Lf "$T/traps.log" \
	"udp:127.0.0.1:$TRAP" >"$T/snmptrapd.log" 2>&1 &
bg_pid $!
cat >"$T/snmpd.conf" <<EOF
master agentx
agentXSocket tcp:127.0.0.1:$AX
rocommunity public 127.0.0.1
trap2sink udp:127.0.0.1:$TRAP public
EOF
SNMP_PERSISTENT_DIR="$T/snmp-state" snmpd -f -Lo -C -c "$T/snmpd.conf" -p "$T/snmpd.pid" \
	-I -smux "udp:127.0.0.1:$SNMP" >>"$T/snmpd.log" 2>&1 &
bg_pid $!
wait_port "$AX" 10 || die "snmpd did not open its AgentX port $AX"

PEERS='["127.0.0.2:'$CP'", "127.0.0.3:'$CP'"]'
LRGS='[{"name":"g","members":[{"uri":"sip:127.0.0.1:'$M1'"}]}]'
SNMPCFG=", \"snmp\": {\"enabled\": true, \"master\": \"tcp:127.0.0.1:$AX\", \"base_oid\": \"$BASE\"}"
cluster_write_config "$T/a.json" rm-a 127.0.0.2 "$SP" "$HA" "$CP" "$PEERS" "$LRGS" "$(rm_default_profile g)$SNMPCFG"
cluster_write_config "$T/b.json" rm-b 127.0.0.3 "$SP" "$HB" "$CP" "$PEERS" "$LRGS" "$(rm_default_profile g)"
uas_start m1 "$M1" uas_rr.xml
cluster_start a "$T/a.json" "$HA"
registered() { [ -n "$(snmpwalk "${SNMPOPT[@]}" -Oqv "$RMOID.1.1" 2>/dev/null | grep -v 'No Such')" ]; }
wait_for 5 registered ||
	die "rm-a did not register with snmpd"
cluster_start b "$T/b.json" "$HB"
wait_for 5 cluster_is "$HA" rm-b up || die "rm-a does not see rm-b up"
wait_metric "$HB" rm_mcps_up -eq 1 5 || die "rm-b: MCP not up"

cell() { snmpget "${SNMPOPT[@]}" -Oqv "$RMOID.5.1.$1.1" 2>/dev/null | tr -d '"'; }
cell_is() { [ "$(cell "$1")" = "$2" ]; } # cell_is COLUMN VALUE (for wait_for)
cluster_uac calls 127.0.0.3 "$SP" uac_rr.xml 5 5 20 -d 20000 &
calls=$!; bg_pid $calls
wait_for 8 cell_is 6 5 || die "rmPeerCalls is '$(cell 6)', want 5 (rm-b's calls)"
[ "$(cell 2)" = rm-b ] || die "rmPeerNode is '$(cell 2)'"
[ "$(cell 3)" = "127.0.0.3:$CP" ] || die "rmPeerAddress is '$(cell 3)'"
[ "$(cell 4)" = 1 ] || die "rmPeerState is '$(cell 4)', want up(1)"
age=$(cell 5)
[ "$age" -ge 0 ] && [ "$age" -lt 850 ] || die "rmPeerHeartbeatAgeMs is $age"
ok "peer table on rm-a: rm-b, 127.0.0.3:$CP, up(1), heartbeat ${age} ms ago, 5 calls"
wait_log "$T/traps.log" "\.$RMOID\.0\.7\b" 1 3 || die "no rmPeerUp when rm-b joined: $(cat "$T/traps.log")"

kill -9 "$(cat "$T/b.pid")"
wait_log "$T/traps.log" "\.$RMOID\.0\.6\b" 1 3 || die "no rmPeerDown: $(cat "$T/traps.log")"
grep -A4 "\.$RMOID\.0\.6\b" "$T/traps.log" | grep -q 'rm-b' || die "rmPeerDown does not name rm-b: $(cat "$T/traps.log")"
wait_for 2 cell_is 4 2 || die "rmPeerState is '$(cell 4)' after the kill, want down(2)"
[ "$(cell 6)" = 0 ] || die "rmPeerCalls is '$(cell 6)' after the kill"
[ "$(log_count "$T/traps.log" "\.$RMOID\.0\.6\b")" = 1 ] || die "rmPeerDown sent more than once"
ok "kill -9 rm-b: one rmPeerDown naming rm-b; its row down(2), 0 calls"

cluster_start b "$T/b.json" "$HB"
wait_log "$T/traps.log" "\.$RMOID\.0\.7\b" 2 5 || die "no rmPeerUp after rm-b restarted: $(cat "$T/traps.log")"
wait_for 2 cell_is 4 1 || die "rmPeerState is '$(cell 4)' after the restart"
ok "rm-b restarted: rmPeerUp, its row up(1) again"
kill "$calls" 2>/dev/null || true
