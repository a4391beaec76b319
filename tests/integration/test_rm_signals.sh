#!/usr/bin/env bash
# rm signals (issue 3, acceptance 7):
#  - SIGHUP with a changed group: new calls go to the new MCP, live calls finish;
#  - SIGTERM drains: new INVITEs get 503, live calls finish, rm exits 0 once the
#    session table is empty.
. "$(dirname "$0")/lib/rm.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port)
cfg() {
	rm_write_config "$T/rm.json" "$SP" "$HP" "[
  {\"name\":\"g\",\"members\":[{\"uri\":\"sip:127.0.0.1:$1\"}]}]" "$(rm_default_profile g),
  \"session\": {\"drain_timeout_s\": 20}"
}
cfg "$M1"
uas_start a "$M1" uas_rr.xml
uas_start b "$M2" uas_rr.xml
rm_start "$T/rm.json" "$HP"
wait_mcp_up "$HP" "sip:127.0.0.1:$M1" || die "MCP a is not up"

# ---- SIGHUP -----------------------------------------------------------------------------
uac_run live "$SP" uac_rr.xml 20 100 30 -d 3000 &
LIVE=$!
bg_pid "$LIVE"
wait_metric "$HP" rm_calls_active -eq 20 10 || die "the 20 live calls are not up"
cfg "$M2"
rm_reload
wait_mcp_up "$HP" "sip:127.0.0.1:$M2" || die "MCP b is not up after the reload"
uac_run new "$SP" uac_rr.xml 50 100 20 -d 10 || true
[ "$OK" = 50 ] || die "after SIGHUP: $OK/50 new calls succeeded"
wait "$LIVE" || true
uac_stats "$T/live.csv"
[ "$OK" = 20 ] || die "live calls across SIGHUP: $OK/20 completed"
# (the MCPs write their -trace_counts files every second)
wait_for 5 eval '[ "$(uas_calls b)" -ge 50 ]' || true
na=$(uas_calls a); nb=$(uas_calls b)
[ "$nb" -ge 50 ] && [ "$na" -le 21 ] || die "after SIGHUP calls went a=$na b=$nb"
ok "SIGHUP: 20 live calls finished on the old MCP, 50 new calls went to the new one (a=$na b=$nb)"

# ---- SIGTERM drain ------------------------------------------------------------------------
uac_run drainlive "$SP" uac_rr.xml 10 100 30 -d 3000 &
LIVE=$!
bg_pid "$LIVE"
wait_metric "$HP" rm_calls_active -eq 10 10 || die "the 10 live calls are not up"
kill -TERM "$RM_PID"
wait_for 3 eval '! http_get "$HP" /readyz' || die "/readyz still 200 while draining"
uac_run refused "$SP" uac_rr.xml 5 50 10 || true
[ "$FAILED" = 5 ] || die "while draining: $FAILED/5 new calls refused"
n503=$(grep -o "Call-Id '[^']*'.*received 'SIP/2.0 503" "$T/refused.err" | cut -d"'" -f2 | sort -u | wc -l)
[ "$n503" = 5 ] || die "draining refusals were not 503 ($n503)"
wait "$LIVE" || true
uac_stats "$T/drainlive.csv"
[ "$OK" = 10 ] || die "live calls during drain: $OK/10 completed"
for _ in $(seq 1 50); do kill -0 "$RM_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$RM_PID" 2>/dev/null && die "rm did not exit after the drain"
rc=0; wait "$RM_PID" || rc=$?
[ "$rc" = 0 ] || die "rm exited with $rc after the drain"
grep -q "drain complete" "$T/rm.log" || die "no 'drain complete' in the log"
ok "SIGTERM: new calls got 503, 10 live calls finished, rm exited 0"
