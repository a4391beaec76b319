#!/usr/bin/env bash
# Dead dialogs end (issue 10): with session.keepalive_s 1 rm sends OPTIONS inside
# each answered dialog to both sides.
#   1. a healthy call (both sides answer OPTIONS: sipp -aa) of 3.5 s outlives three
#      rounds and ends normally (ended_by caller), with keepalives sent;
#   2. a caller that vanishes after the ACK (etc/sipp/uac_vanish.xml: sipp exits, its
#      port closes): within 5 s the MCP gets rm's BYE (its scenario completes), the
#      call ends as rm_calls_ended_total{ended_by="rm-keepalive"} and the MCP's port
#      is released (rm_mcp_active 0, rm_calls_active 0).
. "$(dirname "$0")/test_rm_cli.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port)
rm_write_config "$T/rm.json" "$SP" "$HP" \
	"[{\"name\":\"g\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\"}]}]" \
	"$(rm_default_profile g), \"session\": {\"keepalive_s\": 1}"
uas_start mcp "$M1" uas_rr.xml u1
rm_start "$T/rm.json" "$HP"
for _ in $(seq 50); do [ "$(metric "$HP" rm_mcps_up)" = 1 ] && break; sleep 0.1; done
[ "$(metric "$HP" rm_mcps_up)" = 1 ] || die "the MCP never came up"

ended() { local v; v=$(metric "$HP" "rm_calls_ended_total{ended_by=\"$1\"}"); echo "${v%.*}"; }

# 1. healthy call
uac_run healthy "$SP" uac_rr.xml 1 1 15 -d 3500 -aa || true
[ "$OK" = 1 ] || die "a healthy 3.5 s call did not complete with keepalive_s 1 ($OK/1)"
sent=$(metric "$HP" rm_keepalive_sent_total)
[ "${sent%.*}" -ge 4 ] || die "rm sent $sent keepalive OPTIONS during a 3.5 s call"
[ "$(ended rm-keepalive)" = 0 ] || die "keepalive ended a healthy call"
[ "$(ended caller)" = 1 ] || die "the healthy call did not end by the caller's BYE"
ok "a healthy 3.5 s call survived $sent keepalive OPTIONS and ended by the caller's BYE"

# 2. vanishing caller
t0=$(date +%s%N)
uac_run vanish "$SP" uac_vanish.xml 1 1 10 || true
[ "$OK" = 1 ] || die "the vanishing caller's call was not set up ($OK/1)"
for _ in $(seq 50); do [ "$(ended rm-keepalive)" = 1 ] && break; sleep 0.1; done
t1=$(date +%s%N)
[ "$(ended rm-keepalive)" = 1 ] || die "the vanished caller's call did not end by keepalive within 5 s"
ok "vanished caller: call ended by rm-keepalive $(((t1 - t0) / 1000000))ms after it was set up"
[ "$(metric "$HP" "rm_mcp_active{mcp=\"sip:127.0.0.1:$M1\"}")" = 0 ] ||
	die "the MCP's port is still held: rm_mcp_active=$(metric "$HP" "rm_mcp_active{mcp=\"sip:127.0.0.1:$M1\"}")"
[ "$(metric "$HP" rm_calls_active)" = 0 ] || die "rm_calls_active is not 0"
byes=$(metric "$HP" 'rm_byes_sent_total{to="mcp"}')
[ "${byes%.*}" -ge 1 ] || die "rm sent no BYE to the MCP"
# the MCP's scenario (INVITE, ACK, BYE) completes: 2 successful calls in its stats
for _ in $(seq 30); do uac_stats "$T/mcp.csv"; [ "$OK" = 2 ] && break; sleep 0.2; done
[ "$OK" = 2 ] || die "the MCP completed $OK of 2 calls: it did not get the BYE"
ok "the MCP got rm's BYE; its port is released (rm_mcp_active 0)"
