#!/usr/bin/env bash
# rm cluster, limits "strict" (issue 13): l3 20 on two nodes ("nodes": 2) gives each a
# share of 10. 60 calls offered at once, 30 to each: at most 20 admitted. Then a
# partition: rm-b is SIGSTOPped while it holds 10 calls; rm-a declares it down and
# drops its usage, yet admits no more than its own share of 10 (20 live in all).
. "$(dirname "$0")/lib/rm_cluster.sh"

SP=$(free_port); CP=$(free_port); HA=$(free_port); HB=$(free_port)
M1=$(free_port); M2=$(free_port)
PEERS='["127.0.0.2:'$CP'", "127.0.0.3:'$CP'"]'
LRGS='[{"name":"g","members":[{"uri":"sip:127.0.0.1:'$M1'"},{"uri":"sip:127.0.0.1:'$M2'"}]}]'
EXTRA=', "profiles": [ { "name": "ivr", "tenant": "acme", "lrg": "g" } ],
  "default_profile": "ivr", "tenants": [ { "name": "acme", "limits": { "l3": 20 } } ]'
for n in a:2 b:3; do
	cluster_write_config "$T/${n%%:*}.json" "rm-${n%%:*}" "127.0.0.${n#*:}" "$SP" \
		"$([ "${n%%:*}" = a ] && echo "$HA" || echo "$HB")" "$CP" "$PEERS" "$LRGS" "$EXTRA"
	sed -i 's/"key": /"limits": "strict", "nodes": 2, "key": /' "$T/${n%%:*}.json"
done
uas_start m1 "$M1" uas_rr.xml
uas_start m2 "$M2" uas_rr.xml
cluster_start a "$T/a.json" "$HA"
cluster_start b "$T/b.json" "$HB"
wait_for 5 cluster_is "$HA" rm-b up || die "rm-a does not see rm-b up"
wait_for 5 cluster_is "$HB" rm-a up || die "rm-b does not see rm-a up"
wait_metric "$HA" rm_mcps_up -eq 2 10 || die "MCPs not up on rm-a"
wait_metric "$HB" rm_mcps_up -eq 2 10 || die "MCPs not up on rm-b"

cluster_uac burst_a 127.0.0.2 "$SP" uac_rr.xml 30 200 20 -d 3000 &
ua=$!
cluster_uac burst_b 127.0.0.3 "$SP" uac_rr.xml 30 200 20 -d 3000 &
ub=$!
wait $ua $ub || true
uac_stats "$T/burst_a.csv"; oka=$OK
uac_stats "$T/burst_b.csv"; okb=$OK
[ $((oka + okb)) -le 20 ] && [ "$oka" -le 10 ] && [ "$okb" -le 10 ] ||
	die "strict l3 20: $oka + $okb admitted (want <= 10 each)"
ok "strict, l3 20, 60 calls at once over two nodes: $oka + $okb admitted (<= 20)"
wait_metric "$HA" 'rm_tenant_calls_active{tenant="acme"}' -eq 0 5 || die "rm-a usage not released"
wait_metric "$HB" 'rm_tenant_calls_active{tenant="acme"}' -eq 0 5 || die "rm-b usage not released"

cluster_uac hold_b 127.0.0.3 "$SP" uac_rr.xml 10 100 40 -d 30000 &
bg_pid $!
wait_metric "$HB" 'rm_tenant_calls_active{tenant="acme"}' -eq 10 5 || die "rm-b did not take 10 calls"
kill -STOP "$(cat "$T/b.pid")"
wait_for 3 cluster_is "$HA" rm-b down || die "rm-a does not see the stopped rm-b down"
cluster_uac part_a 127.0.0.2 "$SP" uac_rr.xml 20 100 20 -d 500 || true
kill -CONT "$(cat "$T/b.pid")"
[ "$OK" -le 10 ] || die "partitioned rm-a admitted $OK (its share is 10; rm-b holds 10)"
ok "rm-b stopped holding 10: rm-a, seeing it down, admits $OK (<= its share 10)"
wait_for 5 cluster_is "$HA" rm-b up || die "rm-b not up again after SIGCONT"
ok "rm-b continued: up again on rm-a (resynced)"
