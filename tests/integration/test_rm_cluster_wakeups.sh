#!/usr/bin/env bash
# rm cluster cost (issue 13, bench_cluster.sh): the session lines of answered calls
# (`+` at the answer, `-` at the end) must not wake rm's service thread one by one.
# The cluster sends them only at its tick (every publish_ms), so a wake-up per line
# bought nothing and cost a thread switch per line (+16% CPU per call at 1,000
# calls/s in bench_cluster.sh; +0-4% once they ride the bridge's batch, bridge.h
# BRIDGE_WAKE_LATER). Measured here as the voluntary context switches of rm-a's
# service thread (the main thread) per call, 1,000 calls at 500 calls/s through rm-a
# of a two-node cluster, billing off, beyond its idle rate (its tick, heartbeats):
# woken per line it is ~1.7 per call; batched, ~0.1 (the bridge's batch timer). The lines still
# arrive: rm-b holds rm-a's live calls while they last and none once they ended.
. "$(dirname "$0")/lib/rm_cluster.sh"

SP=$(free_port); CP=$(free_port); HA=$(free_port); HB=$(free_port); M1=$(free_port)
PEERS='["127.0.0.2:'$CP'", "127.0.0.3:'$CP'"]'
LRGS='[{"name":"g","members":[{"uri":"sip:127.0.0.1:'$M1'","max_ports":100000}]}]'
RM_LOG_LEVEL=warn
cluster_write_config "$T/a.json" rm-a 127.0.0.2 "$SP" "$HA" "$CP" "$PEERS" "$LRGS" "$(rm_default_profile g)"
cluster_write_config "$T/b.json" rm-b 127.0.0.3 "$SP" "$HB" "$CP" "$PEERS" "$LRGS" "$(rm_default_profile g)"
uas_start m1 "$M1" uas_rr.xml
cluster_start a "$T/a.json" "$HA"
A=$NODE_PID
cluster_start b "$T/b.json" "$HB"
wait_for 5 cluster_is "$HA" rm-b up || die "rm-a does not see rm-b up"
wait_for 5 cluster_is "$HB" rm-a up || die "rm-b does not see rm-a up"
wait_metric "$HA" rm_mcps_up -eq 1 10 || die "MCP not up on rm-a"

# A few long calls first: their `+` lines reach rm-b while the calls last.
cluster_uac long 127.0.0.2 "$SP" uac_rr.xml 5 50 20 -d 3000 &
ul=$!
wait_metric "$HB" rm_cluster_sessions_remote -eq 5 5 ||
	die "rm-b does not hold rm-a's 5 live calls: $(mval "$HB" rm_cluster_sessions_remote)"
wait "$ul" || die "long calls failed"
wait_metric "$HB" rm_cluster_sessions_remote -eq 0 5 || die "rm-b still holds ended calls"
ok "session lines still replicated: rm-b held rm-a's 5 live calls, then none"

# The service thread also wakes without calls (its tick every publish_ms, rm-b's
# heartbeats): that idle rate, measured first over 1 s, is taken off, so a slow run
# (a loaded machine) does not count its longer duration against the calls.
ctxt() { awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$A/task/$A/status"; }
i0=$(ctxt); ti0=$EPOCHREALTIME
sleep 1 # a measuring window, not a wait for a state
i1=$(ctxt); ti1=$EPOCHREALTIME
N=1000
c0=$(ctxt); t0=$EPOCHREALTIME
cluster_uac burst 127.0.0.2 "$SP" uac_rr.xml "$N" 500 30 || die "calls failed: ok $OK failed $FAILED"
c1=$(ctxt); t1=$EPOCHREALTIME
[ "$OK" -eq "$N" ] || die "only $OK of $N calls answered"
read -r idle per < <(awk -v i0="$i0" -v i1="$i1" -v ti0="$ti0" -v ti1="$ti1" -v a="$c0" \
	-v b="$c1" -v t0="$t0" -v t1="$t1" -v n="$N" 'BEGIN { r = (i1 - i0) / (ti1 - ti0);
	printf "%.0f %.2f\n", r, (b - a - r * (t1 - t0)) / n }')
awk -v p="$per" 'BEGIN { exit !(p < 1.0) }' ||
	die "rm-a's service thread switched $per times per call beyond its idle $idle/s (bound 1.0): woken per session line?"
wait_metric "$HB" rm_cluster_sessions_remote -eq 0 5 || die "rm-b holds ended calls after the burst"
[ "$(mval "$HA" rm_cluster_sessions_lost_total)" = 0 ] || die "session lines lost on rm-a"
ok "$N calls at 500/s: rm-a's service thread switched $per times per call beyond its idle $idle/s (bound 1.0), no line lost"
