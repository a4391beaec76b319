# Billing helpers (rm publishing to rs) for the test_billing_*.sh tests:
# billing_rm_config, rm_start_billing, rm_up_publishing; with everything of rm.sh and
# rs.sh. Source it: . "$(dirname "$0")/lib/billing.sh".
[ -z "${_LIB_BILLING:-}" ] || return 0
_LIB_BILLING=1
. "$(dirname "${BASH_SOURCE[0]}")/rm.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rs.sh"

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

# rm_start_billing CONFIG HTTP_PORT: like rm_start, but waits for /readyz too.
rm_start_billing() {
	rm_start "$1" "$2"
	wait_for 5 http_get "$2" /readyz || die "rm not ready"
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
