#!/usr/bin/env bash
# rs as an AgentX subagent (snmp.enabled) of a real net-snmp snmpd master started here,
# with snmptrapd as the trap sink and a real PostgreSQL:
#  1. snmpwalk of BASE.2 returns the nine documented scalars (etc/mibs/README.md),
#     with values equal to /metrics;
#  2. PostgreSQL stopped -> snmptrapd logs rsDbDown (BASE.2.0.1, with the reason),
#     the journal passing its high-water mark -> rsJournalHighWater (BASE.2.0.3);
#     PostgreSQL back -> rsDbUp (BASE.2.0.2);
#  3. snmpd restarted -> rs's objects answer again within 2 s.
. "$(dirname "$0")/lib/common.sh"
for c in snmpd snmpwalk snmpget snmptrapd; do
	command -v $c >/dev/null || die "$c is not installed (scripts/install-deps)"
done
BASE=1.3.6.1.4.1.99999.1
RS=$BASE.2
pp=$(free_port); sp=$(free_port); hp=$(free_port)
snmp=$(free_port); ax=$(free_port); trap_port=$(free_port)
pg_up "$pp"

echo "disableAuthorization yes" >"$T/snmptrapd.conf"
snmptrapd -f -C -c "$T/snmptrapd.conf" -m '' -n -On -Lf "$T/traps.log" \
	"udp:127.0.0.1:$trap_port" >"$T/snmptrapd.log" 2>&1 &
bg_pid $!
# Not in $T itself: snmpd writes its persistent state as snmpd.conf into
# SNMP_PERSISTENT_DIR on exit, which would replace this file.
mkdir -p "$T/snmp-conf" "$T/snmp-state"
cat >"$T/snmp-conf/snmpd.conf" <<EOF
master agentx
agentXSocket tcp:127.0.0.1:$ax
rocommunity public 127.0.0.1
trap2sink udp:127.0.0.1:$trap_port public
EOF
start_snmpd() {
	SNMP_PERSISTENT_DIR="$T/snmp-state" MIBS= snmpd -f -Lo -C -c "$T/snmp-conf/snmpd.conf" -p "$T/snmpd.pid" \
		-I -smux "udp:127.0.0.1:$snmp" >>"$T/snmpd.log" 2>&1 &
	snmpd_pid=$!; bg_pid $snmpd_pid
	wait_port "$ax" 10 || die "snmpd did not open its AgentX port"
}
start_snmpd

cat >"$T/rs.json" <<JSON
{ "stomp": { "port": $sp }, "http": { "port": $hp },
  "storage": { "backend": "postgresql",
               "postgresql": { "conninfo": "host=127.0.0.1 port=$pp dbname=rs user=postgres" } },
  "writer": { "retry_ms": 200 },
  "journal": { "dir": "$T/journal", "max_bytes": 400000, "high_water_percent": 10 },
  "snmp": { "enabled": true, "master": "tcp:127.0.0.1:$ax", "base_oid": "$BASE" } }
JSON
"$BIN/rs" -c "$T/rs.json" --init >"$T/init.log" 2>&1 || die "rs --init"
"$BIN/rs" -c "$T/rs.json" >"$T/rs.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$sp" 10 || die "rs did not listen"

walk() { MIBS= snmpwalk -v2c -c public -On -t 2 -r 2 "127.0.0.1:$snmp" "$RS" 2>&1 || true; }
# snmpval WALK N: the value of BASE.2.1.N.0 in a walk output
snmpval() { awk -v o=".$RS.1.$2.0" '$1 == o { print $NF }' <<<"$1"; }
for _ in $(seq 50); do walk | grep -q "^.$RS.1.1.0 " && break; sleep 0.1; done

# 1. traffic of every kind, then walk and compare with /metrics
/usr/bin/python3 "$HELPERS/stomp_client.py" send "$sp" S 500 >>"$T/send.log" 2>&1 ||
	die "send 500"
/usr/bin/python3 "$HELPERS/stomp_client.py" send "$sp" S 100 >>"$T/send.log" 2>&1 ||
	die "resend 100"
/usr/bin/python3 "$HELPERS/stomp_client.py" bad "$sp" X >>"$T/send.log" 2>&1 ||
	die "bad-record scenario"
w=$(walk)
echo "$w" >"$T/walk1.txt"
n=$(grep -c "^.$RS.1.[0-9]*.0 = " <<<"$w" || true)
[ "$n" = 9 ] || die "walk returned $n scalars, want 9: $w"
grep -q "^.$RS.[^1]" <<<"$w" && die "walk returned objects outside BASE.2.1: $w"
m=$(http_get "$hp" /metrics)
mv() { awk -v n="$1" '$1 == n { print $2 }' <<<"$m"; }
# rsRejected: malformed records (reasons invalid, destination); rsReceived: every
# record that arrived, valid or not (accepted + those two + journal_full).
rej() { awk -v r="$1" 'index($1, "rs_records_rejected_total{reason=\"" r "\"}") == 1 { print $2 }' <<<"$m"; }
sum_rej=$(( $(rej invalid) + $(rej destination) ))
all_recv=$(( $(mv rs_records_received_total) + sum_rej + $(rej journal_full) ))
bsum=$(mv rs_batch_seconds_sum); bcnt=$(mv rs_batch_seconds_count)
avg=$(awk -v s="$bsum" -v c="$bcnt" 'BEGIN { printf "%d", c ? s / c * 1000 + 0.5 : 0 }')
last=$(awk -v s="$(mv rs_batch_last_seconds)" 'BEGIN { printf "%d", s * 1000 + 0.5 }')
pct=$(awk -v b="$(mv rs_journal_bytes)" -v x="$(mv rs_journal_max_bytes)" 'BEGIN { printf "%d", b * 100 / x }')
db=$([ "$(mv rs_db_up)" = 1 ] && echo 1 || echo 2)
check() { # N NAME expected
	local got; got=$(snmpval "$w" "$1")
	[ "$got" = "$3" ] || die "BASE.2.1.$1.0 ($2) = '$got', /metrics says '$3'"
}
check 1 rsReceived "$all_recv"
check 2 rsStored "$(mv rs_records_stored_total)"
check 3 rsDuplicates "$(mv rs_records_duplicates_total)"
check 4 rsRejected "$sum_rej"
check 5 rsJournalDepth "$(mv rs_journal_depth)"
check 6 rsDbState "$db"
check 7 rsBatchLatencyLastMs "$last"
check 8 rsBatchLatencyAvgMs "$avg"
check 9 rsJournalUsagePercent "$pct"
[ "$(snmpval "$w" 2)" = 506 ] || die "rsStored $(snmpval "$w" 2), want 506 (500 + 4 good CDRs, 1 event, 1 metric)"
[ "$(snmpval "$w" 3)" = 100 ] || die "rsDuplicates $(snmpval "$w" 3), want 100"
[ "$(snmpval "$w" 4)" -ge 2 ] || die "rsRejected $(snmpval "$w" 4), want >= 2"
grep -q "^.$RS.1.6.0 = INTEGER: 1$" <<<"$w" || die "rsDbState not INTEGER 1: $w"
grep -q "^.$RS.1.1.0 = Counter64: " <<<"$w" || die "rsReceived not a Counter64"
grep -q "^.$RS.1.5.0 = Gauge32: " <<<"$w" || die "rsJournalDepth not a Gauge32"
ok "snmpwalk $RS: 9 scalars, types as documented, values equal to /metrics"

# Prometheus naming (issue 5): rs_ prefix on every series, _total on every counter,
# latency as a histogram.
bad=$(awk '!/^#/ && NF && $1 !~ /^rs_/' <<<"$m")
[ -z "$bad" ] || die "series without the rs_ prefix: $bad"
bad=$(awk '$1 == "#" && $2 == "TYPE" && $4 == "counter" && $3 !~ /_total$/ { print $3 }' <<<"$m")
[ -z "$bad" ] || die "counters without _total: $bad"
grep -q '^# TYPE rs_batch_seconds histogram$' <<<"$m" || die "rs_batch_seconds is not a histogram"
grep -q '^rs_batch_seconds_bucket{le="+Inf"} ' <<<"$m" || die "rs_batch_seconds has no +Inf bucket"
ok "/metrics: rs_ prefix everywhere, counters end in _total, rs_batch_seconds is a histogram"

# 2. traps: DB down (with reason), journal high water, DB up
"$TOP/scripts/pg-stop" "$T/pg"
/usr/bin/python3 "$HELPERS/stomp_client.py" send "$sp" D 300 >>"$T/send.log" 2>&1 ||
	die "send while PostgreSQL is down"
for _ in $(seq 50); do grep -q "$RS.0.3" "$T/traps.log" 2>/dev/null && break; sleep 0.1; done
grep -q "\.$RS\.0\.1" "$T/traps.log" || die "no rsDbDown trap: $(cat "$T/traps.log")"
grep -A3 "\.$RS\.0\.1" "$T/traps.log" | grep -q "\.$RS\.4\.1\.0 = STRING: .*postgresql" ||
	die "rsDbDown without the reason: $(cat "$T/traps.log")"
grep -q "\.$RS\.0\.3" "$T/traps.log" || die "no rsJournalHighWater trap"
w=$(walk)
[ "$(snmpval "$w" 6)" = 2 ] || die "rsDbState $(snmpval "$w" 6) while PostgreSQL is down"
[ "$(snmpval "$w" 5)" = 300 ] || die "rsJournalDepth $(snmpval "$w" 5), want 300"
ok "PostgreSQL down: rsDbDown (with reason) and rsJournalHighWater logged; rsDbState 2, depth 300"
"$TOP/scripts/pg-start" "$T/pg" "$pp" || die "pg-start again"
for _ in $(seq 100); do grep -q "\.$RS\.0\.2" "$T/traps.log" && break; sleep 0.1; done
grep -q "\.$RS\.0\.2" "$T/traps.log" || die "no rsDbUp trap"
for _ in $(seq 50); do [ "$(snmpval "$(walk)" 5)" = 0 ] && break; sleep 0.1; done
[ "$(snmpval "$(walk)" 5)" = 0 ] || die "journal not replayed"
ok "PostgreSQL back: rsDbUp logged, journal replayed (rsJournalDepth 0)"

# 3. snmpd restart: objects back within 2 s
kill "$snmpd_pid"; wait "$snmpd_pid" 2>/dev/null || true
t0=$EPOCHREALTIME
start_snmpd
back=""
while [ "$(awk "BEGIN{print ($EPOCHREALTIME - $t0) < 5}")" = 1 ]; do
	if MIBS= snmpget -v2c -c public -On -t 0.2 -r 0 "127.0.0.1:$snmp" "$RS.1.2.0" 2>/dev/null |
		grep -q "Counter64: 806"; then
		back=$(awk "BEGIN{printf \"%.2f\", $EPOCHREALTIME - $t0}"); break
	fi
	sleep 0.05
done
[ -n "$back" ] || die "rs objects not back within 5 s of the snmpd restart"
awk "BEGIN{exit !($back <= 2.0)}" || die "rs objects back only after ${back}s (limit 2 s)"
ok "snmpd restarted: rsStored answers again after ${back}s"
kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM"
