#!/usr/bin/env bash
# Calls that rm itself ends still get exactly one record (issue 4, "ended by rm on
# timeout or drain"):
#  - session.max_duration_s 1: 20 calls of 3 s are ended by rm at 1 s, stored with
#    ended_by rm-timeout;
#  - SIGTERM with 30 calls of 20 s live and session.drain_timeout_s 1: rm ends them
#    as rm-drain, spools the records and delivers them to rs before it exits (the
#    publisher's bounded grace), exit status 0;
#  - a refused INVITE (no MCP up for its profile) is stored as rejected.
. "$(dirname "$0")/lib/billing.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port)
RSP=$(free_port); RHP=$(free_port)
rs_sqlite_config "$T/rs.json" "$RSP" "$RHP" "$T/rs.db"
rs_start "$T/rs.json" "$RSP"
BILL_SESSION='{ "max_duration_s": 1, "drain_timeout_s": 1 }' rm_up_publishing "127.0.0.1:$RSP"

uac_run timeout "$SP" uac_rr.xml 20 20 15 -d 3000 || true
n=$(wait_rows "$T/rs.db" 20 10)
t=$(sql "$T/rs.db" "select count(*) from cdr where ended_by = 'rm-timeout'")
[ "$n" = 20 ] && [ "$t" = 20 ] || die "max duration: $n records, $t ended by rm-timeout (want 20, 20)"
d=$(sql "$T/rs.db" "select max(end_ms - start_ms) from cdr")
[ "$d" -lt 2500 ] || die "max-duration calls lasted up to $d ms in their records"
ok "max_duration_s 1: 20 records, each ended_by rm-timeout (longest $d ms)"

# 30 long calls, then SIGTERM: drained after 1 s, records delivered before exit.
BILL_SESSION='{ "drain_timeout_s": 1 }' \
	billing_rm_config "$T/rm.json" "$SP" "$HP" "$M1" "$M2" \
	"{ \"mode\": \"stomp\", \"endpoints\": [\"127.0.0.1:$RSP\"], \"spool_dir\": \"$T/spool\" }"
rm_reload
uac_run drain "$SP" uac_rr.xml 30 30 25 -d 20000 &
uac=$!; bg_pid $uac
wait_metric "$HP" rm_calls_active -eq 30 10 || die "30 calls not live"
kill -TERM "$RM_PID"
# while it drains (1 s), new INVITEs are refused: each refusal is a record too
uac_run refused "$SP" uac_rr.xml 5 50 5 || true
[ "$OK" = 0 ] || die "$OK calls accepted while draining"
wait "$RM_PID" || die "rm exited $? after draining"
n=$(sql "$T/rs.db" "select count(*) from cdr where ended_by = 'rm-drain'")
[ "$n" = 30 ] || die "after SIGTERM rs holds $n rm-drain records, want 30"
a=$(sql "$T/rs.db" "select count(*) from cdr where ended_by = 'rm-drain' and disposition = 'answered'")
[ "$a" = 30 ] || die "drained calls: $a of 30 stored as answered"
ok "SIGTERM: 30 live calls ended as rm-drain, all 30 records in rs before rm exited"
r=$(sql "$T/rs.db" "select count(*) from cdr where disposition = 'rejected' and sip_status = 503
	and ended_by = 'rm' and attempts = 0 and mcp is null")
[ "$r" = 5 ] || die "refused while draining: $r rejected records, want 5"
ok "5 INVITEs refused while draining: 5 rejected records (503, ended_by rm)"
kill "$uac" 2>/dev/null || true
