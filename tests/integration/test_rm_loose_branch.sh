#!/usr/bin/env bash
# rm's stateless paths over UDP (issue 12: no transaction held for timers D, I, J, K):
#  - a 2xx retransmitted by the MCP after the ACK (rm let its INVITE client transaction
#    go at the 180 and its server transaction at the 200) reaches the caller, also
#    after the call's BYE;
#  - a stray response from an untrusted source (127.0.0.5) is dropped and counted, one
#    from the MCP with a branch rm did not make is dropped;
#  - a BYE and its retransmission go to the MCP with the same keyed branch, the MCP's
#    200 comes back;
#  - CANCEL of a ringing (loose) branch: CANCEL and the 487's ACK carry the INVITE's
#    branch, the caller gets 200 + 487; a retransmitted 487 is ACKed again.
# The caller and the MCP are tests/integration/lib/loose_peer.py (one UDP socket each).
. "$(dirname "$0")/lib/rm.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port)
rm_write_config "$T/rm.json" "$SP" "$HP" "[
  {\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\"}]}]" \
	"$(rm_default_profile ivr), \"failover\": {\"max_attempts\": 1, \"attempt_timeout_ms\": 2000}"
"$RM_BIN" --check-config "$T/rm.json" >/dev/null || die "config refused: $(cat "$T/rm.json")"
rm_start "$T/rm.json" "$HP"
rc=0
timeout 25 /usr/bin/python3 "$HELPERS/loose_peer.py" "$SP" "$M1" "$HP" >"$T/peer.out" 2>&1 || rc=$?
cat "$T/peer.out"
[ "$rc" = 0 ] || die "loose_peer.py exited $rc (rm log: $(grep -v DEBUG "$T/rm.log" | tail -5))"
ok "stateless 2xx relay, stray responses, stateless BYE and loose CANCEL"
