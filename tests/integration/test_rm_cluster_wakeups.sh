#!/usr/bin/env bash
# rm cluster cost (issue 13, bench_cluster.sh): the session lines of answered calls
# (`+` at the answer, `-` at the end) must not wake rm's service thread one by one.
# The cluster sends them only at its tick (every publish_ms), so a wake-up per line
# bought nothing and cost a thread switch per line (+16% CPU per call at 1,000
# calls/s in bench_cluster.sh; +4% once they ride the bridge's batch, bridge.h
# BRIDGE_WAKE_LATER). Measured here as the voluntary context switches of rm-a's
# service thread (the main thread) per call, 1,000 calls at 500 calls/s through rm-a
# of a two-node cluster, billing off: woken per line it is ~2 per call; batched, the
# bridge's timer and the cluster's tick bound it near 0.4 per call. The lines still
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

ctxt() { awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$A/task/$A/status"; }
N=1000
c0=$(ctxt)
cluster_uac burst 127.0.0.2 "$SP" uac_rr.xml "$N" 500 30 || die "calls failed: ok $OK failed $FAILED"
c1=$(ctxt)
[ "$OK" -eq "$N" ] || die "only $OK of $N calls answered"
per=$(awk -v a="$c0" -v b="$c1" -v n="$N" 'BEGIN { printf "%.2f", (b - a) / n }')
awk -v p="$per" 'BEGIN { exit !(p < 1.0) }' ||
	die "rm-a's service thread switched $per times per call (bound 1.0): woken per session line?"
wait_metric "$HB" rm_cluster_sessions_remote -eq 0 5 || die "rm-b holds ended calls after the burst"
[ "$(mval "$HA" rm_cluster_sessions_lost_total)" = 0 ] || die "session lines lost on rm-a"
ok "$N calls at 500/s: rm-a's service thread switched $per times per call (bound 1.0), no line lost"
