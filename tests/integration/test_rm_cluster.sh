#!/usr/bin/env bash
# rm cluster membership (issue 13): two nodes on 127.0.0.2 and 127.0.0.3 find each
# other (the peers list names both, so each also meets itself and stops dialing it);
# frames from a python socket that are unauthenticated, forged, replayed, of an old
# incarnation or meant for another node are dropped and counted by reason; kill -9 of
# one node is reported by the other within dead_after_ms (850) + one tick, i.e. under
# 1 s; the restarted node is up again on both sides. /readyz is 503 while a peer is
# syncing (it sent frames but not yet its state).
. "$(dirname "$0")/lib/rm_cluster.sh"

SP=$(free_port); CP=$(free_port); HA=$(free_port); HB=$(free_port); M1=$(free_port)
PEERS='["127.0.0.2:'$CP'", "127.0.0.3:'$CP'"]'
LRGS='[{"name":"g","members":[{"uri":"sip:127.0.0.1:'$M1'"}]}]'
# rm-a lists rm-b twice: one stream only must reach rm-b
PEERS_A='["127.0.0.2:'$CP'", "127.0.0.3:'$CP'", "127.0.0.3:'$CP'"]'
cluster_write_config "$T/a.json" rm-a 127.0.0.2 "$SP" "$HA" "$CP" "$PEERS_A" "$LRGS" "$(rm_default_profile g)"
cluster_write_config "$T/b.json" rm-b 127.0.0.3 "$SP" "$HB" "$CP" "$PEERS" "$LRGS" "$(rm_default_profile g)"
uas_start m1 "$M1" uas_rr.xml
cluster_start a "$T/a.json" "$HA"
cluster_start b "$T/b.json" "$HB"
wait_for 5 cluster_is "$HA" rm-b up || die "rm-a does not see rm-b up: $(http_get "$HA" /cluster)"
wait_for 5 cluster_is "$HB" rm-a up || die "rm-b does not see rm-a up: $(http_get "$HB" /cluster)"
grep -q "is this node: not dialed again" "$T/a.log" || die "rm-a did not recognise itself in peers"
wait_metric "$HA" rm_cluster_peers_up -eq 1 3 || die "rm_cluster_peers_up on rm-a"
wait_for 5 http_get "$HA" /readyz || die "rm-a not ready: $(http_get "$HA" /readyz)"
grep -q "is node rm-b, already reached through" "$T/a.log" || die "rm-a uses both entries for rm-b"
[ "$(mval "$HB" 'rm_cluster_frames_dropped_total{reason="replay"}')" = 0 ] ||
	die "rm-b drops replays from rm-a's two links"
ok "two nodes: each sees the other up in /cluster, rm_cluster_peers_up 1, /readyz 200"

# A hostile peer on rm-a's cluster port.
PY=$(cluster_peer_py)
/usr/bin/python3 - "$PY" "$CP" "$CLUSTER_KEY" <<'EOF_PY' || die "python peer failed"
import sys, time, importlib.util
spec = importlib.util.spec_from_file_location("cp", sys.argv[1]); cp = importlib.util.module_from_spec(spec); spec.loader.exec_module(cp)
port, key = int(sys.argv[2]), sys.argv[3].encode()
inc = int(time.time() * 1000)
s = cp.connect("127.0.0.2", port)
s.sendall(cp.frame(key, "SEND", "hb", "py", "rm-a", inc, 1, mac=False))            # unauthenticated
s.sendall(cp.frame(b"not-the-key-at-all!", "SEND", "hb", "py", "rm-a", inc, 2))  # forged (other key)
s.sendall(cp.frame(key, "SEND", "hb", "py", "rm-a", inc, 3, mac="00" * 32))      # forged (made-up mac)
good = cp.frame(key, "SEND", "state", "py", "rm-a", inc, 10, b"t 5 acme\n")
s.sendall(good)                                                                    # accepted
s.sendall(good)                                                                    # replayed
s.sendall(cp.frame(key, "SEND", "hb", "py", "rm-a", inc, 9))                       # replayed (old seq)
s.sendall(cp.frame(key, "SEND", "hb", "py", "rm-a", inc - 5000, 11))              # old incarnation
s.sendall(cp.frame(key, "SEND", "hb", "py", "rm-x", inc, 12))                      # for another node
s.sendall(cp.frame(key, "SEND", "hb", "rm-a", "rm-a", inc, 13))                    # claims to be rm-a
time.sleep(0.3)
s.close()
EOF_PY
for r in unauthenticated:1 bad-mac:2 replay:2 old-incarnation:1 wrong-node:2; do
	want=${r#*:}; r=${r%%:*}
	wait_metric "$HA" "rm_cluster_frames_dropped_total{reason=\"$r\"}" -eq "$want" 3 ||
		die "rm-a: dropped{reason=$r} is $(mval "$HA" "rm_cluster_frames_dropped_total{reason=\"$r\"}"), want $want"
done
curl_state=$(cluster_state "$HA" py)
[ -n "$curl_state" ] || die "the authenticated python peer is not in rm-a's /cluster"
http_get "$HA" /healthz >/dev/null || die "rm-a not healthy after the hostile frames"
cluster_is "$HA" rm-b up || die "rm-b no longer up on rm-a after the hostile frames"
ok "python peer: unauthenticated 1, bad-mac 2, replay 2, old-incarnation 1, wrong-node 2 dropped; its one good frame accepted"
wait_for 3 cluster_is "$HA" py down || die "the python peer never went down on rm-a"

# A peer that heartbeats but has not sent its state: syncing, and rm-a not ready. It
# keeps heartbeating (every 100 ms, at most 8 s) until the checks are done, so a slow
# machine cannot let it die between two of them.
/usr/bin/python3 - "$PY" "$CP" "$CLUSTER_KEY" "$T/py2.stop" <<'EOF_PY' &
import os, sys, time, importlib.util
spec = importlib.util.spec_from_file_location("cp", sys.argv[1]); cp = importlib.util.module_from_spec(spec); spec.loader.exec_module(cp)
s = cp.connect("127.0.0.2", int(sys.argv[2]))
seq, end = 1, time.time() + 8
while time.time() < end and not os.path.exists(sys.argv[4]):
    s.sendall(cp.frame(sys.argv[3].encode(), "SEND", "hb", "py2", "rm-a", int(time.time() * 1000), seq))
    seq += 1
    time.sleep(0.1)
s.close()
EOF_PY
PY2=$!
wait_for 3 cluster_is "$HA" py2 syncing || die "py2 is not syncing on rm-a: $(http_get "$HA" /cluster)"
why=$(http_get "$HA" /readyz) && die "rm-a ready while py2 syncs: $why"
echo "$why" | grep -q "syncing with py2" || die "/readyz does not say why: $why"
touch "$T/py2.stop"
wait "$PY2" || die "python peer py2 failed"
wait_for 3 http_get "$HA" /readyz || die "rm-a not ready again after py2 went away"
ok "a peer syncing (frames, no state yet): /readyz 503 \"$why\"; ready again once it is down"
deaths0=$(mval "$HA" rm_cluster_peer_deaths_total)

# kill -9 rm-b: rm-a's log stamps the moment it declares rm-b down.
t_kill=$(date +%s%3N)
kill -9 "$(cat "$T/b.pid")"
wait_for 3 cluster_is "$HA" rm-b down || die "rm-a still sees rm-b: $(http_get "$HA" /cluster)"
line=$(grep "peer rm-b down" "$T/a.log" | tail -n 1)
t_down=$(date -d "$(echo "$line" | cut -d' ' -f1)" +%s%3N)
took=$((t_down - t_kill))
[ "$took" -le 1000 ] || die "rm-b's death took $took ms to detect (bound 1000): $line"
[ "$(mval "$HA" rm_cluster_peer_deaths_total)" -eq $((deaths0 + 1)) ] || die "death not counted"
wait_metric "$HA" rm_cluster_peers_up -eq 0 2 || die "rm_cluster_peers_up still counts rm-b"
ok "kill -9 rm-b: rm-a reported it down after $took ms (bound 1000), deaths counted"

cluster_start b "$T/b.json" "$HB"
wait_for 5 cluster_is "$HA" rm-b up || die "restarted rm-b not up on rm-a: $(http_get "$HA" /cluster)"
wait_for 5 cluster_is "$HB" rm-a up || die "restarted rm-b does not see rm-a up"
grep -q "peer rm-b restarted" "$T/a.log" || die "rm-a did not notice rm-b's new incarnation"
ok "rm-b restarted: a new incarnation, up on both sides again"
