#!/usr/bin/env bash
# Billing with rs down for the whole run (issue 4, acceptance 6), billing.mode stomp:
#  - 500 calls all succeed while rs is not listening; rm's /metrics show every record
#    kept in the spool (depth = 500 records + 3 events per call), none lost, the
#    publisher not connected;
#  - SIGTERM: rm exits cleanly, the spool stays; restarted on the same spool, rm
#    reports the same depth (replayed from disk);
#  - rs starts: all 500 records arrive, once each, and the spool empties;
#  - spool full (spool_max_bytes 64 KiB, rs down again): calls still all succeed,
#    the records that did not fit are counted in rm_billing_lost_total and the
#    high-water gauge is 1.
. "$(dirname "$0")/lib/billing.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port)
RSP=$(free_port); RHP=$(free_port)
N=500
rs_sqlite_config "$T/rs.json" "$RSP" "$RHP" "$T/rs.db"
billing_rm_config "$T/rm.json" "$SP" "$HP" "$M1" "$M2" \
	"{ \"endpoints\": [\"127.0.0.1:$RSP\"], \"spool_dir\": \"$T/spool\" }"
uas_start mcp1 "$M1" uas_rr.xml u1
uas_start mcp2 "$M2" uas_rr.xml u1
rm_start_billing "$T/rm.json" "$HP"
wait_metric "$HP" rm_mcps_up -eq 2 10 || die "MCPs not up"

uac_run calls "$SP" uac_rr.xml "$N" 100 30 -d 200 || true
[ "$OK" = "$N" ] && [ "$FAILED" = 0 ] || die "rs down: $OK of $N calls succeeded, $FAILED failed"
ok "rs down (billing.mode defaults to stomp): $N of $N calls succeeded"

wait_metric "$HP" rm_billing_records_total -eq "$N" 5 || die "records built"
wait_metric "$HP" rm_spool_depth -eq $((4 * N)) 5 ||
	die "spool depth $(mval "$HP" rm_spool_depth), want $((4 * N))"
[ "$(mval "$HP" rm_billing_lost_total)" = 0 ] || die "records lost"
[ "$(mval "$HP" rm_billing_published_total)" = 0 ] || die "published with rs down?"
[ "$(mval "$HP" rm_billing_publisher_connected)" = 0 ] || die "publisher claims a session"
b=$(mval "$HP" rm_spool_bytes)
[ "$b" -gt $((N * 400)) ] || die "spool holds only $b bytes for $N records"
ok "spool holds all $N records (+ $((3 * N)) events): rm_spool_depth $((4 * N)), $b bytes, 0 lost"

kill -TERM "$RM_PID"; wait "$RM_PID" || die "rm exited $? on SIGTERM with rs down"
ls "$T/spool"/*.seg >/dev/null 2>&1 || die "no spool segments left after exit"
rm_start_billing "$T/rm.json" "$HP"
[ "$(mval "$HP" rm_spool_depth)" = $((4 * N)) ] ||
	die "after restart the spool depth is $(mval "$HP" rm_spool_depth)"
ok "SIGTERM with rs down: clean exit; restarted rm replays $((4 * N)) spooled entries"

rs_start "$T/rs.json" "$RSP"
wait_metric "$HP" rm_spool_depth -eq 0 20 || die "spool not drained after rs started"
n=$(wait_rows "$T/rs.db" "$N" 10)
[ "$n" = "$N" ] || die "rows in rs: $n, want $N"
a=$(sql "$T/rs.db" "select count(*) from cdr where disposition='answered'")
[ "$a" = "$N" ] || die "answered rows: $a"
check_unique "$T/rs.db"
ev=$(sql "$T/rs.db" "select count(*) from events")
[ "$ev" = $((3 * N)) ] || die "events in rs: $ev, want $((3 * N))"
[ "$(mval "$HP" rm_billing_publisher_connected)" = 1 ] || die "publisher not connected"
ok "rs started: all $N records (and $((3 * N)) events) stored once, spool empty"
kill -TERM "$RM_PID"; wait "$RM_PID" || die "rm exited $? on SIGTERM"

# ---- spool full ----------------------------------------------------------------------
kill -TERM "$RS_PID"; wait "$RS_PID" || true
billing_rm_config "$T/rm.json" "$SP" "$HP" "$M1" "$M2" \
	"{ \"endpoints\": [\"127.0.0.1:$RSP\"], \"spool_dir\": \"$T/spool2\",
	   \"spool_max_bytes\": 65536 }"
rm_start_billing "$T/rm.json" "$HP"
wait_metric "$HP" rm_mcps_up -eq 2 10 || die "MCPs not up"
uac_run full "$SP" uac_rr.xml 200 100 30 -d 100 || true
[ "$OK" = 200 ] && [ "$FAILED" = 0 ] || die "spool full: $OK of 200 calls succeeded"
wait_metric "$HP" rm_billing_records_total -eq 200 5 || die "records not built"
lost=$(mval "$HP" rm_billing_lost_total)
[ "$lost" -gt 0 ] && [ "$lost" -lt 200 ] || die "spool full: rm_billing_lost_total = $lost"
[ "$(mval "$HP" rm_spool_high_water)" = 1 ] || die "rm_spool_high_water not 1"
[ "$(mval "$HP" rm_spool_usage_percent)" -ge 80 ] || die "usage below the high-water mark"
ok "spool full: 200 of 200 calls succeeded, $lost records counted lost, high-water 1"
kill -TERM "$RM_PID"; wait "$RM_PID" || die "rm exited $? on SIGTERM"
