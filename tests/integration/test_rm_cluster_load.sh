#!/usr/bin/env bash
# rm cluster, no false death under load (issue 13): two nodes each carry a stream of
# short calls (sipp SIP Server -> node -> sipp MCP, RATE calls/s each, ~8 s) while a
# sampler reads both /cluster pages every 50 ms. While both are alive neither may
# declare the other down (rm_cluster_peer_deaths_total 0, no "peer ... down" line),
# and the heartbeat age each sees of the other stays below dead_after_ms (850): a
# node sending deltas and session lines every tick sends no heartbeat frame, so the
# receiver must count any valid frame as a sign of life. Then kill -9 of rm-b under
# rm-a's load is still seen within 1 s.
. "$(dirname "$0")/lib/rm_cluster.sh"

RATE=${RATE:-150}; SECS=${SECS:-8}
SP=$(free_port); CP=$(free_port); HA=$(free_port); HB=$(free_port); M1=$(free_port)
PEERS='["127.0.0.2:'$CP'", "127.0.0.3:'$CP'"]'
LRGS='[{"name":"g","members":[{"uri":"sip:127.0.0.1:'$M1'","max_ports":100000}]}]'
EXTRA=', "profiles": [ { "name": "ivr", "tenant": "acme", "lrg": "g" } ],
  "default_profile": "ivr", "tenants": [ { "name": "acme", "limits": { "l3": 100000 } } ]'
RM_LOG_LEVEL=warn cluster_write_config "$T/a.json" rm-a 127.0.0.2 "$SP" "$HA" "$CP" "$PEERS" "$LRGS" "$EXTRA"
RM_LOG_LEVEL=warn cluster_write_config "$T/b.json" rm-b 127.0.0.3 "$SP" "$HB" "$CP" "$PEERS" "$LRGS" "$EXTRA"
uas_start m1 "$M1" uas_rr.xml
cluster_start a "$T/a.json" "$HA"
cluster_start b "$T/b.json" "$HB"
wait_for 5 cluster_is "$HA" rm-b up || die "rm-a does not see rm-b up: $(http_get "$HA" /cluster)"
wait_for 5 cluster_is "$HB" rm-a up || die "rm-b does not see rm-a up: $(http_get "$HB" /cluster)"
wait_metric "$HA" rm_mcps_up -eq 1 10 || die "MCP not up on rm-a"
wait_metric "$HB" rm_mcps_up -eq 1 10 || die "MCP not up on rm-b"

# Sampler: "viewer age state" of the other node, every 50 ms, until $T/stop exists.
/usr/bin/python3 - "$HA" "$HB" "$T" <<'EOF_PY' &
import json, os, sys, time, urllib.request
ha, hb, t = sys.argv[1], sys.argv[2], sys.argv[3]
with open(t + "/samples", "w") as out:
    while not os.path.exists(t + "/stop"):
        for who, port, other in (("rm-a", ha, "rm-b"), ("rm-b", hb, "rm-a")):
            try:
                d = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/cluster", timeout=2))
            except Exception:
                continue
            for p in d["peers"]:
                if p["node"] == other:
                    out.write("%s %d %s\n" % (who, p["last_heartbeat_age_ms"], p["state"]))
        out.flush()
        time.sleep(0.05)
EOF_PY
bg_pid $!

calls=$((RATE * SECS))
sent0=$(mval "$HA" rm_cluster_frames_sent_total)
cluster_uac load_a 127.0.0.2 "$SP" uac_rr.xml "$calls" "$RATE" $((SECS + 20)) &
UA=$!; bg_pid $UA
cluster_uac load_b 127.0.0.3 "$SP" uac_rr.xml "$calls" "$RATE" $((SECS + 20)) &
UB=$!; bg_pid $UB
wait "$UA" || true
wait "$UB" || true
touch "$T/stop"
uac_stats "$T/load_a.csv"; okA=$OK
uac_stats "$T/load_b.csv"; okB=$OK
[ "$okA" -ge $((calls * 9 / 10)) ] && [ "$okB" -ge $((calls * 9 / 10)) ] ||
	die "the load did not go through: rm-a $okA, rm-b $okB of $calls each"
sent1=$(mval "$HA" rm_cluster_frames_sent_total)
read -r n maxa maxb bad < <(awk '
	{ n++; if ($1 == "rm-a" && $2 > ma) ma = $2; if ($1 == "rm-b" && $2 > mb) mb = $2
	  if ($3 != "up") bad++ }
	END { print n + 0, ma + 0, mb + 0, bad + 0 }' "$T/samples")
echo "load: $okA + $okB calls at $RATE/s each, rm-a sent $((sent1 - sent0)) frames;" \
	"$n samples, worst heartbeat age seen by rm-a $maxa ms, by rm-b $maxb ms"
[ "$n" -ge 20 ] || die "the sampler got only $n samples"
for h in "$HA" "$HB"; do
	d=$(mval "$h" rm_cluster_peer_deaths_total)
	[ "$d" = 0 ] || die "a false death under load: rm_cluster_peer_deaths_total $d on port $h:" \
		"$(grep -h 'down' "$T/a.log" "$T/b.log" | head -n 4)"
done
grep -q "peer rm-[ab] down" "$T/a.log" "$T/b.log" && die "a peer declared down under load"
[ "$bad" = 0 ] || die "$bad samples saw the peer not up: $(grep -v ' up$' "$T/samples" | head -n 3)"
[ "$maxa" -lt 850 ] && [ "$maxb" -lt 850 ] || die "heartbeat age reached dead_after_ms: $maxa / $maxb"
ok "2 x $RATE calls/s for ${SECS} s: no peer down, worst heartbeat age $maxa / $maxb ms (dead after 850)"

# rm-b itself stalls (SIGSTOP until rm-a calls it down: a CPU-starved or stuck loop) under load: rm-a
# rightly sees it down; rm-b, continued, finds rm-a's frames of that time waiting in
# its socket and must not blame rm-a for its own stall.
cluster_uac load_a1 127.0.0.2 "$SP" uac_rr.xml $((RATE * 4)) "$RATE" 30 &
UA=$!; bg_pid $UA
cluster_uac load_b1 127.0.0.3 "$SP" uac_rr.xml $((RATE * 4)) "$RATE" 30 &
UB=$!; bg_pid $UB
wait_for 3 bash -c "[ -s '$T/load_b1.csv' ]" || true
da0=$(mval "$HA" rm_cluster_peer_deaths_total)
kill -STOP "$(cat "$T/b.pid")"
wait_for 3 cluster_is "$HA" rm-b down || { kill -CONT "$(cat "$T/b.pid")"; die "rm-a does not see the stopped rm-b down"; }
sleep 0.3 # rm-b stays stopped past rm-a's verdict (a stall, not a wait for a state)
kill -CONT "$(cat "$T/b.pid")"
wait_for 5 cluster_is "$HA" rm-b up || die "rm-b not up again on rm-a after SIGCONT"
wait "$UA" "$UB" || true
db=$(mval "$HB" rm_cluster_peer_deaths_total)
[ "$db" = 0 ] || die "rm-b blamed rm-a for its own stall: $(grep 'peer rm-a down' "$T/b.log" | head -n 2)"
cluster_is "$HB" rm-a up || die "rm-a not up on rm-b after its stall"
ok "rm-b stopped under load until rm-a declared it down: rm-a saw it down ($(($(mval "$HA" rm_cluster_peer_deaths_total) - da0)) death), rm-b did not blame rm-a"

# Under rm-a's load, kill -9 rm-b: still seen within 1 s.
cluster_uac load_a2 127.0.0.2 "$SP" uac_rr.xml $((RATE * 4)) "$RATE" 30 &
UA=$!; bg_pid $UA
wait_for 3 bash -c "[ -s '$T/load_a2.csv' ]" || true
t_kill=$(date +%s%3N)
kill -9 "$(cat "$T/b.pid")"
wait_for 3 cluster_is "$HA" rm-b down || die "rm-a still sees rm-b: $(http_get "$HA" /cluster)"
line=$(grep "peer rm-b down" "$T/a.log" | tail -n 1)
t_down=$(date -d "$(echo "$line" | cut -d' ' -f1)" +%s%3N)
took=$((t_down - t_kill))
[ "$took" -le 1000 ] || die "rm-b's death under load took $took ms to detect (bound 1000): $line"
wait "$UA" || true
ok "kill -9 rm-b while rm-a carries $RATE calls/s: down after $took ms (bound 1000)"
