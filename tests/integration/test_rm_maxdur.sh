#!/usr/bin/env bash
# rm ends calls itself and tells both sides with a BYE (RFC 3261 15.1.1):
#  - session.max_duration_s 2: 20 calls that would last for ever are ended by rm
#    after 2-3 s; the caller sipp and the MCP sipp each receive rm's BYE, check it
#    field by field (etc/sipp/uac_rr_bye_in.xml, uas_rr_bye_in.xml: Request-URI =
#    their Contact, tags for the direction, CSeq, the Route set of their side only,
#    Max-Forwards 70, rm's Via only), answer 200 and count every call successful;
#    /metrics: 20 calls ended_by rm-timeout, 20 BYEs to each side, none live;
#    then 10 more with caller and MCP on TCP;
#  - SIGTERM with session.drain_timeout_s 1, 10 such calls answered and 5 ringing
#    (an MCP that never answers, etc/sipp/uas_noanswer.xml): the 10 get the same
#    BYEs, the 5 ringing ones a CANCEL toward the MCP (which ends its INVITE with
#    487) and 503 toward the caller; rm exits 0 within a few seconds;
#  - the same with a silent MCP (SIGSTOP): rm waits for its BYE answers only for
#    the 2 s grace, then drops them and exits 0 (and clean under ASan).
. "$(dirname "$0")/lib/rm.sh"

# mval HTTP_PORT NAME: a metric as an integer (0 if absent).
mval() {
	local v
	v=$(metric "$1" "$2" 2>/dev/null || true)
	printf '%.0f\n' "${v:-0}"
}

# uas_ok NAME WANT SECONDS: wait until the sipp MCP NAME counts WANT successful calls
# (its -stf file, written every second); FAILED is set from the same row.
uas_ok() {
	local i
	for i in $(seq $(($3 * 5))); do
		uac_stats "$T/$1.csv"
		[ "$OK" -ge "$2" ] && return 0
		sleep 0.2
	done
	return 1
}

SP=$(free_port); HP=$(free_port); MA=$(free_port); MN=$(free_port); MT=$(free_port)
cfg() { # cfg MAX_DURATION_S
	rm_write_config "$T/rm.json" "$SP" "$HP" "[
  {\"name\":\"answer\",\"members\":[{\"uri\":\"sip:127.0.0.1:$MA\"}]},
  {\"name\":\"ring\",\"members\":[{\"uri\":\"sip:127.0.0.1:$MN\"}]},
  {\"name\":\"tcp\",\"members\":[{\"uri\":\"sip:127.0.0.1:$MT;transport=tcp\"}]}]" \
	", \"profiles\": [
  {\"name\":\"answer\",\"tenant\":\"t\",\"lrg\":\"answer\"},
  {\"name\":\"ring\",\"tenant\":\"t\",\"lrg\":\"ring\"},
  {\"name\":\"tcp\",\"tenant\":\"t\",\"lrg\":\"tcp\"}],
  \"dnis\": {\"1000\": \"answer\", \"2000\": \"ring\", \"3000\": \"tcp\"}, \"default_profile\": \"answer\",
  \"session\": {\"max_duration_s\": $1, \"drain_timeout_s\": 1}"
}
cfg 2
uas_start mcp "$MA" uas_rr_bye_in.xml u1
uas_start ring "$MN" uas_noanswer.xml u1
uas_start mcp_tcp "$MT" uas_rr_bye_in.xml t1
rm_start "$T/rm.json" "$HP"
for _ in $(seq 50); do [ "$(mval "$HP" rm_mcps_up)" = 3 ] && break; sleep 0.2; done
[ "$(mval "$HP" rm_mcps_up)" = 3 ] || die "the three MCPs are not up"

# ---- max duration ------------------------------------------------------------------
t0=$EPOCHREALTIME
uac_run maxdur "$SP" uac_rr_bye_in.xml 20 20 30 -s 1000 || true
el=$(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}")
[ "$OK" = 20 ] && [ "$FAILED" = 0 ] ||
	die "max duration: the caller completed $OK of 20 calls (with rm's BYE), $FAILED failed"
# 20 calls started over ~1 s, each ended 2-3 s after its start (1 s expiry tick)
awk "BEGIN{exit !($el >= 2 && $el < 8)}" || die "max duration: 20 calls took ${el}s"
uas_ok mcp 20 10 || die "max duration: the MCP completed $OK of 20 calls (with rm's BYE)"
[ "$FAILED" = 0 ] || die "max duration: $FAILED calls failed on the MCP"
ok "max_duration_s 2: caller and MCP each got rm's BYE and answered 200 (20/20 calls, ${el}s)"

e=$(mval "$HP" 'rm_calls_ended_total{ended_by="rm-timeout"}')
bc=$(mval "$HP" 'rm_byes_sent_total{to="caller"}')
bm=$(mval "$HP" 'rm_byes_sent_total{to="mcp"}')
a=$(mval "$HP" 'rm_calls_total{disposition="answered"}')
live=$(mval "$HP" rm_calls_active)
[ "$e" = 20 ] && [ "$bc" = 20 ] && [ "$bm" = 20 ] && [ "$a" = 20 ] && [ "$live" = 0 ] ||
	die "metrics: ended_by rm-timeout $e, BYEs caller $bc mcp $bm, answered $a, live $live (want 20 20 20 20 0)"
ok "/metrics: 20 calls ended_by=rm-timeout (disposition answered), 20 BYEs to each side, 0 live"

uac_run maxdur_tcp "$SP" uac_rr_bye_in.xml 10 20 30 -s 3000 -t t1 || true
[ "$OK" = 10 ] && [ "$FAILED" = 0 ] ||
	die "max duration, TCP: the caller completed $OK of 10 calls (with rm's BYE), $FAILED failed"
uas_ok mcp_tcp 10 10 || die "max duration, TCP: the MCP completed $OK of 10 calls"
[ "$FAILED" = 0 ] || die "max duration, TCP: $FAILED calls failed on the MCP"
[ "$(mval "$HP" 'rm_calls_ended_total{ended_by="rm-timeout"}')" = 30 ] ||
	die "max duration, TCP: not counted as rm-timeout"
ok "max_duration_s 2 over TCP: caller and MCP each got rm's BYE and answered 200 (10/10)"

# ---- drain timeout -------------------------------------------------------------------
cfg 0
rm_reload
uac_run drain "$SP" uac_rr_bye_in.xml 10 50 30 -s 1000 &
DA=$!; bg_pid "$DA"
uac_run ringing "$SP" uac_rr.xml 5 50 30 -s 2000 &
DR=$!; bg_pid "$DR"
for _ in $(seq 50); do [ "$(mval "$HP" rm_calls_active)" = 15 ] && break; sleep 0.2; done
[ "$(mval "$HP" rm_calls_active)" = 15 ] || die "drain: 15 calls not live"
t0=$EPOCHREALTIME
kill -TERM "$RM_PID"
rc=0; wait "$RM_PID" || rc=$?
el=$(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}")
[ "$rc" = 0 ] || die "rm exited $rc after the drain"
awk "BEGIN{exit !($el >= 1 && $el < 5)}" || die "drain: rm took ${el}s to exit"
wait "$DA" || true
uac_stats "$T/drain.csv"
[ "$OK" = 10 ] && [ "$FAILED" = 0 ] ||
	die "drain: the caller completed $OK of 10 answered calls (with rm's BYE), $FAILED failed"
uas_ok mcp 30 10 || die "drain: the MCP completed $OK of 30 calls (with rm's BYE)"
[ "$FAILED" = 0 ] || die "drain: $FAILED calls failed on the MCP"
ok "drain timeout: 10 answered calls got rm's BYE on both sides, rm exited 0 after ${el}s"

wait "$DR" || true
n503=$(grep -o "Call-Id '[^']*'.*received 'SIP/2.0 503" "$T/ringing.err" | cut -d"'" -f2 |
	sort -u | wc -l)
[ "$n503" = 5 ] || die "drain: $n503 of 5 ringing callers got 503"
uas_ok ring 5 10 || die "drain: the ringing MCP completed $OK of 5 CANCEL dialogs"
[ "$FAILED" = 0 ] || die "drain: $FAILED CANCEL dialogs failed on the ringing MCP"
ok "drain timeout: 5 ringing calls: CANCEL to the MCP (487, ACKed), 503 to the caller"
n=$(grep -c "with BYE to both sides" "$T/rm.log" || true)
[ "$n" = 40 ] || die "rm logged $n calls ended with BYEs, want 40"
! grep -q "Sanitizer" "$T/rm.log" || die "sanitizer report in rm.log"

# ---- drain timeout, silent MCP ---------------------------------------------------------
kill "$UAS_PID" 2>/dev/null || true # mcp_tcp, not needed any more
MS=$(free_port)
uas_start silent "$MS" uas_rr_bye_in.xml u1
SILENT=$UAS_PID
rm_write_config "$T/rm.json" "$SP" "$HP" "[
  {\"name\":\"s\",\"members\":[{\"uri\":\"sip:127.0.0.1:$MS\"}]}]" \
	"$(rm_default_profile s), \"session\": {\"drain_timeout_s\": 1}"
rm_start "$T/rm.json" "$HP"
for _ in $(seq 50); do [ "$(mval "$HP" rm_mcps_up)" = 1 ] && break; sleep 0.2; done
uac_run silent_caller "$SP" uac_rr_bye_in.xml 5 50 30 -s 1000 &
DS=$!; bg_pid "$DS"
for _ in $(seq 50); do [ "$(mval "$HP" rm_calls_active)" = 5 ] && break; sleep 0.2; done
[ "$(mval "$HP" rm_calls_active)" = 5 ] || die "silent MCP: 5 calls not live"
kill -STOP "$SILENT"
t0=$EPOCHREALTIME
kill -TERM "$RM_PID"
rc=0; wait "$RM_PID" || rc=$?
el=$(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}")
kill -CONT "$SILENT"
[ "$rc" = 0 ] || die "silent MCP: rm exited $rc after the drain"
awk "BEGIN{exit !($el >= 2.9 && $el < 5)}" || die "silent MCP: rm took ${el}s to exit (want 1 s + 2 s grace)"
wait "$DS" || true
uac_stats "$T/silent_caller.csv"
[ "$OK" = 5 ] && [ "$FAILED" = 0 ] || die "silent MCP: the caller completed $OK of 5 calls"
! grep -q "Sanitizer" "$T/rm.log" || die "sanitizer report in rm.log"
ok "drain timeout with a silent MCP: callers got their BYE, rm exited 0 after ${el}s (1 s + 2 s grace)"
