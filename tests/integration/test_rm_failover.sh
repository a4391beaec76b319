#!/usr/bin/env bash
# rm failover and health (issue 3, acceptance 4):
#  - an MCP answering 503 to everything costs no failed call: every call completes on
#    the other MCP, and each retry is counted;
#  - an MCP killed mid-load is marked down (OPTIONS, 500 ms interval, K=2) within a
#    bounded time, and no INVITE is sent to it afterwards.
. "$(dirname "$0")/lib/rm.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port); M3=$(free_port)
rm_write_config "$T/rm.json" "$SP" "$HP" "[
  {\"name\":\"g\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\"},{\"uri\":\"sip:127.0.0.1:$M2\"}]},
  {\"name\":\"k\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M2\"},{\"uri\":\"sip:127.0.0.1:$M3\"}]}]" \
	", \"profiles\": [{\"name\":\"g\",\"tenant\":\"t\",\"lrg\":\"g\"},
  {\"name\":\"k\",\"tenant\":\"t\",\"lrg\":\"k\"}],
  \"dnis\": {\"2\": \"k\"}, \"default_profile\": \"g\",
  \"failover\": {\"codes\": [503], \"max_attempts\": 2, \"attempt_timeout_ms\": 1000}"
uas_start busy "$M1" uas_503.xml
uas_start good "$M2" uas_rr.xml
uas_start victim "$M3" uas_rr.xml
VICTIM=$UAS_PID
rm_start "$T/rm.json" "$HP"
wait_metric "$HP" rm_mcps_up -eq 3 10 || die "the three MCPs are not up"

uac_run f503 "$SP" uac_rr.xml 400 200 40 -d 20 -s 1 || true
[ "$OK" = 400 ] && [ "$FAILED" = 0 ] || die "503 failover: $OK/400 succeeded, $FAILED failed"
fo=$(metric "$HP" rm_failovers_total)
[ "${fo%.*}" -ge 150 ] || die "failovers not counted: $fo"
ok "always-503 MCP: 400/400 calls completed on the other MCP, $fo failovers counted"

# ---- kill an MCP mid-load ---------------------------------------------------------------
uac_run kill "$SP" uac_rr.xml 1200 200 60 -d 200 -s 2 &
LOAD=$!
bg_pid "$LOAD"
# mid-load: the victim has taken calls
wait_metric "$HP" "rm_mcp_attempts_total{mcp=\"sip:127.0.0.1:$M3\"}" -ge 100 20 ||
	die "the victim MCP got no calls"
kill -9 "$VICTIM"
t0=$EPOCHREALTIME
down=""
for _ in $(seq 1 40); do
	v=$(metric "$HP" "rm_mcp_up{mcp=\"sip:127.0.0.1:$M3\"}")
	if [ "${v%.*}" = 0 ]; then down=$(awk "BEGIN{printf \"%.2f\", $EPOCHREALTIME - $t0}"); break; fi
	sleep 0.1
done
[ -n "$down" ] || die "killed MCP not marked down within 4 s"
sleep 1.2 # scenario: one metrics tick (1 s) passes, so p1 holds every attempt made so far
p1=$(metric "$HP" "rm_mcp_attempts_total{mcp=\"sip:127.0.0.1:$M3\"}")
wait "$LOAD" || true
uac_stats "$T/kill.csv"
sleep 1.2 # scenario: a tick after the load; no attempt may have been added since p1
p2=$(metric "$HP" "rm_mcp_attempts_total{mcp=\"sip:127.0.0.1:$M3\"}")
[ "$p1" = "$p2" ] || die "INVITEs still sent to the dead MCP: attempts $p1 -> $p2"
[ "$((OK + FAILED))" = 1200 ] || die "load did not finish: $OK ok, $FAILED failed"
# only calls already placed on the victim may fail (at most the calls of ~1 s)
[ "$FAILED" -le 400 ] || die "$FAILED calls failed after the kill"
ok "killed MCP marked down after ${down}s; no INVITE to it afterwards (attempts stayed $p2); $OK/1200 calls ok, $FAILED lost with the MCP"
