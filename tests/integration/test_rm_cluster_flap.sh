#!/usr/bin/env bash
# rm cluster, three nodes, one flapping (issue 13): rm-a, rm-b, rm-c hold 4, 6 and 8
# live calls of tenant acme. rm-c is stopped (SIGSTOP) and continued three times,
# long enough to be declared down each time (its usage dropped), and once briefly
# (not down). rm-a's view of every peer's usage, sampled all along, is never
# negative and never above the truth, and returns to exactly 6 and 8 after each
# return; rm-b's view of rm-c too; admission on rm-a still counts the 14 others.
. "$(dirname "$0")/lib/rm_cluster.sh"

SP=$(free_port); CP=$(free_port); M1=$(free_port)
declare -A H IP=([a]=127.0.0.2 [b]=127.0.0.3 [c]=127.0.0.4)
PEERS='["127.0.0.2:'$CP'", "127.0.0.3:'$CP'", "127.0.0.4:'$CP'"]'
LRGS='[{"name":"g","members":[{"uri":"sip:127.0.0.1:'$M1'","max_ports":500}]}]'
EXTRA=', "profiles": [ { "name": "ivr", "tenant": "acme", "lrg": "g" } ],
  "default_profile": "ivr", "tenants": [ { "name": "acme", "limits": { "l3": 20 } } ]'
uas_start m1 "$M1" uas_rr.xml
for n in a b c; do
	H[$n]=$(free_port)
	cluster_write_config "$T/$n.json" "rm-$n" "${IP[$n]}" "$SP" "${H[$n]}" "$CP" "$PEERS" "$LRGS" "$EXTRA"
	cluster_start "$n" "$T/$n.json" "${H[$n]}"
done
for n in a b c; do
	for p in a b c; do
		[ $n = $p ] || wait_for 5 cluster_is "${H[$n]}" "rm-$p" up || die "rm-$n does not see rm-$p up"
	done
	wait_metric "${H[$n]}" rm_mcps_up -eq 1 10 || die "MCP not up on rm-$n"
done
ok "three nodes, each sees the two others up"

declare -A HOLD=([a]=4 [b]=6 [c]=8)
for n in a b c; do
	cluster_uac "hold_$n" "${IP[$n]}" "$SP" uac_rr.xml "${HOLD[$n]}" 100 60 -d 60000 &
	bg_pid $!
done
for n in a b c; do
	wait_metric "${H[$n]}" 'rm_tenant_calls_active{tenant="acme"}' -eq "${HOLD[$n]}" 5 ||
		die "rm-$n does not hold its ${HOLD[$n]} calls"
done

# A sampler: rm-a's and rm-b's view of the others' tenant usage, every 50 ms, into
# $T/samples ("viewer peer value state"), until $T/stop exists.
/usr/bin/python3 - "${H[a]}" "${H[b]}" "$T" <<'EOF_PY' &
import json, os, sys, time, urllib.request
ha, hb, t = sys.argv[1], sys.argv[2], sys.argv[3]
with open(t + "/samples", "w") as out:
    while not os.path.exists(t + "/stop"):
        for who, port in (("rm-a", ha), ("rm-b", hb)):
            try:
                d = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/cluster", timeout=2))
            except Exception:
                continue
            for p in d["peers"]:
                out.write("%s %s %d %s\n" % (who, p["node"], p.get("usage", {}).get("tenant:acme", 0), p["state"]))
        out.flush()
        time.sleep(0.05)
EOF_PY
SAMPLER=$!
bg_pid $SAMPLER
view() { # view HTTP_PORT NODE: that node's tenant usage as seen there
	http_get "$1" /cluster | /usr/bin/python3 -c '
import json, sys
for p in json.load(sys.stdin)["peers"]:
    if p["node"] == sys.argv[1]: print(p.get("usage", {}).get("tenant:acme", 0))' "$2"
}
view_is() { [ "$(view "$1" "$2")" = "$3" ]; }
wait_for 3 view_is "${H[a]}" rm-c 8 || die "rm-a sees $(view "${H[a]}" rm-c) calls on rm-c, want 8"

CPID=$(cat "$T/c.pid")
for round in 1 2 3; do
	kill -STOP "$CPID"
	wait_for 3 cluster_is "${H[a]}" rm-c down || { kill -CONT "$CPID"; die "round $round: rm-c not down on rm-a"; }
	[ "$(view "${H[a]}" rm-c)" = 0 ] || { kill -CONT "$CPID"; die "round $round: rm-c down but its usage still counted"; }
	kill -CONT "$CPID"
	wait_for 5 cluster_is "${H[a]}" rm-c up || die "round $round: rm-c not up again on rm-a"
	wait_for 3 view_is "${H[a]}" rm-c 8 || die "round $round: rm-a sees $(view "${H[a]}" rm-c) on rm-c after its return, want 8"
	wait_for 3 view_is "${H[b]}" rm-c 8 || die "round $round: rm-b sees $(view "${H[b]}" rm-c) on rm-c, want 8"
done
# a short stop (under dead_after_ms): not down, nothing dropped
kill -STOP "$CPID"; sleep 0.3; kill -CONT "$CPID"
deaths=$(mval "${H[a]}" rm_cluster_peer_deaths_total)
[ "$deaths" = 3 ] || die "rm-a counted $deaths deaths, want 3 (the short stop is not one)"
touch "$T/stop"; wait "$SAMPLER" 2>/dev/null || true
bad=$(awk '($3 < 0) || ($2 == "rm-a" && $3 > 4) || ($2 == "rm-b" && $3 > 6) || ($2 == "rm-c" && $3 > 8)' "$T/samples" | head -3)
[ -z "$bad" ] || die "a view out of range: $bad"
n=$(wc -l <"$T/samples")
ok "rm-c flapped 3 times (down, usage dropped, up, 8 again) and once briefly: $n samples, none negative or above the truth"

[ "$(view "${H[a]}" rm-b)" = 6 ] && [ "$(view "${H[a]}" rm-c)" = 8 ] || die "rm-a's final view is not 6 + 8"
cluster_uac more_a 127.0.0.2 "$SP" uac_rr.xml 10 100 20 -d 500 || true
[ "$OK" = 2 ] || die "rm-a admitted $OK more with 18 live in the cluster and l3 20 (want 2)"
ok "after the flaps rm-a counts the true 6 + 8 and admits 2 of 10 more (l3 20)"
