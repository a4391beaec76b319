#!/usr/bin/env bash
# rm cluster, MCP health shared as an input, not a vote (issue 13). rm-a probes its
# MCP every 300 ms, rm-b only every 10 s (both: down after 2 failures, timeout 300 ms).
#  1. A peer (python, authenticated) tells rm-b the MCP is down while it answers
#     rm-b's OPTIONS: rm-b probes it at once, and keeps it up (no vote).
#  2. The MCP is killed: rm-a sees it down within ~1 s and tells rm-b, which probes
#     at once and has it down within a few seconds, where its own 10 s interval
#     and 2 failures would take 10-20 s.
. "$(dirname "$0")/lib/rm_cluster.sh"

SP=$(free_port); CP=$(free_port); HA=$(free_port); HB=$(free_port); M1=$(free_port)
PEERS='["127.0.0.2:'$CP'", "127.0.0.3:'$CP'"]'
MCP="sip:127.0.0.1:$M1"
LRGS='[{"name":"g","members":[{"uri":"'$MCP'"}]}]'
cluster_write_config "$T/a.json" rm-a 127.0.0.2 "$SP" "$HA" "$CP" "$PEERS" "$LRGS" "$(rm_default_profile g)"
cluster_write_config "$T/b.json" rm-b 127.0.0.3 "$SP" "$HB" "$CP" "$PEERS" "$LRGS" "$(rm_default_profile g)"
sed -i 's/"interval_ms": 500, "timeout_ms": 400/"interval_ms": 300, "timeout_ms": 300/' "$T/a.json"
sed -i 's/"interval_ms": 500, "timeout_ms": 400/"interval_ms": 10000, "timeout_ms": 300/' "$T/b.json"
grep -q '"interval_ms": 10000' "$T/b.json" || die "rm-b's monitor interval not set"
uas_start m1 "$M1" uas_rr.xml
M1_PID=$UAS_PID
cluster_start a "$T/a.json" "$HA"
cluster_start b "$T/b.json" "$HB"
wait_for 5 cluster_is "$HA" rm-b up || die "rm-a does not see rm-b up"
wait_for 5 cluster_is "$HB" rm-a up || die "rm-b does not see rm-a up"
wait_mcp_up "$HA" "$MCP" 5 || die "MCP not up on rm-a"
wait_mcp_up "$HB" "$MCP" 5 || die "MCP not up on rm-b"
ok "two nodes, the MCP up on both (rm-b probes every 10 s)"

# 1. A peer claims "down" for an MCP that answers rm-b.
PY=$(cluster_peer_py)
/usr/bin/python3 - "$PY" "$CP" "$CLUSTER_KEY" "$MCP" <<'EOF_PY' || die "python peer failed"
import sys, time, importlib.util
spec = importlib.util.spec_from_file_location("cp", sys.argv[1]); cp = importlib.util.module_from_spec(spec); spec.loader.exec_module(cp)
key, mcp = sys.argv[3].encode(), sys.argv[4]
inc = int(time.time() * 1000)
s = cp.connect("127.0.0.3", int(sys.argv[2]))
s.sendall(cp.frame(key, "SEND", "state", "py", "rm-b", inc, 1, b""))
s.sendall(cp.frame(key, "SEND", "health", "py", "rm-b", inc, 2, ("d %s\n" % mcp).encode()))
time.sleep(0.3)
s.close()
EOF_PY
wait_log "$T/b.log" "MCP $MCP: py sees it down: probing it now" 1 3 ||
	die "rm-b did not probe the MCP on py's word: $(grep -i mcp "$T/b.log" | tail -n 3)"
wait_log "$T/b.log" "MCP $MCP: py sees it down, but it answered this node's OPTIONS: kept up" 1 3 ||
	die "rm-b did not settle py's claim by its own probe: $(grep -i mcp "$T/b.log" | tail -n 3)"
# log_ms PATTERN: the time (ms since the epoch) of rm-b's first log line matching it
log_ms() { date -d "$(grep -m1 "$1" "$T/b.log" | cut -d' ' -f1)" +%s%3N; }
took=$(($(log_ms "kept up") - $(log_ms "py sees it down: probing it now")))
[ "$took" -le 1000 ] || die "rm-b's probe on py's word answered $took ms later (not at once)"
[ "$(mval "$HB" "rm_mcp_up{mcp=\"$MCP\"}")" = 1 ] || die "rm-b took the MCP out of service on py's word"
grep -q "MCP $MCP is down" "$T/b.log" && die "rm-b marked the MCP down on py's word"
ok "a peer's \"down\" for an MCP that answers rm-b: probed at once (answer $took ms later), kept up"

# 2. The MCP dies: rm-b learns it from rm-a well before its own 10 s interval.
wait_log "$T/b.log" "MCP $MCP is up" 1 1 || true
t0=$(date +%s%3N)
kill -9 "$M1_PID"
wait_mcp_up "$HA" "$MCP" 5 0 || die "rm-a did not see the MCP down"
t_a=$(($(date +%s%3N) - t0))
wait_mcp_up "$HB" "$MCP" 5 0 || die "rm-b did not learn the MCP is down within 5 s (its own interval: 10 s): $(grep -i "mcp" "$T/b.log" | tail -n 3)"
t_b=$(($(date +%s%3N) - t0))
[ "$t_b" -le 5000 ] || die "rm-b saw the MCP down only after $t_b ms (bound 5000; its own probes would take 10-20 s)"
wait_log "$T/b.log" "MCP $MCP: rm-a sees it down: probing it now" 1 1 ||
	die "rm-b's down was not prompted by rm-a"
ok "MCP killed: down on rm-a after ${t_a} ms, on rm-b after ${t_b} ms (its own probes: every 10 s, 2 failures)"
