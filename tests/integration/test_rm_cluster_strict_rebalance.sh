#!/usr/bin/env bash
# rm cluster, strict shares on membership change (issue 13): three nodes, strict,
# tenant l3 30: a share of 10 each (60 units of 180).
#  1. rm-c stopped with SIGTERM: it stops admitting, then hands its 60 units to the
#     two nodes up (30 each): their shares grow to 15, covering the limit (15 + 15);
#     rm-a, offered 30 calls, admits 15.
#  2. rm-c restarted: it starts with no units; rm-a and rm-b give its units back
#     (shrink to 60) and say so; then rm-c takes its own 60.
#  3. rm-c killed (-9), a death that a partition looks like: nobody's share grows;
#     rm-a, offered 30 calls, admits 10.
#  4. rm-c SIGTERMed again and restarted while rm-a (holding half its units) is
#     stopped: it takes only the half rm-b gave back (rm-b says rm-a holds the rest),
#     and the other half once rm-a continues and gives it back.
. "$(dirname "$0")/lib/rm_cluster.sh"

SP=$(free_port); CP=$(free_port); M1=$(free_port)
declare -A H IP=([a]=127.0.0.2 [b]=127.0.0.3 [c]=127.0.0.4)
PEERS='["127.0.0.2:'$CP'", "127.0.0.3:'$CP'", "127.0.0.4:'$CP'"]'
LRGS='[{"name":"g","members":[{"uri":"sip:127.0.0.1:'$M1'","max_ports":500}]}]'
EXTRA=', "profiles": [ { "name": "ivr", "tenant": "acme", "lrg": "g" } ],
  "default_profile": "ivr", "tenants": [ { "name": "acme", "limits": { "l3": 30 } } ]'
uas_start m1 "$M1" uas_rr.xml
for n in a b c; do
	H[$n]=$(free_port)
	cluster_write_config "$T/$n.json" "rm-$n" "${IP[$n]}" "$SP" "${H[$n]}" "$CP" "$PEERS" "$LRGS" "$EXTRA"
	sed -i 's/"key": /"limits": "strict", "nodes": 3, "key": /' "$T/$n.json"
	cluster_start "$n" "$T/$n.json" "${H[$n]}"
done
all_up() {
	for n in a b c; do
		for p in a b c; do
			[ $n = $p ] || cluster_is "${H[$n]}" "rm-$p" up || return 1
		done
	done
}
wait_for 8 all_up || die "the three nodes do not see each other up"
for n in a b c; do wait_metric "${H[$n]}" rm_mcps_up -eq 1 10 || die "MCP not up on rm-$n"; done

# units HTTP_PORT: that node's share units (/cluster share_units)
units() {
	http_get "$1" /cluster | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin).get("share_units", -1))'
}
units_is() { [ "$(units "$1")" = "$2" ]; }
for n in a b c; do units_is "${H[$n]}" 60 || die "rm-$n holds $(units "${H[$n]}") units at start, want 60"; done
ok "three nodes, strict, l3 30: 60 units (a share of 10) each"

# offer NODE CALLS: CALLS calls held 1 s offered to rm-NODE at once; admitted in OK,
# then wait for their release.
offer() {
	cluster_uac "offer_$1_$2_$RANDOM" "${IP[$1]}" "$SP" uac_rr.xml "$2" 200 20 -d 1000 -recv_timeout 2s || true
	wait_metric "${H[$1]}" 'rm_tenant_calls_active{tenant="acme"}' -eq 0 6 || die "rm-$1 usage not released"
}

# 1. SIGTERM rm-c
kill -TERM "$(cat "$T/c.pid")"
wait_for 5 units_is "${H[a]}" 90 || die "rm-a's units after rm-c's SIGTERM: $(units "${H[a]}"), want 90"
wait_for 5 units_is "${H[b]}" 90 || die "rm-b's units after rm-c's SIGTERM: $(units "${H[b]}"), want 90"
grep -q "leaving: this node's share (60 units) handed to 2 peer(s)" "$T/c.log" ||
	die "rm-c does not say it handed its share: $(grep cluster "$T/c.log" | tail -n 3)"
offer a 30
[ "$OK" = 15 ] || die "rm-a with 90 units (share 15 of l3 30) admitted $OK of 30"
ok "rm-c SIGTERMed: rm-a and rm-b 90 units each (shares 15 + 15 = l3); rm-a admits $OK of 30"

# 2. rm-c back
cluster_start c "$T/c.json" "${H[c]}"
wait_for 8 all_up || die "restarted rm-c not up everywhere"
wait_for 5 units_is "${H[a]}" 60 || die "rm-a did not give rm-c's units back: $(units "${H[a]}")"
wait_for 5 units_is "${H[b]}" 60 || die "rm-b did not give rm-c's units back: $(units "${H[b]}")"
wait_for 3 units_is "${H[c]}" 60 || die "restarted rm-c holds $(units "${H[c]}") units"
# rm-c took its own units only once rm-a and rm-b had given theirs back and said so
stamp() { date -d "$(grep "$2" "$T/$1.log" | tail -n 1 | cut -d' ' -f1)" +%s%3N; }
grep "strict share taken" "$T/c.log" | tail -n 1 | grep -q "(60 units of 180): no peer holds it$" ||
	die "rm-c did not wait for its peers' word: $(grep 'strict share' "$T/c.log")"
t_c=$(stamp c "strict share taken (60 units of 180)")
for n in a b; do
	t_n=$(stamp "$n" "peer rm-c is back: the 30 share units")
	[ "$t_c" -ge "$t_n" ] || die "rm-c took its share before rm-$n gave it back"
done
ok "rm-c restarted: rm-a and rm-b gave its units back, then rm-c took them: 60 units each again"

# 3. kill -9 rm-c: a death (or a partition): no share grows.
kill -9 "$(cat "$T/c.pid")"
wait_for 3 cluster_is "${H[a]}" rm-c down || die "rm-a does not see rm-c down"
wait_for 3 cluster_is "${H[b]}" rm-c down || die "rm-b does not see rm-c down"
units_is "${H[a]}" 60 && units_is "${H[b]}" 60 || die "a share grew on rm-c's death: $(units "${H[a]}") / $(units "${H[b]}")"
offer a 30
[ "$OK" = 10 ] || die "rm-a with 60 units (share 10) admitted $OK of 30 after rm-c's death"
units_is "${H[a]}" 60 || die "rm-a's units moved after rm-c's death"
ok "rm-c killed: shares unchanged (60 units each); rm-a admits $OK of 30"

# 4. rm-c back, then SIGTERMed again (rm-a and rm-b hold 30 of its units each), and
#    restarted while rm-a is stopped (a partition from the node holding half its
#    share): rm-b gives its 30 back and says rm-a holds the other 30; rm-c takes only
#    its 30 (share 5) until rm-a, continued, gives them back too.
cluster_start c "$T/c.json" "${H[c]}"
wait_for 8 all_up || die "rm-c not up everywhere after its kill"
wait_for 5 units_is "${H[c]}" 60 || die "rm-c holds $(units "${H[c]}") units after its kill and restart"
kill -TERM "$(cat "$T/c.pid")"
wait_for 5 units_is "${H[a]}" 90 || die "rm-a's units after rm-c's second SIGTERM: $(units "${H[a]}")"
wait_for 5 units_is "${H[b]}" 90 || die "rm-b's units after rm-c's second SIGTERM: $(units "${H[b]}")"
wait_gone "$(cat "$T/c.pid")" 5 || die "rm-c did not exit"
kill -STOP "$(cat "$T/a.pid")"
cluster_start c "$T/c.json" "${H[c]}"
wait_for 5 units_is "${H[b]}" 60 || die "rm-b did not give rm-c's units back: $(units "${H[b]}")"
wait_for 5 units_is "${H[c]}" 30 || die "rm-c restarted while rm-a is stopped holds $(units "${H[c]}") units, want 30"
offer c 30
[ "$OK" = 5 ] || die "rm-c with 30 units (share 5) admitted $OK of 30 while rm-a holds the rest"
units_is "${H[c]}" 30 || die "rm-c's units moved while rm-a is stopped: $(units "${H[c]}")"
kill -CONT "$(cat "$T/a.pid")"
wait_for 8 units_is "${H[c]}" 60 || die "rm-c holds $(units "${H[c]}") units after rm-a continued, want 60"
wait_for 5 units_is "${H[a]}" 60 || die "rm-a did not give rm-c's units back: $(units "${H[a]}")"
offer c 30
[ "$OK" = 10 ] || die "rm-c with 60 units admitted $OK of 30"
ok "rm-c restarted while rm-a (holding 30 of its units) was stopped: it took 30 (admitted 5), the other 30 when rm-a gave them back (admits 10)"
