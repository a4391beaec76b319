#!/usr/bin/env bash
# rm as an AgentX subagent (issue 5, acceptance 1), against a real snmpd master and a
# real snmptrapd started here on free loopback ports:
#  - after real calls through rm (two sipp MCPs), snmpwalk of rm's subtree returns
#    every documented scalar and table cell, with values equal to /metrics;
#  - a spool filling past its high-water mark sends rmSpoolHighWater once;
#  - killing one MCP makes snmptrapd log rmMcpDown (and rmLrgAllDown for the group
#    that had only that MCP);
#  - SIGHUP with one more MCP adds a row to the MCP table;
#  - a profile reaching its L3 hard limit sends rmL3LimitReached once;
#  - after snmpd restarts, rm's objects are back within 2 s (measured and printed).
. "$(dirname "$0")/lib/rm.sh"
for c in snmpd snmptrapd snmpwalk snmpget; do
	command -v "$c" >/dev/null || die "$c not installed (packages snmpd snmptrapd snmp)"
done

SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port); M3=$(free_port)
AX=$(free_port); SNMP=$(free_port); TRAP=$(free_port)
BASE=1.3.6.1.4.1.99999.1
RMOID=$BASE.1
export MIBS=   # Debian ships no IETF MIBs: numeric OIDs only
SNMPOPT=(-v2c -c public -On -Oe -r 0 -t 1 "udp:127.0.0.1:$SNMP")

# ---- the SNMP side --------------------------------------------------------------------
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
SNMPD_PID=""
snmpd_start() {
	SNMP_PERSISTENT_DIR="$T/snmp-state" snmpd -f -Lo -C -c "$T/snmpd.conf" -p "$T/snmpd.pid" \
		-I -smux "udp:127.0.0.1:$SNMP" >>"$T/snmpd.log" 2>&1 &
	SNMPD_PID=$!
	bg_pid "$SNMPD_PID"
}
snmpd_start
wait_port "$AX" 10 || die "snmpd did not open its AgentX port $AX"

# ---- rm with two MCPs -----------------------------------------------------------------
LRGS="[{\"name\":\"ivr\",\"scheme\":\"least-used\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\",\"max_ports\":50},
        {\"uri\":\"sip:127.0.0.1:$M2\",\"max_ports\":70}]},
      {\"name\":\"solo\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\",\"max_ports\":50}]}]"
SNMPCFG=", \"snmp\": {\"enabled\": true, \"master\": \"tcp:127.0.0.1:$AX\", \"base_oid\": \"$BASE\"}"
# the chart's cluster section without a key is accepted; rm runs standalone (warned)
SNMPCFG+=", \"cluster\": {\"listen\": \"127.0.0.1\", \"port\": $(free_port), \"peers\": [\"127.0.0.1:9\"]}"
# billing to a closed port with a 16 KiB spool: the spool fills past its high-water
# mark (80 %) during the calls, so rmSpoolDepth/Usage are non-zero and
# rmSpoolHighWater is sent
BILLING="\"billing\": {\"mode\": \"stomp\", \"endpoints\": [\"127.0.0.1:1\"], \"spool_dir\": \"$T/spool\", \"spool_max_bytes\": 16384}"
write_cfg() { # LRGS EXTRA
	rm_write_config "$T/rm.json" "$SP" "$HP" "$1" "$2"
	sed -i "s#\"billing\": { \"mode\": \"off\" }#$BILLING#" "$T/rm.json"
	grep -q "spool_max_bytes" "$T/rm.json" || die "could not set the billing section"
}
write_cfg "$LRGS" "$(rm_default_profile ivr)$SNMPCFG"
uas_start mcp1 "$M1" uas_rr.xml
MCP1=$UAS_PID
uas_start mcp2 "$M2" uas_rr.xml
RM_NODE_NAME=snmp-node-7 rm_start "$T/rm.json" "$HP"

# walk RM_SUBTREE into FILE as "OID value" lines (strings unquoted); 0 if non-empty
walk() {
	snmpwalk "${SNMPOPT[@]}" -Oqv "$RMOID" >/dev/null 2>&1 || return 1
	snmpwalk "${SNMPOPT[@]}" -Oq "$RMOID" 2>/dev/null | sed 's/ "\(.*\)"$/ \1/' >"$1"
	[ -s "$1" ] && ! grep -q "No Such\|No more variables" "$1"
}
for _ in $(seq 1 50); do walk "$T/walk0.txt" && break; sleep 0.1; done
[ -s "$T/walk0.txt" ] || die "rm's subtree $RMOID is empty (AgentX registration?)"
ok "rm registered $RMOID with the master ($(wc -l <"$T/walk0.txt") objects)"

uac_run calls "$SP" uac_rr.xml 30 30 30 -d 100 || true
[ "$OK" = 30 ] || die "calls through rm: $OK/30 succeeded"
# the SIP thread republishes per-MCP/LRG usage every second: wait until it shows the
# calls gone, so that nothing but the OPTIONS RTT moves during the walk
wait_metric "$HP" "rm_mcp_active{mcp=\"sip:127.0.0.1:$M1\"}" -eq 0 5 || die "MCP 1 still busy"
wait_metric "$HP" "rm_mcp_active{mcp=\"sip:127.0.0.1:$M2\"}" -eq 0 5 || die "MCP 2 still busy"
wait_metric "$HP" 'rm_lrg_calls_active{lrg="ivr"}' -eq 0 5 || die "LRG ivr still busy"
# /metrics just before and just after the walk must agree on what moves by itself
# (the last OPTIONS RTT), else the two reads straddled a ping: read again
for _ in $(seq 1 10); do
	http_get "$HP" /metrics >"$T/metrics0.txt"
	walk "$T/walk.txt" || die "snmpwalk after the calls failed"
	http_get "$HP" /metrics >"$T/metrics.txt"
	cmp -s <(grep '^rm_mcp_options_rtt_seconds' "$T/metrics0.txt") \
		<(grep '^rm_mcp_options_rtt_seconds' "$T/metrics.txt") && break
done

sv() { awk -v o=".$RMOID.$1" '$1 == o { $1 = ""; sub(/^ /, ""); print; exit }' "$T/walk.txt"; }
mv_() { awk -v n="$1" 'index($0, n " ") == 1 { print $NF; exit }' "$T/metrics.txt"; }
int() { printf '%.0f' "${1:-0}"; }
same() { # OID-suffix expected what
	local got; got=$(sv "$1")
	[ -n "$got" ] || die "snmpwalk has no $RMOID.$1 ($3)"
	[ "$got" = "$2" ] || die "$3: SNMP $RMOID.$1 = '$got', expected '$2'"
}

# scalars against /metrics
same 1.1.0 "$(int "$(mv_ rm_calls_active)")" rmActiveCalls
i=2
for d in answered cancelled rejected failed timed-out; do
	same "1.$i.0" "$(int "$(mv_ "rm_calls_total{disposition=\"$d\"}")")" "rmCalls $d"
	i=$((i + 1))
done
[ "$(sv 1.2.0)" = 30 ] || die "rmCallsAnswered is $(sv 1.2.0), 30 calls were answered"
rej=$(awk '/^rm_rejects_total\{/ { s += $NF } END { printf "%.0f", s }' "$T/metrics.txt")
same 1.7.0 "$rej" rmRejects
same 1.8.0 "$(int "$(mv_ rm_failovers_total)")" rmFailovers
same 1.9.0 "$(int "$(mv_ rm_spool_depth)")" rmSpoolDepth
same 1.10.0 "$(int "$(mv_ rm_spool_usage_percent)")" rmSpoolUsagePercent
[ "$(sv 1.9.0)" -gt 0 ] && [ "$(sv 1.10.0)" -ge 80 ] ||
	die "the spool did not fill: depth $(sv 1.9.0), usage $(sv 1.10.0) %"
ok "scalars 1.1-1.10 match /metrics (answered 30, rejects $rej, spool $(sv 1.9.0) records $(sv 1.10.0) %)"
for _ in $(seq 1 20); do grep -q "\.$RMOID\.0\.5\b" "$T/traps.log" && break; sleep 0.1; done
grep "\.$RMOID\.0\.5\b" "$T/traps.log" | grep -q "\.$RMOID\.1\.10\.0 = Gauge32: \([89][0-9]\|100\)$" ||
	die "no rmSpoolHighWater with the usage: $(cat "$T/traps.log")"
[ "$(grep -c "\.$RMOID\.0\.5\b" "$T/traps.log")" = 1 ] || die "rmSpoolHighWater sent twice"
ok "spool past its high-water mark: one rmSpoolHighWater trap"
grep -aq '"node":"snmp-node-7"' "$T"/spool/*.seg || die "RM_NODE_NAME is not the node of the CDRs"
ok "RM_NODE_NAME=snmp-node-7 is the node of the spooled CDRs"

# MCP table: row 1 = M1 (groups ivr,solo; capacity = largest max_ports 50), row 2 = M2
row=1
for spec in "$M1 ivr,solo 50" "$M2 ivr 70"; do
	set -- $spec
	uri="sip:127.0.0.1:$1"
	same "2.1.2.$row" "$uri" "rmMcpUri.$row"
	same "2.1.3.$row" "$2" "rmMcpGroup.$row"
	up=$(int "$(mv_ "rm_mcp_up{mcp=\"$uri\"}")")
	same "2.1.4.$row" "$([ "$up" = 1 ] && echo 1 || echo 2)" "rmMcpState.$row"
	[ "$(sv "2.1.4.$row")" = 1 ] || die "MCP $uri not up(1)"
	same "2.1.5.$row" "$(int "$(mv_ "rm_mcp_active{mcp=\"$uri\"}")")" "rmMcpActiveCalls.$row"
	same "2.1.6.$row" "$(int "$(mv_ "rm_mcp_max_ports{mcp=\"$uri\"}")")" "rmMcpCapacity.$row"
	[ "$(sv "2.1.6.$row")" = "$3" ] || die "rmMcpCapacity.$row is $(sv "2.1.6.$row"), want $3"
	# the RTT moves with every OPTIONS (each 500 ms): a loaded machine may never give a
	# walk between two equal /metrics reads, so the walk's value must lie between the
	# RTTs read just before and just after it (in ms, 1 ms of rounding either way)
	n="rm_mcp_options_rtt_seconds{mcp=\"$uri\"}"
	r0=$(awk -v n="$n" 'index($0, n " ") == 1 { print $NF; exit }' "$T/metrics0.txt")
	rtt=$(mv_ "$n"); got=$(sv "2.1.7.$row")
	[ -n "$got" ] || die "snmpwalk has no $RMOID.2.1.7.$row (rmMcpRttMs.$row)"
	awk -v a="$r0" -v b="$rtt" -v g="$got" 'BEGIN { lo = (a < b ? a : b) * 1000 - 1;
		hi = (a > b ? a : b) * 1000 + 1; exit !(g >= lo && g <= hi) }' ||
		die "rmMcpRttMs.$row: SNMP $got ms, /metrics ${r0}s before and ${rtt}s after the walk"
	row=$((row + 1))
done
[ -z "$(sv 2.1.2.3)" ] || die "a third MCP row that is not configured"
ok "MCP table: 2 rows (uri, group, state, active, capacity, rtt) match /metrics"

# LRG table
same 3.1.2.1 ivr rmLrgName.1
same 3.1.3.1 least-used rmLrgScheme.1
same 3.1.4.1 2 rmLrgMembers.1
same 3.1.5.1 2 rmLrgMembersUp.1
same 3.1.6.1 "$(int "$(mv_ 'rm_lrg_calls_active{lrg="ivr"}')")" rmLrgActiveCalls.1
same 3.1.2.2 solo rmLrgName.2
same 3.1.3.2 round-robin rmLrgScheme.2
same 3.1.4.2 1 rmLrgMembers.2
ok "LRG table: ivr (least-used, 2/2 up) and solo (round-robin, 1/1 up)"

# every walked OID is a documented one (README's layout), types by column
bad=$(awk -v b=".$RMOID." 'index($1, b) != 1 { print; next }
	{ s = substr($1, length(b) + 1) }
	s ~ /^1\.([1-9]|10)\.0$/ || s ~ /^2\.1\.[2-7]\.[0-9]+$/ || s ~ /^3\.1\.[2-6]\.[0-9]+$/ { next }
	{ print }' "$T/walk.txt")
[ -z "$bad" ] || die "undocumented objects in the walk: $bad"
[ "$(wc -l <"$T/walk.txt")" = $((10 + 2 * 6 + 2 * 5)) ] ||
	die "expected 32 objects, walked $(wc -l <"$T/walk.txt")"
ok "the walk has exactly the 32 documented objects"

# ---- rmMcpDown / rmLrgAllDown ---------------------------------------------------------
kill -9 "$MCP1"
t0=$EPOCHREALTIME
got=""
for _ in $(seq 1 100); do
	if grep -q "\.$RMOID\.0\.1\b" "$T/traps.log" 2>/dev/null; then
		got=$(awk "BEGIN{printf \"%.2f\", $EPOCHREALTIME - $t0}"); break
	fi
	sleep 0.1
done
[ -n "$got" ] || { cat "$T/traps.log" 2>/dev/null; die "no rmMcpDown trap within 10 s"; }
grep -A4 "\.$RMOID\.0\.1\b" "$T/traps.log" | grep -q "sip:127.0.0.1:$M1" ||
	die "rmMcpDown does not name the MCP: $(cat "$T/traps.log")"
for _ in $(seq 1 20); do grep -q "\.$RMOID\.0\.3\b" "$T/traps.log" && break; sleep 0.1; done
grep -q "\.$RMOID\.0\.3\b" "$T/traps.log" || die "no rmLrgAllDown for group solo"
grep -q "\.$RMOID\.0\.2\b" "$T/traps.log" && die "an rmMcpUp trap without a recovery"
ok "MCP killed: snmptrapd logged rmMcpDown ${got}s later (OPTIONS 500 ms, K=2) and rmLrgAllDown"
walk "$T/walk2.txt" || die "walk after the kill"
grep -q "^\.$RMOID\.2\.1\.4\.1 2$" "$T/walk2.txt" || die "rmMcpState.1 not down(2)"
grep -q "^\.$RMOID\.3\.1\.5\.2 0$" "$T/walk2.txt" || die "rmLrgMembersUp.2 not 0"
ok "rmMcpState.1 = down(2), rmLrgMembersUp(solo) = 0"

# ---- SIGHUP: the tables follow the config ---------------------------------------------
LRGS2="[{\"name\":\"ivr\",\"scheme\":\"least-used\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\",\"max_ports\":50},
        {\"uri\":\"sip:127.0.0.1:$M2\",\"max_ports\":70},{\"uri\":\"sip:127.0.0.1:$M3\"}]},
      {\"name\":\"solo\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\",\"max_ports\":50}]}]"
write_cfg "$LRGS2" "$(rm_default_profile ivr)$SNMPCFG"
kill -HUP "$RM_PID"
for _ in $(seq 1 30); do
	walk "$T/walk3.txt" && grep -q "^\.$RMOID\.2\.1\.2\.3 sip:127.0.0.1:$M3$" "$T/walk3.txt" && break
	sleep 0.1
done
grep -q "^\.$RMOID\.2\.1\.2\.3 sip:127.0.0.1:$M3$" "$T/walk3.txt" || die "SIGHUP: no MCP row 3"
grep -q "^\.$RMOID\.3\.1\.4\.1 3$" "$T/walk3.txt" || die "SIGHUP: rmLrgMembers.1 not 3"
ok "SIGHUP: MCP row 3 ($M3) and rmLrgMembers.1 = 3"

# ---- rmL3LimitReached: the profile's hard limit (l3 = 2) is reached under load --------
write_cfg "$LRGS2" "$(rm_default_profile ivr ', "limits": {"l3": 2}')$SNMPCFG"
rm_reload
# the calls last 300 ms: far shorter than the once-a-second publishing of the
# usage gauges; the trap is an edge raised at admission, not a sample of them
uac_run l3 "$SP" uac_rr.xml 6 50 20 -d 300 || true
# rm -> snmpd (AgentX) -> snmptrapd (UDP) -> traps.log: on a loaded machine the chain
# can take seconds, so wait up to 5 s, and say which link broke
wait_for 5 grep -q "\.$RMOID\.0\.4\b" "$T/traps.log" || true
grep "\.$RMOID\.0\.4\b" "$T/traps.log" | grep -q "\.$RMOID\.4\.3\.0 = Gauge32: 2" ||
	die "no rmL3LimitReached (limit 2) in traps.log after $OK admitted of 6 (rm logged" \
		"$(log_count "$T/rm.log" 'notification rmL3LimitReached') such notification):" \
		"$(tail -c 600 "$T/traps.log")"
[ "$(grep -c "\.$RMOID\.0\.4\b" "$T/traps.log")" = 1 ] || die "more than one rmL3LimitReached"
rej=$(snmpget "${SNMPOPT[@]}" -Oqv "$RMOID.1.7.0")
[ "$rej" -ge 1 ] || die "rmRejects $rej after limit refusals"
ok "profile at l3 = 2: one rmL3LimitReached trap, rmRejects = $rej"

# ---- snmpd restart --------------------------------------------------------------------
answered=$(snmpget "${SNMPOPT[@]}" -Oqv "$RMOID.1.2.0")
kill "$SNMPD_PID"; wait "$SNMPD_PID" 2>/dev/null || true
sleep 1 # scenario: snmpd stays down 1 s, so rm notices the master is gone (AgentX ping)
snmpd_start
t0=$EPOCHREALTIME
back=""
for _ in $(seq 1 100); do
	v=$(snmpget "${SNMPOPT[@]}" -Oqv "$RMOID.1.2.0" 2>/dev/null || true)
	if [ -n "$v" ] && [ "$v" = "$answered" ]; then back=$(awk "BEGIN{printf \"%.2f\", $EPOCHREALTIME - $t0}"); break; fi
	sleep 0.05
done
[ -n "$back" ] || die "rm's objects not back 5 s after snmpd restarted"
awk "BEGIN{exit !($back < 2.0)}" || die "rm's objects came back after ${back}s (limit 2 s)"
ok "snmpd restarted: rmCallsAnswered.0 answered again ${back}s after snmpd was started"

kill -TERM "$RM_PID"
for _ in $(seq 1 50); do kill -0 "$RM_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$RM_PID" 2>/dev/null && die "rm did not exit on SIGTERM"
wait "$RM_PID" || die "rm exited with $?"
grep -q "cluster: no key .* standalone" "$T/rm.log" || die "no warning that the cluster has no key"
grep -q "snmp: subagent rm serving $RMOID via" "$T/rm.log" || die "rm did not log its SNMP start"
ok "rm stopped cleanly"
