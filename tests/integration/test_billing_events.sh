#!/usr/bin/env bash
# billing.events (issue 12): with "none", rm sends one record per call and no call
# events: 200 calls through rm publishing to rs (SQLite) leave 200 answered records
# and an empty events table, nothing lost; the events counter stays at 0.
. "$(dirname "$0")/lib/billing.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port)
RSP=$(free_port); RHP=$(free_port)
N=200
rs_sqlite_config "$T/rs.json" "$RSP" "$RHP" "$T/rs.db"
rs_start "$T/rs.json" "$RSP"
billing_rm_config "$T/rm.json" "$SP" "$HP" "$M1" "$M2" \
	"{ \"mode\": \"stomp\", \"endpoints\": [\"127.0.0.1:$RSP\"], \"spool_dir\": \"$T/spool\", \"events\": \"none\" }"
uas_start mcp1 "$M1" uas_rr.xml u1
uas_start mcp2 "$M2" uas_rr.xml u1
rm_start_billing "$T/rm.json" "$HP"
wait_metric "$HP" rm_mcps_up -eq 2 10 || die "MCPs not up"
wait_metric "$HP" rm_billing_publisher_connected -eq 1 10 || die "rm did not connect to rs"

uac_run calls "$SP" uac_rr.xml "$N" 100 30 || true
[ "$OK" = "$N" ] && [ "$FAILED" = 0 ] || die "$OK of $N calls succeeded, $FAILED failed"
wait_metric "$HP" rm_billing_published_total -ge "$N" 20 ||
	die "rm_billing_published_total $(mval "$HP" rm_billing_published_total) < $N"
wait_metric "$HP" rm_spool_depth -eq 0 20 || die "spool did not drain"
n=$(wait_rows "$T/rs.db" "$N" 10)
[ "$n" = "$N" ] || die "cdr rows: $n, want $N"
ev=$(sql "$T/rs.db" "select count(*) from events" 2>/dev/null || echo 0)
[ "$ev" = 0 ] || die "events: $ev, want none (billing.events: none)"
[ "$(mval "$HP" rm_billing_events_total)" = 0 ] || die "rm_billing_events_total != 0"
[ "$(mval "$HP" rm_billing_lost_total)" = 0 ] || die "records lost"
ok "billing.events none: $N records, no call event in rs, none spooled"
