#!/usr/bin/env bash
# rm proxy benchmark (not a test): sipp UAC -> proxy -> sipp UAS (record-routed
# INVITE/180/200/ACK/BYE/200, etc/sipp/uac_rr.xml + uas_rr.xml, UDP), first through
# rm, then through Kamailio 5.6 (etc/kamailio/kamailio.cfg, one worker), in the same
# run. For each proxy it prints calls/s, failed calls, CPU microseconds per call
# (utime+stime of every thread/process of the proxy, from /proc, before/after),
# peak RSS (VmHWM, summed over processes) and sipp's mean response time, then the
# rm/Kamailio CPU ratio.
# Env: BUILD (default build), CALLS (10000), RATE (1000), BENCH_DIR.
set -euo pipefail
TOP="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${BUILD:-build}"
case "$BUILD" in /*) B="$BUILD" ;; *) B="$TOP/$BUILD" ;; esac
CALLS="${CALLS:-10000}"; RATE="${RATE:-1000}"
RM="$B/bin/rm"
[ -x "$RM" ] || { echo "bench_rm: $RM missing (make BUILD=$BUILD $BUILD/bin/rm)" >&2; exit 1; }
command -v sipp >/dev/null || { echo "bench_rm: sipp missing (sip-tester)" >&2; exit 1; }
. "$TOP/tests/bench/lib_proxy.sh"

# run NAME PROXY_PID PROXY_PORT: drive CALLS calls through the proxy, print a row.
run() {
	local name=$1 pid=$2 pport=$3 lp c0 c1 t0 t1 rc=0
	lp=$(port)
	c0=$(cpu_us "$pid"); t0=$EPOCHREALTIME
	sipp "127.0.0.1:$pport" -sf "$TOP/etc/sipp/uac_rr.xml" -s 1000 -i 127.0.0.1 -p "$lp" \
		-m "$CALLS" -r "$RATE" -l "$CALLS" -nostdin -recv_timeout 10s -timeout 120s \
		-timeout_error -default_behaviors all,-abortunexp -max_socket 5000 \
		-trace_stat -stf "$D/$name.csv" -fd 1 >"$D/$name.sipp.log" 2>&1 || rc=$?
	t1=$EPOCHREALTIME
	c1=$(cpu_us "$pid")
	local rss; rss=$(rss_kb "$pid")
	/usr/bin/python3 - "$D/$name.csv" "$name" "$CALLS" "$((c1 - c0))" "$rss" "$t0" "$t1" "$rc" <<'PY' | tee -a "$D/rows"
import csv, sys
path, name, calls, cpu, rss, t0, t1, rc = sys.argv[1:]
rows = list(csv.reader(open(path), delimiter=';'))
h, last = rows[0], rows[-1]
col = lambda n: last[h.index(n)]
ok, failed = int(col("SuccessfulCall(C)")), int(col("FailedCall(C)"))
elapsed = float(t1) - float(t0)
rt = col("ResponseTime1(C)")  # hh:mm:ss:usec, millisecond resolution
hh, mm, ss, us = (int(x) for x in rt.split(":"))
rt_ms = (hh * 3600 + mm * 60 + ss) * 1000 + us / 1000
under10 = int(col("ResponseTimeRepartition1_<10") or 0)
done = ok + failed
rt_s = f"{rt_ms:.0f} ms" if rt_ms >= 1 else "<1 ms"
rt_s += f", {100.0 * under10 / max(ok, 1):.1f}% <10 ms"
print(f"{name:9s} calls/s {float(col('CallRate(C)')):8.1f}  ok {ok:6d}  failed {failed:5d}  "
      f"cpu/call {int(cpu) / max(done, 1):7.1f} us  peak RSS {int(rss) / 1024:7.1f} MB  "
      f"sipp INVITE->200 mean {rt_s}  (sipp exit {rc}, {elapsed:.1f} s)")
PY
}

echo "bench_rm: $CALLS calls at $RATE/s, UDP, record-routed, sipp UAC -> proxy -> sipp UAS"

# ---- rm -----------------------------------------------------------------------------
UP=$(port); SP=$(port); HP=$(port)
start_uas rm "$UP"
UAS=${PIDS[-1]}
start_rm rm "$SP" "$HP" "$UP"
bench_wait 10 rm_mcps_up "$HP" 1 || { echo "bench_rm: rm's MCP is not up" >&2; exit 1; }
run rm "$RMPID" "$SP"
kill "$RMPID" "$UAS" 2>/dev/null || true
bench_wait 5 all_gone "$RMPID" "$UAS" || true

# ---- Kamailio -------------------------------------------------------------------------
UP=$(port); KP=$(port)
start_uas kam "$UP"
start_kamailio "$KP" "$UP" || exit 1
run kamailio "$KPID" "$KP"

/usr/bin/python3 - "$D/rows" <<'PY'
import re, sys
cpu = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\S+).*cpu/call\s+([\d.]+)", line)
    if m: cpu[m.group(1)] = float(m.group(2))
if "rm" in cpu and cpu.get("kamailio"):
    r = cpu["rm"] / cpu["kamailio"]
    print(f"ratio rm/kamailio CPU per call: {r:.2f} ({'goal met' if r <= 1 else 'goal NOT met'}: <= 1.00)")
PY
