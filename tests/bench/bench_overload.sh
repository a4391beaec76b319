#!/usr/bin/env bash
# rm overload benchmark (not a test), issue 10: how much of its clean capacity a proxy
# still completes when offered 1x, 2x and 4x that capacity, rm beside Kamailio 5.6 in
# the same run, same sipp scenario as bench_rm.sh (uac_rr.xml -> proxy -> uas_rr.xml,
# UDP, record-routed).
#  1. clean capacity: rm (default config: overload control automatic) is offered
#     250, 500, 1000, ... calls/s for PROBE_S s each; BASE is the highest rate with
#     every call completed (or set BASE to skip the probe);
#  2. for each proxy and each factor F in FACTORS, a fresh proxy and MCP are offered
#     F x BASE calls/s for DUR s; a probe at RECOVER_RATE calls/s starts 1 s before
#     the load's end and runs RECOVER_S s.
# One row per run: offered and completed calls/s, completed as % of BASE, failed
# calls (503s from rm's shedding counted apart), MCP down events (rm's log; Kamailio
# has no health checks here), rm's UDP receive drops, and recovery, measured per call:
# the load logs when it sends each INVITE first (uac_overload.xml with -trace_logs),
# so the drop is the instant its last new INVITE left (sipp may fall behind its rate on
# a busy machine: "load ended N s late" against DUR); the probe (uac_probe.xml, one log
# line per call with its start, 200 and end) starts 1 s before the load's nominal end
# and runs RECOVER_S s. A probe call fails on a 503 or other refusal, on no 200 within
# 4 s, or on anything sipp finds unexpected. Printed: when the last failed probe call
# started, in s after the drop ("none": none after it; negative: the last failure was
# before it), the probe calls started more than 1 s after the drop that failed, and the
# slowest INVITE-to-200 among them (a lost INVITE retransmitted costs 0.5 s).
# Goal (issue 10): at 2x and 4x, completed >= 90% of BASE, no MCP down, failures
# back to 0 within 1 s (no probe call started more than 1 s after the drop fails).
# Env: BUILD, BASE, FACTORS ("1 2 4"), DUR (10), PROBE_S (3), RECOVER_RATE (BASE/10,
# at least 10), RECOVER_S (8), RM_EXTRA (more top-level keys of rm's config, e.g.
# '"overload": {"max_cps": 600}'), PROXIES ("rm kamailio"), KEEP=1 keeps the scratch dir,
# RM_WATCH=1 samples rm's overload series every 50 ms into rmF.watch there.
set -euo pipefail
TOP="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${BUILD:-build}"
case "$BUILD" in /*) B="$BUILD" ;; *) B="$TOP/$BUILD" ;; esac
RM="$B/bin/rm"
[ -x "$RM" ] || { echo "bench_overload: $RM missing (make BUILD=$BUILD $BUILD/bin/rm)" >&2; exit 1; }
command -v sipp >/dev/null || { echo "bench_overload: sipp missing (sip-tester)" >&2; exit 1; }
. "$TOP/tests/bench/lib_proxy.sh"
FACTORS="${FACTORS:-1 2 4}"; DUR="${DUR:-10}"; PROBE_S="${PROBE_S:-3}"

# offer NAME PORT RATE SECONDS [RECV_TIMEOUT_S [SCENARIO [LOG]]]: sipp SCENARIO
# (uac_rr.xml) at RATE calls/s for SECONDS into PORT; per-second statistics in
# $D/NAME.csv; LOG=1: the scenario's log actions write $D/NAME.calls.
offer() {
	local name=$1 pport=$2 rate=$3 secs=$4 rt=${5:-4} sf=${6:-uac_rr.xml} lp log=()
	lp=$(port)
	[ "${7:-0}" = 1 ] && log=(-trace_logs -log_file "$D/$name.calls")
	sipp "127.0.0.1:$pport" -sf "$TOP/etc/sipp/$sf" -s 1000 -i 127.0.0.1 -p "$lp" \
		-m $((rate * secs)) -r "$rate" -l $((rate * 8 + 100)) -d 10 -nostdin \
		-recv_timeout "${rt}s" -timeout $((secs + 20))s -timeout_error \
		-default_behaviors all,-abortunexp -max_socket 5000 \
		-trace_stat -stf "$D/$name.csv" -fd 1 "${log[@]}" >"$D/$name.sipp.log" 2>&1 || true
}

# stats CSV: "created ok failed last_failure_s" from a sipp -stf file.
stats() {
	/usr/bin/python3 - "$1" <<'PY'
import csv, sys
try:
    rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
except OSError:
    print("0 0 0 -"); sys.exit()
h = rows[0]
c = lambda r, n: r[h.index(n)]
secs = lambda t: sum(float(x) * m for x, m in zip(t.split(":"), (3600, 60, 1, 1e-6)))
last = rows[-1]
fail_at = "-"
for r in rows[1:]:
    if int(c(r, "FailedCall(P)")) > 0:
        fail_at = f"{secs(c(r, 'ElapsedTime(C)')):.1f}"
print(f"{c(last, 'TotalCallCreated')} {c(last, 'SuccessfulCall(C)')} "
      f"{c(last, 'FailedCall(C)')} {fail_at}")
PY
}

# recovery LOAD_CALLS PROBE_CALLS: from the per-call logs of the load and the probe,
# "drop_epoch ok failed last_fail_s late_failed late_total slowest_s": the probe's
# completed and failed calls; when the last failed one started, in s after the drop
# ("none" if no failed call started after the drop); of the probe calls started more
# than 1 s after the drop, how many failed, how many there were and the slowest
# INVITE-to-200 among them, s.
recovery() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import sys
def lines(path):
    try:
        return [l.split() for l in open(path, errors="replace")]
    except OSError:
        return []
load = [float(w[4]) for w in lines(sys.argv[1]) if len(w) >= 5 and w[0] == "load"]
calls = {}
for w in lines(sys.argv[2]):
    if len(w) >= 5 and w[0] in ("start", "answered", "ok", "fail"):
        calls.setdefault(w[1], {})[w[0]] = float(w[4])
if not load or not calls:
    print("0 0 0 - 0 0 -"); sys.exit()
drop = max(load)
ok = [c for c in calls.values() if "start" in c and "ok" in c]
bad = [c for c in calls.values() if "start" in c and "ok" not in c]
after = [c["start"] - drop for c in bad if c["start"] >= drop]
last = f"{max(after):.2f}" if after else "none"
late = [c for c in calls.values() if "start" in c and c["start"] > drop + 1]
late_bad = sum(1 for c in late if "ok" not in c)
setup = [c["answered"] - c["start"] for c in late if "answered" in c]
slow = f"{max(setup):.3f}" if setup else "-"
print(f"{drop:.6f} {len(ok)} {len(bad)} {last} {late_bad} {len(late)} {slow}")
PY
}

# watch_rm HTTP_PORT FILE (RM_WATCH=1, diagnosis): every 50 ms, one line in FILE:
# the time and rm's overload series (limit, queue, drops, in setup, lag, sheds).
watch_rm() {
	exec /usr/bin/python3 - "$1" "$2" <<'PY'
import sys, time, urllib.request
keys = ("rm_overload_cps_limit", "rm_udp_queued_bytes", "rm_udp_drops_total",
        "rm_calls_in_setup", "rm_loop_lag_seconds", 'rm_rejects_total{reason="overload"}',
        "rm_overload_filter_total", "rm_calls_active")
with open(sys.argv[2], "w") as out:
    out.write("t " + " ".join(keys) + "\n")
    while True:
        try:
            body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics",
                                          timeout=3).read().decode()
        except Exception:
            break
        v = {}
        for l in body.splitlines():
            n, _, x = l.rpartition(" ")
            if n in keys:
                v[n] = x
        out.write(f"{time.time():.3f} " + " ".join(v.get(k, "-") for k in keys) + "\n")
        out.flush()
        time.sleep(0.05)
PY
}

# pulse PID STOP_S RUN_S (PULSE="STOP_S RUN_S"): starve the proxy of CPU as a busy
# machine does, SIGSTOP for STOP_S then SIGCONT for RUN_S, until it exits.
pulse() {
	while kill -STOP "$1" 2>/dev/null; do
		sleep "$2"; kill -CONT "$1" 2>/dev/null || break; sleep "$3"
	done
}

metric_of() { # metric_of HTTP_PORT NAME
	/usr/bin/python3 - "$1" "$2" <<'PY'
import sys, urllib.request
try:
    body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=3).read().decode()
except Exception:
    print(0); sys.exit()
for line in body.splitlines():
    if line.startswith(sys.argv[2] + " ") or line.startswith(sys.argv[2] + "{"):
        if line.startswith(sys.argv[2]):
            print(line.split()[-1]); break
else:
    print(0)
PY
}

# ---- 1. clean capacity ------------------------------------------------------------------
if [ -z "${BASE:-}" ]; then
	UP=$(port); SP=$(port); HP=$(port)
	start_uas probe "$UP"; start_rm probe "$SP" "$HP" "$UP"
	bench_wait 10 rm_mcps_up "$HP" 1 || { echo "bench_overload: rm's MCP is not up" >&2; exit 1; }
	BASE=0
	for r in 250 500 1000 2000 4000 8000; do
		offer "probe$r" "$SP" "$r" "$PROBE_S"
		read -r off ok failed _ < <(stats "$D/probe$r.csv")
		echo "probe: $r calls/s offered for $PROBE_S s ($off created): $ok ok, $failed failed"
		[ "$failed" = 0 ] && [ "$ok" -ge $((r * PROBE_S * 99 / 100)) ] || break
		BASE=$r
	done
	[ "$BASE" -gt 0 ] || { BASE=250; echo "probe: not even 250 calls/s clean; using 250"; }
	stop_all
fi
RECOVER_RATE="${RECOVER_RATE:-$((BASE / 10 > 10 ? BASE / 10 : 10))}"; RECOVER_S="${RECOVER_S:-8}"
echo "bench_overload: clean capacity BASE=$BASE calls/s; ${DUR} s per load; recovery probe" \
	"$RECOVER_RATE calls/s for $RECOVER_S s from 1 s before the load's end"
printf '%-9s %4s %10s %12s %10s %7s %9s %8s %9s %s\n' proxy load "offered/s" "completed/s" \
	"% of BASE" failed "503 shed" "MCP down" "UDP drops" \
	"last failed probe call started (s after drop); probe calls started > 1 s after: failed/all, slowest setup"

# one PROXY FACTOR: a fresh proxy + MCP, the load, the recovery probe; prints a row.
one() {
	local proxy=$1 f=$2 rate=$(( $2 * BASE )) UP PP HP pid shed=0 down="n/a" drops="n/a"
	UP=$(port); PP=$(port); HP=$(port)
	start_uas "$proxy$f" "$UP"
	if [ "$proxy" = rm ]; then
		start_rm "rm$f" "$PP" "$HP" "$UP" "${RM_EXTRA:+, $RM_EXTRA}"; pid=$RMPID
	else
		start_kamailio "$PP" "$UP" || return 0; pid=$KPID
	fi
	bench_wait 10 udp_bound "$UP" || { echo "bench_overload: the MCP did not bind $UP" >&2; return 0; }
	if [ "$proxy" = rm ]; then
		bench_wait 10 rm_mcps_up "$HP" 1 || { echo "bench_overload: rm's MCP is not up" >&2; return 0; }
		if [ -n "${RM_WATCH:-}" ]; then watch_rm "$HP" "$D/rm$f.watch" & PIDS+=($!); fi
	fi
	# the load ACKs a 503 with Retry-After as a SIP Server would (uac_overload.xml),
	# rather than retransmitting its INVITE; completed calls are counted by the MCP
	local t0=$EPOCHREALTIME
	offer "$proxy${f}x" "$PP" "$rate" "$DUR" 4 uac_overload.xml 1 &
	local load=$!
	if [ -n "${PULSE:-}" ]; then pulse "$pid" $PULSE & PIDS+=($!); fi
	sleep $((DUR - 1)) # scenario: the probe starts 1 s before the load's nominal end
	offer "$proxy${f}r" "$PP" "$RECOVER_RATE" "$RECOVER_S" 4 uac_probe.xml 1
	wait "$load" || true
	read -r off _ _ _ < <(stats "$D/$proxy${f}x.csv")
	read -r drop rok rfailed rlast lbad lall slow < <(recovery "$D/$proxy${f}x.calls" "$D/$proxy${f}r.calls")
	sleep 1 # periodic writer: the MCP's statistics are written every second (no count to poll for)
	read -r _ mok _ _ < <(stats "$D/uas_$proxy$f.csv")
	ok=$((mok - rok)); [ "$ok" -ge 0 ] || ok=0
	if [ "$proxy" = rm ]; then
		shed=$(metric_of "$HP" 'rm_rejects_total{reason="overload"}'); shed=${shed%.*}
		drops=$(metric_of "$HP" rm_udp_drops_total); drops=${drops%.*}
		down=$(grep -c "is down" "$D/rm$f.log" || true)
	fi
	failed=$((rate * DUR - ok - shed)); [ "$failed" -ge 0 ] || failed=0
	off=$((off / DUR))
	local late
	late=$(awk "BEGIN{printf \"%.1f\", $drop - $t0 - $DUR}")
	printf '%-9s %3sx %10s %12.1f %9.1f%% %7s %9s %8s %9s %s\n' "$proxy" "$f" "$off" \
		"$(awk "BEGIN{print $ok / $DUR}")" "$(awk "BEGIN{print 100 * $ok / $DUR / $BASE}")" \
		"$failed" "$shed" "$down" "$drops" \
		"$rlast; $lbad/$lall, ${slow}s (probe: $rfailed of $((rok + rfailed)) failed; load ended ${late}s late)"
	stop_all
}

for proxy in ${PROXIES:-rm kamailio}; do
	if [ "$proxy" = kamailio ] && [ ! -x "$KAM" ]; then
		echo "kamailio not installed (INSTALL_EXTRA=kamailio scripts/install-deps): rm only"
		continue
	fi
	for f in $FACTORS; do one "$proxy" "$f"; done
done
