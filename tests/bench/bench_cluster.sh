#!/usr/bin/env bash
# rm cluster benchmark (not a test; issue 13): what being in a cluster costs the node
# that carries the calls, how fast a dead peer is seen, and how many bytes a call
# costs on the 9801 link.
#
# 1. CPU per call. sipp UAC (as the SIP Server) -> rm-a -> sipp UAS (as the MCP),
#    etc/sipp/uac_rr.xml + uas_rr.xml over UDP, CALLS calls at RATE calls/s, billing as
#    deployed (stomp to a real rs on SQLite, rm's CPU counted until its spool is
#    drained, as bench_rm.sh does), in two configurations per round:
#      single   rm-a alone (no "cluster" key);
#      cluster  the same rm-a in a 2-node cluster with rm-b (cluster links on
#               127.0.0.2 / 127.0.0.3, the same port, as in a pod per node).
#    rm-b is up but IDLE (no calls of its own): on this 2-CPU machine, sipp UAC + UAS,
#    two rms and rs already fill both CPUs at 1,000 calls/s, so a second stream of
#    calls through rm-b would turn rm-a's figure into a measure of CPU contention.
#    What rm-a pays for the cluster is all there with an idle peer: publishing its
#    usage deltas (every publish_ms), replicating every answered call (`+`/`-` sess
#    lines), heartbeats, and reading the peers' board on each admission; what it
#    pays for receiving a busy peer's frames is the mirror of what rm-b pays here
#    (rm-b's CPU per call of rm-a's is printed too).
#    CPU = utime+stime from /proc of rm-a (and rm-b, shown apart). Each round runs
#    both configurations (order alternated per round); the summary gives the median
#    of each and the median of the per-round ratios (the machine is shared and noisy:
#    a ratio within one round is what means something).
# 2. Death detection: DEATHS times, kill -9 rm-b (up, idle) and measure from just
#    before the kill to the timestamp of rm-a's log line "cluster: peer rm-b down";
#    rm-b is restarted and seen up again before the next kill. Median and worst.
# 3. Replication bytes per call: rm-a's rm_cluster_bytes_sent_total (frame bytes
#    handed to the 9801 connection towards rm-b, STOMP framing and MAC included, TCP/IP
#    headers not) over each cluster run, per call; and net of heartbeats (rm-a's
#    idle send rate, measured for IDLE_S seconds before the calls, times the run).
#
# 4. Death detection under load: rm-a and rm-b each carry LOAD_RATE/2 calls/s (sipp
#    UAC -> node -> one sipp UAS, billing off) for LOAD_S seconds, then rm-b is killed
#    (-9) while rm-a's stream goes on; LOAD_KILLS times (rm-b restarted, its stream
#    restarted). Reported: detection (kill -> rm-a's "peer rm-b down" line) median and
#    worst, and false deaths over the whole run: rm-b declaring rm-a down at any time,
#    and rm-a declaring rm-b down more often than it was killed.
#
#    Calls ringing CLUSTER_RING_HOLD_MS (100 ms) or more also cost their "+" line
#    with answer_ms 0 (rm/sip/proxy_cluster.c): ANSWER_MS > 0 makes the MCP ring that
#    long before its 200 (uas_rr.xml with a pause), to measure it.
#
# Env: BUILD (default build), CALLS (10000), RATE (1000), RUNS (3), DEATHS (20),
# IDLE_S (2), LOAD_RATE (1000), LOAD_KILLS (10), LOAD_S (5), BENCH_DIR, KEEP=1 keeps
# the scratch directory. Default total ~5 min.
set -euo pipefail
TOP="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${BUILD:-build}"
case "$BUILD" in /*) B="$BUILD" ;; *) B="$TOP/$BUILD" ;; esac
CALLS="${CALLS:-10000}"; RATE="${RATE:-1000}"; RUNS="${RUNS:-3}"
DEATHS="${DEATHS:-20}"; IDLE_S="${IDLE_S:-2}"
LOAD_RATE="${LOAD_RATE:-1000}"; LOAD_KILLS="${LOAD_KILLS:-10}"; LOAD_S="${LOAD_S:-5}"
RM="$B/bin/rm"; RS="$B/bin/rs"
[ -x "$RM" ] || { echo "bench_cluster: $RM missing (make BUILD=$BUILD $BUILD/bin/rm)" >&2; exit 1; }
[ -x "$RS" ] || { echo "bench_cluster: $RS missing (make BUILD=$BUILD $BUILD/bin/rs)" >&2; exit 1; }
command -v sipp >/dev/null || { echo "bench_cluster: sipp missing (sip-tester)" >&2; exit 1; }
. "$TOP/tests/bench/lib_proxy.sh"
KEY="bench-cluster-key-0123456789abcdef"
ANSWER_MS="${ANSWER_MS:-0}"
if [ "$ANSWER_MS" -gt 0 ]; then
	UAS_SF="$D/uas_ring.xml" # D: lib_proxy.sh's scratch directory
	sed "0,/<send retrans=\"500\">/s##<pause milliseconds=\"$ANSWER_MS\"/>\n  <send retrans=\"500\">#" \
		"$TOP/etc/sipp/uas_rr.xml" >"$UAS_SF"
	grep -q "<pause milliseconds=\"$ANSWER_MS\"/>" "$UAS_SF" || { echo "bench_cluster: $UAS_SF not made" >&2; exit 1; }
	export UAS_SF
fi

# metric_is HTTP_PORT NAME VALUE: 0 if rm's metric NAME equals VALUE.
metric_is() {
	local v; v=$(metric "$1" "$2") || return 1
	[ -n "$v" ] && awk -v a="$v" -v b="$3" 'BEGIN { exit !(a == b) }'
}

# peer_is HTTP_PORT NODE STATE: 0 if that rm's /cluster shows NODE in STATE.
peer_is() {
	/usr/bin/python3 - "$@" <<'PY'
import json, sys, urllib.request
port, node, state = sys.argv[1:4]
j = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/cluster", timeout=3))
sys.exit(0 if any(p["node"] == node and p["state"] == state for p in j["peers"]) else 1)
PY
}

# cluster_json NODE IP: the "node" and "cluster" keys for start_rm's EXTRA_JSON.
cluster_json() {
	echo ", \"node\": \"$1\", \"cluster\": { \"listen\": \"$2\", \"port\": $CP,
  \"peers\": [\"127.0.0.2:$CP\", \"127.0.0.3:$CP\"], \"key\": \"$KEY\" }"
}

# start_b: rm-b (idle: SIP port of its own, the same MCP, billing off); pid in BPID.
start_b() {
	local save=$RMPID
	start_rm rm-b "$SPB" "$HPB" "$UP" "$(cluster_json rm-b 127.0.0.3)"
	BPID=$RMPID; RMPID=$save
}

sipp_run() {
	local lp; lp=$(port)
	SIPP_RC=0
	sipp "127.0.0.1:$2" -sf "$TOP/etc/sipp/uac_rr.xml" -s 1000 -i 127.0.0.1 -p "$lp" \
		-m "$3" -r "$4" -l "$3" -nostdin -recv_timeout 10s -timeout 120s \
		-timeout_error -default_behaviors all,-abortunexp -max_socket 5000 \
		-trace_stat -stf "$D/$1.csv" -fd 1 >"$D/$1.sipp.log" 2>&1 || SIPP_RC=$?
}

# run ROUND CONF (single|cluster): one row; figures appended to $D/rows.
run() {
	local rnd=$1 conf=$2 name="$2.$1" dir="$D/$2.$1" extra="" c0 c1 b0 b1 t0 t1
	local bc0=0 bc1=0 by0=0 by1=0 i0 i1 ti0 ti1 idle_bps=0
	mkdir -p "$dir"
	UP=$(port); SPA=$(port); HPA=$(port); SPB=$(port); HPB=$(port); CP=$(port)
	local rsp rhp; rsp=$(port); rhp=$(port)
	start_uas "$name" "$UP"
	cat >"$D/$name.rs.json" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $rsp },
  "http": { "listen": "127.0.0.1", "port": $rhp },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$dir/rs.db" } },
  "journal": { "dir": "$dir/journal" } }
JSON
	"$RS" -c "$D/$name.rs.json" >"$D/$name.rs.log" 2>&1 &
	PIDS+=($!)
	bench_wait 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$rsp" ||
		{ echo "bench_cluster: rs did not start:"; tail "$D/$name.rs.log"; return 1; }
	local cj=""
	[ "$conf" = cluster ] && cj=$(cluster_json rm-a 127.0.0.2)
	RM_BILLING="{ \"mode\": \"stomp\", \"endpoints\": [\"127.0.0.1:$rsp\"], \"spool_dir\": \"$dir/spool\" }" \
		start_rm "$name" "$SPA" "$HPA" "$UP" "$cj"
	local APID=$RMPID
	if [ "$conf" = cluster ]; then
		start_b
		bench_wait 10 peer_is "$HPA" rm-b up || { echo "bench_cluster: rm-a does not see rm-b up" >&2; return 1; }
		bench_wait 10 peer_is "$HPB" rm-a up || { echo "bench_cluster: rm-b does not see rm-a up" >&2; return 1; }
	fi
	bench_wait 10 rm_mcps_up "$HPA" 1 || { echo "bench_cluster: rm-a's MCP is not up" >&2; return 1; }
	bench_wait 10 metric_is "$HPA" rm_billing_publisher_connected 1 ||
		{ echo "bench_cluster: rm-a did not connect to rs" >&2; return 1; }
	if [ "$conf" = cluster ]; then
		# rm-a's heartbeat-only send rate, for the net bytes per call
		i0=$(metric "$HPA" rm_cluster_bytes_sent_total); ti0=$EPOCHREALTIME
		sleep "$IDLE_S" # a measuring window, not a wait for readiness
		i1=$(metric "$HPA" rm_cluster_bytes_sent_total); ti1=$EPOCHREALTIME
		idle_bps=$(awk -v a="$i0" -v b="$i1" -v t0="$ti0" -v t1="$ti1" 'BEGIN { printf "%.1f", (b - a) / (t1 - t0) }')
		by0=$(metric "$HPA" rm_cluster_bytes_sent_total)
		bc0=$(cpu_us "$BPID")
	fi
	c0=$(cpu_us "$APID"); t0=$EPOCHREALTIME
	sipp_run "$name" "$SPA" "$CALLS" "$RATE"
	t1=$EPOCHREALTIME
	bench_wait 60 metric_is "$HPA" rm_spool_depth 0 || true
	c1=$(cpu_us "$APID")
	local t2=$EPOCHREALTIME
	if [ "$conf" = cluster ]; then
		by1=$(metric "$HPA" rm_cluster_bytes_sent_total)
		bc1=$(cpu_us "$BPID")
		local deaths; deaths=$(metric "$HPA" rm_cluster_peer_deaths_total)
		local lost; lost=$(metric "$HPA" rm_cluster_sessions_lost_total)
		peer_is "$HPA" rm-b up || extra="rm-b NOT up on rm-a after the run; "
		peer_is "$HPB" rm-a up || extra="${extra}rm-a NOT up on rm-b after the run; "
		extra="${extra}peer deaths ${deaths%.*}, sessions lost ${lost%.*}"
	fi
	local built stored depth
	built=$(metric "$HPA" rm_billing_records_total)
	depth=$(metric "$HPA" rm_spool_depth)
	stored=$(sqlite3 -cmd ".timeout 10000" "$dir/rs.db" "select count(*) from cdr" 2>/dev/null || echo "?")
	extra="records built ${built%.*}, in rs ${stored}, spool depth ${depth%.*}${extra:+; $extra}"
	/usr/bin/python3 - "$D/$name.csv" "$rnd" "$conf" "$((c1 - c0))" "$((bc1 - bc0))" \
		"$by0" "$by1" "$idle_bps" "$t0" "$t1" "$t2" "$SIPP_RC" "$extra" "$D/rows" <<'PY'
import csv, sys
path, rnd, conf, cpu, bcpu, by0, by1, idle, t0, t1, t2, rc, extra, out = sys.argv[1:]
rows = list(csv.reader(open(path), delimiter=';'))
h, last = rows[0], rows[-1]
col = lambda n: last[h.index(n)]
ok, failed = int(col("SuccessfulCall(C)")), int(col("FailedCall(C)"))
done = max(ok + failed, 1)
cpu_call = int(cpu) / done
line = (f"  {conf:8s} calls/s {float(col('CallRate(C)')):7.1f}  ok {ok:6d}  failed {failed:4d}  "
        f"rm-a cpu/call {cpu_call:6.1f} us")
bpc = net = 0.0
if conf == "cluster":
    bcall = int(bcpu) / done
    sent = float(by1) - float(by0)
    bpc = sent / done
    net = (sent - float(idle) * (float(t2) - float(t0))) / done
    line += (f"  rm-b (idle peer) cpu/call {bcall:5.1f} us  9801 bytes/call {bpc:6.1f}"
             f" (net of heartbeats {net:6.1f}; idle {float(idle):.0f} B/s)")
line += f"  ({float(t1) - float(t0):.1f} s, sipp exit {rc})\n           {extra}"
print(line, flush=True)
with open(out, "a") as f:
    f.write(f"{rnd}\t{conf}\t{cpu_call:.1f}\t{failed}\t{bpc:.1f}\t{net:.1f}\n")
PY
	stop_all
}

# deaths: DEATHS kills of an idle rm-b; ms from kill to rm-a's "peer rm-b down" line.
deaths() {
	UP=$(port); SPA=$(port); HPA=$(port); SPB=$(port); HPB=$(port); CP=$(port)
	start_uas death "$UP"
	start_rm death-a "$SPA" "$HPA" "$UP" "$(cluster_json rm-a 127.0.0.2)"
	: >"$D/deaths"
	local i
	for i in $(seq "$DEATHS"); do
		start_b
		bench_wait 10 peer_is "$HPA" rm-b up || { echo "bench_cluster: rm-b not up on rm-a (kill $i)" >&2; return 1; }
		bench_wait 10 peer_is "$HPB" rm-a up || { echo "bench_cluster: rm-a not up on rm-b (kill $i)" >&2; return 1; }
		local n0; n0=$(grep -c "peer rm-b down" "$D/death-a.log" || true)
		local tk; tk=$(/usr/bin/python3 -c 'import os, sys, time; t = time.time(); os.kill(int(sys.argv[1]), 9); print("%.3f" % t)' "$BPID")
		bench_wait 5 bash -c "[ \$(grep -c 'peer rm-b down' '$D/death-a.log') -gt $n0 ]" ||
			{ echo "bench_cluster: rm-a never reported rm-b down (kill $i)" >&2; return 1; }
		local line; line=$(grep "peer rm-b down" "$D/death-a.log" | tail -n 1)
		/usr/bin/python3 - "$tk" "${line%% *}" >>"$D/deaths" <<'PY'
import datetime, sys
t = datetime.datetime.strptime(sys.argv[2], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
print(round((t.timestamp() - float(sys.argv[1])) * 1000))
PY
		bench_wait 3 all_gone "$BPID" || true
	done
	/usr/bin/python3 - "$D/deaths" <<'PY'
import statistics as st, sys
v = [int(l) for l in open(sys.argv[1]) if l.strip()]
print(f"death detection (kill -9 of an idle peer -> survivor's 'peer down' log line, "
      f"dead_after_ms 850, publish_ms 10), {len(v)} kills: median {st.median(v):.0f} ms, "
      f"worst {max(v)} ms, best {min(v)} ms")
PY
	stop_all
}

# sipp_bg NAME PORT CALLS RATE: sipp_run in the background (pid in SIPP_PID).
sipp_bg() {
	local lp; lp=$(port)
	sipp "127.0.0.1:$2" -sf "$TOP/etc/sipp/uac_rr.xml" -s 1000 -i 127.0.0.1 -p "$lp" \
		-m "$3" -r "$4" -l "$3" -nostdin -recv_timeout 10s -timeout 600s \
		-default_behaviors all,-abortunexp -max_socket 5000 \
		-trace_stat -stf "$D/$1.csv" -fd 1 >"$D/$1.sipp.log" 2>&1 &
	SIPP_PID=$!; PIDS+=($SIPP_PID)
}

# sipp_ok CSV: successful calls and call rate of a sipp -stf file ("ok rate").
sipp_ok() {
	/usr/bin/python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
h, last = rows[0], rows[-1]
print(last[h.index("SuccessfulCall(C)")], last[h.index("FailedCall(C)")],
      "%.0f" % float(last[h.index("CallRate(C)")]))
PY
}

# load_deaths: LOAD_KILLS kills of rm-b while both nodes carry LOAD_RATE/2 calls/s.
load_deaths() {
	UP=$(port); SPA=$(port); HPA=$(port); SPB=$(port); HPB=$(port); CP=$(port)
	local half=$((LOAD_RATE / 2)) i bfalse=0 fails=0
	start_uas load "$UP"
	start_rm load-a "$SPA" "$HPA" "$UP" "$(cluster_json rm-a 127.0.0.2)"
	local APID=$RMPID
	bench_wait 10 rm_mcps_up "$HPA" 1 || { echo "bench_cluster: rm-a's MCP is not up" >&2; return 1; }
	: >"$D/load_deaths"
	sipp_bg load-a "$SPA" $((half * (LOAD_S + 3) * LOAD_KILLS + half * 60)) "$half"
	local SA=$SIPP_PID
	for i in $(seq "$LOAD_KILLS"); do
		start_b
		bench_wait 10 peer_is "$HPA" rm-b up || { echo "bench_cluster: rm-b not up on rm-a (load kill $i)" >&2; return 1; }
		bench_wait 10 peer_is "$HPB" rm-a up || { echo "bench_cluster: rm-a not up on rm-b (load kill $i)" >&2; return 1; }
		bench_wait 10 rm_mcps_up "$HPB" 1 || true
		sipp_bg "load-b.$i" "$SPB" $((half * (LOAD_S + 30))) "$half"
		local SB=$SIPP_PID
		sleep "$LOAD_S" # the load window (a measuring window, not a wait for a state)
		local bd; bd=$(metric "$HPB" rm_cluster_peer_deaths_total); bd=${bd%.*}
		bfalse=$((bfalse + ${bd:-0}))
		local n0; n0=$(grep -c "peer rm-b down" "$D/load-a.log" || true)
		local tk; tk=$(/usr/bin/python3 -c 'import os, sys, time; t = time.time(); os.kill(int(sys.argv[1]), 9); print("%.3f" % t)' "$BPID")
		bench_wait 5 bash -c "[ \$(grep -c 'peer rm-b down' '$D/load-a.log') -gt $n0 ]" ||
			{ echo "bench_cluster: rm-a never reported rm-b down (load kill $i)" >&2; return 1; }
		local line; line=$(grep "peer rm-b down" "$D/load-a.log" | tail -n 1)
		/usr/bin/python3 - "$tk" "${line%% *}" >>"$D/load_deaths" <<'PY'
import datetime, sys
t = datetime.datetime.strptime(sys.argv[2], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
print(round((t.timestamp() - float(sys.argv[1])) * 1000))
PY
		read -r ok f rate < <(sipp_ok "$D/load-b.$i.csv")
		echo "  load kill $i: rm-b carried $ok calls ($rate/s) before the kill"
		kill "$SB" 2>/dev/null || true
		bench_wait 3 all_gone "$BPID" "$SB" || true
	done
	local ad; ad=$(metric "$HPA" rm_cluster_peer_deaths_total); ad=${ad%.*}
	kill -INT "$SA" 2>/dev/null || true
	bench_wait 5 all_gone "$SA" || true
	read -r ok f rate < <(sipp_ok "$D/load-a.csv")
	/usr/bin/python3 - "$D/load_deaths" "$half" "$ok" "$f" "$rate" "$ad" "$LOAD_KILLS" "$bfalse" <<'PY'
import statistics as st, sys
f, half, ok, failed, rate, ad, kills, bfalse = sys.argv[1:]
v = [int(l) for l in open(f) if l.strip()]
print(f"death detection under load (each node {half} calls/s offered; rm-a carried {ok} "
      f"calls, {failed} failed, {rate}/s), {len(v)} kills of rm-b: median {st.median(v):.0f} ms, "
      f"worst {max(v)} ms, best {min(v)} ms; false deaths: rm-a {int(ad) - int(kills)}, "
      f"rm-b {bfalse}")
PY
	stop_all
}

echo "bench_cluster: $CALLS calls at $RATE/s (answered after ${ANSWER_MS} ms) through rm-a (billing stomp -> rs on SQLite)," \
	"single vs 2-node cluster (rm-b idle); $RUNS round(s); then $DEATHS kill -9 of the peer"
for r in $(seq "$RUNS"); do
	echo "--- round $r"
	if [ $((r % 2)) = 1 ]; then order="single cluster"; else order="cluster single"; fi
	for c in $order; do run "$r" "$c" || stop_all; done
done

[ -s "$D/rows" ] && /usr/bin/python3 - "$D/rows" "$RUNS" <<'PY'
import statistics as st, sys
by = {}
for l in open(sys.argv[1]):
    rnd, conf, cpu, failed, bpc, net = l.rstrip("\n").split("\t")
    by.setdefault(rnd, {})[conf] = (float(cpu), int(failed), float(bpc), float(net))
s = [v["single"][0] for v in by.values() if "single" in v]
c = [v["cluster"][0] for v in by.values() if "cluster" in v]
ratios = [v["cluster"][0] / v["single"][0] for v in by.values() if "single" in v and "cluster" in v]
b = [v["cluster"][2] for v in by.values() if "cluster" in v]
n = [v["cluster"][3] for v in by.values() if "cluster" in v]
fails = [v[k][1] for v in by.values() for k in v]
med = lambda x: st.median(x) if x else float("nan")
r = med(ratios)
print(f"summary ({sys.argv[2]} round(s), medians): rm-a cpu/call single {med(s):.1f} us, "
      f"cluster {med(c):.1f} us; ratio cluster/single per round "
      f"{', '.join(f'{x:.2f}' for x in ratios)} -> median {r:.2f} "
      f"({(r - 1) * 100:+.0f}%; goal <= +10%: {'met' if r <= 1.10 and not any(fails) else 'NOT met'}); "
      f"failed calls {sum(fails)}")
print(f"replication: {med(b):.0f} bytes of cluster frames sent per call "
      f"({med(n):.0f} net of heartbeats), rm_cluster_bytes_sent_total of rm-a")
PY

# (bash reports each kill -9 of a background rm-b as "Killed": not a failure)
[ "$DEATHS" -gt 0 ] && { deaths 2> >(grep -v " Killed " >&2) || stop_all; }
[ "$LOAD_KILLS" -gt 0 ] && { load_deaths 2> >(grep -v " Killed " >&2) || stop_all; }
exit 0
