#!/usr/bin/env bash
# Billing end to end (issue 4, acceptance 1), and the helpers the other
# test_billing_*.sh files source:
#   2,000 calls (sipp SIP Server -> rm -> two sipp MCPs) with rm publishing to rs
#   (SQLite): exactly 2,000 answered records, no duplicate id or call-id, each
#   record's duration within 50 ms of sipp's measured call length (-d), tenant/profile/LRG
#   from the DNIS table, the MCP column matching the INVITEs each MCP received, and
#   one call.start/answer/end event per call in rs's events table.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then _BILL_MAIN=1; else _BILL_MAIN=0; fi
. "$(dirname "${BASH_SOURCE[0]}")/test_rm_cli.sh"

# billing_rm_config FILE SIP_PORT HTTP_PORT MCP1 MCP2 BILLING_JSON
# Profile acme-ivr (tenant acme, LRG ivr = both MCPs, round-robin) for DNIS 1000.
# BILL_SESSION: the "session" object (default { "drain_timeout_s": 5 }). The MCP
# monitor and attempt timeout are lenient: sipp MCPs on a loaded 2-CPU machine answer
# OPTIONS late, and these tests are about billing, not health checks.
billing_rm_config() {
	local f=$1 sp=$2 hp=$3 m1=$4 m2=$5 billing=$6
	local session=${BILL_SESSION:-'{ "drain_timeout_s": 5 }'}
	cat >"$f" <<JSON
{
  "node": "rm-test",
  "sip": { "listen": "127.0.0.1", "port": $sp, "transports": ["udp", "tcp"],
           "sip_servers": ["sip:127.0.0.1:$((sp + 30))"] },
  "lrgs": [ { "name": "ivr", "scheme": "round-robin", "members": [
      { "uri": "sip:127.0.0.1:$m1", "max_ports": 5000 },
      { "uri": "sip:127.0.0.1:$m2", "max_ports": 5000 } ] } ],
  "tenants": [ { "name": "acme" } ],
  "profiles": [ { "name": "acme-ivr", "tenant": "acme", "service_type": "voicexml",
                  "lrg": "ivr" } ],
  "dnis": { "1000": "acme-ivr" },
  "default_profile": "acme-ivr",
  "monitor": { "interval_ms": 500, "timeout_ms": 450, "failures_to_down": 10,
               "successes_to_up": 1 },
  "failover": { "attempt_timeout_ms": 5000 },
  "session": $session,
  "http": { "listen": "127.0.0.1", "port": $hp },
  "billing": $billing,
  "logging": { "level": "${RM_LOG_LEVEL:-info}" }
}
JSON
}

# rs_sqlite_config FILE STOMP_PORT HTTP_PORT DB
rs_sqlite_config() {
	cat >"$1" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $2 },
  "http": { "listen": "127.0.0.1", "port": $3 },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$4" } },
  "writer": { "retry_ms": 200 },
  "journal": { "dir": "$4.journal" } }
JSON
}

# rs_start CONFIG STOMP_PORT [LOGNAME]: start rs in the background (pid in RS_PID);
# RS_BIN overrides the binary ($BIN/rs).
rs_start() {
	"${RS_BIN:-$BIN/rs}" -c "$1" >>"$T/${3:-rs}.log" 2>&1 &
	RS_PID=$!
	bg_pid "$RS_PID"
	wait_port "$2" 10 || die "rs did not listen on $2"
}

# rm_start_billing CONFIG HTTP_PORT: like rm_start, but waits for /readyz too.
rm_start_billing() {
	rm_start "$1" "$2"
	local i
	for i in $(seq 50); do http_get "$2" /readyz >/dev/null 2>&1 && return 0; sleep 0.1; done
	die "rm not ready"
}

# rm_up_publishing HOST:PORT: write $T/rm.json (ports $SP $HP $M1 $M2, spool $T/spool,
# billing.mode stomp to HOST:PORT), start the two sipp MCPs and rm, and wait until both
# MCPs are up and the publisher is connected. BILL_SESSION passes through.
rm_up_publishing() {
	billing_rm_config "$T/rm.json" "$SP" "$HP" "$M1" "$M2" \
		"{ \"mode\": \"stomp\", \"endpoints\": [\"$1\"], \"spool_dir\": \"$T/spool\" }"
	uas_start mcp1 "$M1" uas_rr.xml u1
	uas_start mcp2 "$M2" uas_rr.xml u1
	rm_start_billing "$T/rm.json" "$HP"
	wait_metric "$HP" rm_mcps_up -eq 2 10 || die "MCPs not up"
	wait_metric "$HP" rm_billing_publisher_connected -eq 1 10 || die "rm did not connect to $1"
}

# sql DB SQL: one value from an SQLite database (rs's).
sql() { sqlite3 -cmd ".timeout 10000" "$1" "$2"; }

# wait_rows DB WANT SECONDS: wait until table cdr holds WANT rows.
wait_rows() {
	local i n=0
	for i in $(seq $(($3 * 5))); do
		n=$(sql "$1" "select count(*) from cdr" 2>/dev/null || echo 0)
		[ "$n" -ge "$2" ] && break
		sleep 0.2
	done
	echo "$n"
}

# check_unique DB: no duplicate id and no duplicate call-id in cdr.
check_unique() {
	local d
	d=$(sql "$1" "select count(*) from (select call_id from cdr group by call_id having count(*) > 1)")
	[ "$d" = 0 ] || die "$d call-ids stored more than once"
	d=$(sql "$1" "select count(*) - count(distinct id) from cdr")
	[ "$d" = 0 ] || die "$d duplicate record ids"
}

[ "$_BILL_MAIN" = 1 ] || return 0

# ---- acceptance 1 -------------------------------------------------------------------
SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port)
RSP=$(free_port); RHP=$(free_port)
N=2000; LEN=1000
rs_sqlite_config "$T/rs.json" "$RSP" "$RHP" "$T/rs.db"
rs_start "$T/rs.json" "$RSP"
rm_up_publishing "127.0.0.1:$RSP"

start=$(date +%s)
uac_run calls "$SP" uac_timed.xml "$N" 250 60 -d "$LEN" -s 1000 \
	-trace_logs -log_file "$T/times.log" || true
[ "$OK" = "$N" ] && [ "$FAILED" = 0 ] || die "$OK of $N calls succeeded, $FAILED failed"
ok "$N calls through rm in $(($(date +%s) - start)) s, 0 failed"

wait_metric "$HP" rm_billing_published_total -ge "$N" 20 ||
	die "rm_billing_published_total $(mval "$HP" rm_billing_published_total) < $N"
n=$(wait_rows "$T/rs.db" "$N" 10)
[ "$n" = "$N" ] || die "cdr rows: $n, want $N"
a=$(sql "$T/rs.db" "select count(*) from cdr where disposition='answered' and sip_status=200")
[ "$a" = "$N" ] || die "answered records: $a, want $N"
check_unique "$T/rs.db"
[ "$(mval "$HP" rm_billing_records_total)" = "$N" ] || die "rm_billing_records_total != $N"
[ "$(mval "$HP" rm_billing_lost_total)" = 0 ] || die "records lost"
ok "exactly $N answered records, no duplicate id or call-id"

# sipp's own length of each call (200 received -> BYE sent, its clock) beside the
# billed duration: on a busy machine sipp's -d pause itself runs late.
awk '$2 == "answered" {a[$1] = $3} $2 == "bye" && ($1 in a) {print $1 "|" $3 - a[$1]}' \
	"$T/times.log" | sort >"$T/sipp_len.psv"
sql "$T/rs.db" "select call_id || '|' || duration_ms from cdr" | sort >"$T/billed.psv"
join -t'|' "$T/sipp_len.psv" "$T/billed.psv" >"$T/both.psv"
[ "$(wc -l <"$T/both.psv")" = "$N" ] || die "sipp timed $(wc -l <"$T/sipp_len.psv") calls," \
	"$(wc -l <"$T/both.psv") of them billed; want $N"
read -r bad worst lmin lmax < <(awk -F'|' -v len="$LEN" '
	{ d = $3 - $2; if (d < 0) d = -d; if (d > 50) bad++; if (d > worst) worst = d
	  if (!lmin || $2 < lmin) lmin = $2; if ($2 > lmax) lmax = $2 }
	END { print bad + 0, worst + 0, lmin, lmax }' "$T/both.psv")
[ "$bad" = 0 ] || die "$bad records with duration off by > 50 ms from sipp's call length" \
	"(worst $worst ms)"
ok "every duration within 50 ms of the call length sipp measured (worst $worst ms;" \
	"sipp's lengths $lmin..$lmax ms for -d $LEN)"

bad=$(sql "$T/rs.db" "select count(*) from cdr where tenant is not 'acme' or profile is not
	'acme-ivr' or lrg is not 'ivr' or service_type is not 'voicexml' or node is not 'rm-test'
	or dnis is not '1000' or ended_by is not 'caller' or attempts != 1 or caller is not 'sipp'")
[ "$bad" = 0 ] || die "$bad records with a wrong tenant/profile/lrg/node/dnis/ended_by"
sleep 1.2 # the MCPs' -trace_counts files are written every second
for m in 1 2; do
	port=$(eval echo "\$M$m")
	got=$(sql "$T/rs.db" "select count(*) from cdr where mcp = 'sip:127.0.0.1:$port'")
	want=$(uas_calls "mcp$m")
	[ "$got" = "$want" ] && [ "$got" -gt 0 ] ||
		die "MCP $m: $got records name it, it received $want INVITEs"
done
ok "tenant acme, profile acme-ivr, LRG ivr; MCP column matches each MCP's INVITEs"

ev=$(sql "$T/rs.db" "select count(*) from events")
[ "$ev" = $((3 * N)) ] || die "events: $ev, want $((3 * N)) (start, answer, end per call)"
for ty in call.start call.answer call.end; do
	c=$(sql "$T/rs.db" "select count(distinct json_extract(body, '\$.call_id')) from events
		where json_extract(body, '\$.type') = '$ty'")
	[ "$c" = "$N" ] || die "$ty events for $c calls, want $N"
done
ok "one call.start, call.answer and call.end event per call in rs"
[ "$(mval "$HP" rm_spool_depth)" = 0 ] || die "spool not empty: $(mval "$HP" rm_spool_depth)"

kill -TERM "$RM_PID"; wait "$RM_PID" || die "rm exited $? on SIGTERM"
ok "rm drained and exited cleanly"
