#!/usr/bin/env bash
# rs (SQLite) killed with -9 twice during a 1,000-call run at 100 calls/s and
# restarted (issue 4, acceptance 2): the final count equals the calls that completed,
# each stored once. rm's publisher reconnects and resends what rs had not receipted.
. "$(dirname "$0")/lib/billing.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port)
RSP=$(free_port); RHP=$(free_port)
N=1000
rs_sqlite_config "$T/rs.json" "$RSP" "$RHP" "$T/rs.db"
rs_start "$T/rs.json" "$RSP" rs1
rm_up_publishing "127.0.0.1:$RSP"

uac_run calls "$SP" uac_rr.xml "$N" 100 30 -d 500 &
uac=$!; bg_pid $uac
for round in 1 2; do
	# mid-run: rs has stored 150 more records since its start
	base=$(sql "$T/rs.db" "select count(*) from cdr" 2>/dev/null || echo 0)
	wait_rows "$T/rs.db" $((base + 150)) 20 >/dev/null
	before=$(sql "$T/rs.db" "select count(*) from cdr")
	kill -9 "$RS_PID"; wait "$RS_PID" 2>/dev/null || true
	sleep 1 # scenario: rs stays down 1 s while calls go on; rm must reconnect
	rs_start "$T/rs.json" "$RSP" "rs$((round + 1))"
	ok "rs killed with -9 (round $round, $before rows stored) and restarted"
done
wait $uac || true
uac_stats "$T/calls.csv"
[ "$OK" -ge $((N - 5)) ] || die "only $OK of $N calls completed"
[ "$FAILED" = $((N - OK)) ] || die "sipp: $OK ok, $FAILED failed of $N"

wait_metric "$HP" rm_spool_depth -eq 0 20 || die "spool not drained"
n=$(wait_rows "$T/rs.db" "$OK" 10)
check_unique "$T/rs.db"
a=$(sql "$T/rs.db" "select count(*) from cdr where disposition='answered'")
[ "$a" = "$OK" ] || die "answered rows $a (all rows $n), sipp completed $OK"
[ "$n" = "$((OK + FAILED))" ] || die "rows $n for $OK completed + $FAILED failed calls"
r=$(mval "$HP" rm_billing_published_total)
[ "$r" -ge "$n" ] || die "rm_billing_published_total $r < $n"
ok "final count $n = $OK completed calls, each stored once ($(mval "$HP" rm_billing_rejected_total) rejected)"
kill -TERM "$RM_PID"; wait "$RM_PID" || die "rm exited $? on SIGTERM"
