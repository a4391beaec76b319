#!/usr/bin/env bash
# rm cluster-wide limits (issue 13): a tenant with l3 20 on two nodes. 60 long calls
# offered at once, 30 to each node: the cluster admits between 20 and the documented
# bound (README "rm cluster": l3 + the calls the other node admits within one
# replication window, publish_ms + latency; here 2), not 40 as two standalone nodes
# would. Then a peer's death: rm-b holds 15 live calls, so rm-a admits only 5 of 10;
# kill -9 rm-b, and once rm-a has declared it down its 15 calls no longer count:
# rm-a admits 20 of 20.
. "$(dirname "$0")/lib/rm_cluster.sh"

SP=$(free_port); CP=$(free_port); HA=$(free_port); HB=$(free_port)
M1=$(free_port); M2=$(free_port)
PEERS='["127.0.0.2:'$CP'", "127.0.0.3:'$CP'"]'
LRGS='[{"name":"g","members":[{"uri":"sip:127.0.0.1:'$M1'"},{"uri":"sip:127.0.0.1:'$M2'"}]}]'
EXTRA=', "profiles": [ { "name": "ivr", "tenant": "acme", "lrg": "g" } ],
  "default_profile": "ivr", "tenants": [ { "name": "acme", "limits": { "l3": 20 } } ]'
cluster_write_config "$T/a.json" rm-a 127.0.0.2 "$SP" "$HA" "$CP" "$PEERS" "$LRGS" "$EXTRA"
cluster_write_config "$T/b.json" rm-b 127.0.0.3 "$SP" "$HB" "$CP" "$PEERS" "$LRGS" "$EXTRA"
uas_start m1 "$M1" uas_rr.xml
uas_start m2 "$M2" uas_rr.xml
cluster_start a "$T/a.json" "$HA"
cluster_start b "$T/b.json" "$HB"
wait_for 5 cluster_is "$HA" rm-b up || die "rm-a does not see rm-b up"
wait_for 5 cluster_is "$HB" rm-a up || die "rm-b does not see rm-a up"
wait_metric "$HA" rm_mcps_up -eq 2 10 || die "MCPs not up on rm-a"
wait_metric "$HB" rm_mcps_up -eq 2 10 || die "MCPs not up on rm-b"

BOUND=22
cluster_uac burst_a 127.0.0.2 "$SP" uac_rr.xml 30 100 20 -d 4000 &
ua=$!
cluster_uac burst_b 127.0.0.3 "$SP" uac_rr.xml 30 100 20 -d 4000 &
ub=$!
wait $ua $ub || true
uac_stats "$T/burst_a.csv"; oka=$OK
uac_stats "$T/burst_b.csv"; okb=$OK
adm=$((oka + okb))
[ "$adm" -ge 20 ] && [ "$adm" -le $BOUND ] ||
	die "60 calls offered to a cluster with l3 20: $adm admitted ($oka on rm-a, $okb on rm-b); want 20..$BOUND"
ok "l3 20, 60 calls at once over two nodes: $adm admitted ($oka + $okb), bound $BOUND"

wait_metric "$HA" 'rm_tenant_calls_active{tenant="acme"}' -eq 0 5 || die "rm-a usage not released"
wait_metric "$HB" 'rm_tenant_calls_active{tenant="acme"}' -eq 0 5 || die "rm-b usage not released"

# rm-b holds 15 calls; rm-a must count them.
cluster_uac hold_b 127.0.0.3 "$SP" uac_rr.xml 15 100 40 -d 30000 &
bg_pid $!
wait_metric "$HB" 'rm_tenant_calls_active{tenant="acme"}' -eq 15 5 || die "rm-b did not take its 15 calls"
rusage() {
	http_get "$HA" /cluster | /usr/bin/python3 -c '
import json, sys
for p in json.load(sys.stdin)["peers"]:
    if p["node"] == "rm-b": print(p.get("usage", {}).get("tenant:acme", 0))'
}
rusage_is() { [ "$(rusage)" = "$1" ]; }
wait_for 3 rusage_is 15 || die "rm-a holds $(rusage) calls of rm-b, want 15"
cluster_uac five_a 127.0.0.2 "$SP" uac_rr.xml 10 100 20 -d 500 || true
[ "$OK" = 5 ] || die "with 15 calls on rm-b, rm-a admitted $OK of 10 (want 5)"
ok "rm-b holds 15: rm-a sees them in /cluster and admits 5 of 10"

kill -9 "$(cat "$T/b.pid")"
wait_for 3 cluster_is "$HA" rm-b down || die "rm-a does not see rm-b down"
cluster_uac after_a 127.0.0.2 "$SP" uac_rr.xml 20 100 20 -d 500 || true
[ "$OK" = 20 ] || die "after rm-b died, rm-a admitted $OK of 20: the dead peer's usage still counts"
ok "kill -9 rm-b: after dead_after_ms its 15 calls no longer count; rm-a admits 20 of 20"
