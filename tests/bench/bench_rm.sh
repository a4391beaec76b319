#!/usr/bin/env bash
# rm proxy benchmark (not a test): sipp UAC -> proxy -> sipp UAS (record-routed
# INVITE/180/200/ACK/BYE/200, etc/sipp/uac_rr.xml + uas_rr.xml, UDP), through rm as
# deployed (billing on) and through Kamailio 5.6 (etc/kamailio/kamailio.cfg, one
# worker, no accounting), in the same run.
#
# rm runs once per billing mode in MODES:
#   stomp       records spooled, then published over STOMP to a real rs (SQLite);
#               rm's CPU is counted until its spool is drained (every record
#               receipted), and rs's rows are counted against rm's records.
#   spool-only  records spooled to disk only (rm alone as a proxy).
#   off         no records (not a deployed configuration; for comparison).
#   MODE:none   (stomp:none, spool-only:none) the same with billing.events none: one
#               record per call, no call.start/answer/end events.
# For each run it prints calls/s, failed calls, CPU microseconds per call
# (utime+stime of every thread/process of the proxy, from /proc, before/after),
# peak RSS (VmHWM, summed over processes), sipp's INVITE->200 time, and for rm its
# own state per call (session, dialog, call, billing: struct sizes from the binary's
# debug information, with gdb) beside what the rest of the peak RSS is per call;
# then, per mode, the rm/Kamailio ratios of that round. With RUNS > 1 every round
# runs every configuration and the summary gives medians.
#
# CAPACITY=1 adds a capacity search: rm (billing stomp) and Kamailio with 4 workers,
# at each rate in CAP_RATES (CAP_SECS seconds of calls each) until a rate fails; the
# highest rate with 0 failed calls is printed for each.
#
# Env: BUILD (default build), CALLS (10000), RATE (1000), RUNS (1; 0 with CAPACITY=1
# runs only the search), MODES ("stomp spool-only"), CAPACITY (0), CAP_RATES ("1000 1500 2000 2500 3000 4000"), CAP_SECS
# (5), BENCH_DIR, KEEP=1 keeps the scratch directory.
set -euo pipefail
TOP="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${BUILD:-build}"
case "$BUILD" in /*) B="$BUILD" ;; *) B="$TOP/$BUILD" ;; esac
CALLS="${CALLS:-10000}"; RATE="${RATE:-1000}"; RUNS="${RUNS:-1}"
MODES="${MODES:-stomp spool-only}"
CAPACITY="${CAPACITY:-0}"; CAP_RATES="${CAP_RATES:-1000 1500 2000 2500 3000 4000}"
CAP_SECS="${CAP_SECS:-5}"
RM="$B/bin/rm"; RS="$B/bin/rs"
[ -x "$RM" ] || { echo "bench_rm: $RM missing (make BUILD=$BUILD $BUILD/bin/rm)" >&2; exit 1; }
[ -x "$RS" ] || { echo "bench_rm: $RS missing (make BUILD=$BUILD $BUILD/bin/rs)" >&2; exit 1; }
command -v sipp >/dev/null || { echo "bench_rm: sipp missing (sip-tester)" >&2; exit 1; }
. "$TOP/tests/bench/lib_proxy.sh"

# sipp_run NAME PROXY_PORT CALLS RATE: drive the calls, sipp's stats in $D/NAME.csv;
# sets SIPP_RC.
sipp_run() {
	local lp; lp=$(port)
	SIPP_RC=0
	sipp "127.0.0.1:$2" -sf "$TOP/etc/sipp/uac_rr.xml" -s 1000 -i 127.0.0.1 -p "$lp" \
		-m "$3" -r "$4" -l "$3" -nostdin -recv_timeout 10s -timeout 120s \
		-timeout_error -default_behaviors all,-abortunexp -max_socket 5000 \
		-trace_stat -stf "$D/$1.csv" -fd 1 >"$D/$1.sipp.log" 2>&1 || SIPP_RC=$?
}

# row ROUND NAME CPU_US RSS_KB T0 T1 EXTRA: print one result row (and keep its figures
# in $D/rows, tab-separated, for the summary).
row() {
	/usr/bin/python3 - "$D/$2.csv" "$@" "$SIPP_RC" "$D/rows" <<'PY'
import csv, sys
path, rnd, name, cpu, rss, t0, t1, extra, rc, out = sys.argv[1:]
rows = list(csv.reader(open(path), delimiter=';'))
h, last = rows[0], rows[-1]
col = lambda n: last[h.index(n)]
ok, failed = int(col("SuccessfulCall(C)")), int(col("FailedCall(C)"))
rt = col("ResponseTime1(C)")  # hh:mm:ss:usec, millisecond resolution
hh, mm, ss, us = (int(x) for x in rt.split(":"))
rt_ms = (hh * 3600 + mm * 60 + ss) * 1000 + us / 1000
done = ok + failed
cpu_call = int(cpu) / max(done, 1)
rt_s = f"{rt_ms:.0f} ms" if rt_ms >= 1 else "<1 ms"
print(f"{name:14s} calls/s {float(col('CallRate(C)')):7.1f}  ok {ok:6d}  failed {failed:5d}  "
      f"cpu/call {cpu_call:7.1f} us  peak RSS {int(rss) / 1024:6.1f} MB  INVITE->200 {rt_s}"
      f"  ({float(t1) - float(t0):.1f} s, sipp exit {rc}){extra}", flush=True)
with open(out, "a") as f:
    f.write(f"{rnd}\t{name}\t{cpu_call:.1f}\t{failed}\t{int(rss)}\n")
PY
}

# rm_run ROUND MODE [CALLS RATE]: rm with billing MODE in front of a sipp MCP (and,
# for stomp, a real rs on SQLite); one row. Sets LAST_FAILED.
rm_run() {
	local rnd=$1 mode=${2%%:*} calls=${3:-$CALLS} rate=${4:-$RATE} name="rm-$2" extra=""
	local up sp hp rsp rhp c0 c1 rc0 rc1 t0 t1 rss built stored depth ev="" base
	case "$2" in *:*) ev=", \"events\": \"${2#*:}\"" ;; esac
	[ "$rnd" = cap ] && name="cap-rm-$rate"
	local dir="$D/$name.$rnd" # spool, database, journal: fresh for every run
	mkdir -p "$dir"
	up=$(port); sp=$(port); hp=$(port)
	start_uas "$name" "$up"
	case "$mode" in
	stomp)
		rsp=$(port); rhp=$(port)
		cat >"$D/$name.rs.json" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $rsp },
  "http": { "listen": "127.0.0.1", "port": $rhp },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$dir/rs.db" } },
  "journal": { "dir": "$dir/journal" } }
JSON
		"$RS" -c "$D/$name.rs.json" >"$D/$name.rs.log" 2>&1 &
		RSPID=$!; PIDS+=($RSPID)
		bench_wait 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$rsp" ||
			{ echo "bench_rm: rs did not start:"; tail "$D/$name.rs.log"; return 1; }
		RM_BILLING="{ \"mode\": \"stomp\", \"endpoints\": [\"127.0.0.1:$rsp\"], \"spool_dir\": \"$dir/spool\"$ev }" \
			start_rm "$name" "$sp" "$hp" "$up" ;;
	spool-only)
		RM_BILLING="{ \"mode\": \"spool-only\", \"spool_dir\": \"$dir/spool\"$ev }" \
			start_rm "$name" "$sp" "$hp" "$up" ;;
	*)	start_rm "$name" "$sp" "$hp" "$up" ;;
	esac
	bench_wait 10 rm_mcps_up "$hp" 1 || { echo "bench_rm: rm's MCP is not up" >&2; return 1; }
	if [ "$mode" = stomp ]; then
		bench_wait 10 metric_is "$hp" rm_billing_publisher_connected 1 ||
			{ echo "bench_rm: rm did not connect to rs" >&2; return 1; }
		rc0=$(cpu_us "$RSPID")
	fi
	base=$(rss_kb "$RMPID")
	c0=$(cpu_us "$RMPID"); t0=$EPOCHREALTIME
	sipp_run "$name" "$sp" "$calls" "$rate"
	t1=$EPOCHREALTIME
	if [ "$mode" = stomp ]; then
		# rm's work for a call ends when rs has receipted its record
		bench_wait 60 metric_is "$hp" rm_spool_depth 0 || true
	fi
	c1=$(cpu_us "$RMPID")
	rss=$(rss_kb "$RMPID")
	depth=$(metric "$hp" rm_spool_depth); depth=${depth%.*}
	extra="$(RM_MODE=$mode rm_state "$base" "$rss" "$calls" "$rate" "${depth:-0}")"
	if [ "$mode" = stomp ]; then
		rc1=$(cpu_us "$RSPID")
		built=$(metric "$hp" rm_billing_records_total)
		stored=$(sqlite3 -cmd ".timeout 10000" "$dir/rs.db" "select count(*) from cdr" 2>/dev/null || echo "?")
		extra="${extra:+$extra; }records built ${built%.*}, in rs ${stored}, spool depth ${depth}; rs cpu/call $(( (rc1 - rc0) / calls )) us"
	fi
	row "$rnd" "$name" "$((c1 - c0))" "$rss" "$t0" "$t1" "${extra:+
               $extra}"
	LAST_FAILED=$(tail -1 "$D/rows" | cut -f4)
	stop_all
}

# kam_run ROUND [WORKERS CALLS RATE]: Kamailio in front of a sipp MCP; one row.
kam_run() {
	local rnd=$1 n=${2:-1} calls=${3:-$CALLS} rate=${4:-$RATE} name=kamailio up kp c0 c1 t0 t1
	[ "$rnd" = cap ] && name="cap-kam$n-$rate"
	up=$(port); kp=$(port)
	start_uas "$name" "$up"
	start_kamailio "$kp" "$up" "$n" || return 1
	c0=$(cpu_us "$KPID"); t0=$EPOCHREALTIME
	sipp_run "$name" "$kp" "$calls" "$rate"
	t1=$EPOCHREALTIME
	c1=$(cpu_us "$KPID")
	row "$rnd" "$name" "$((c1 - c0))" "$(rss_kb "$KPID")" "$t0" "$t1" ""
	LAST_FAILED=$(tail -1 "$D/rows" | cut -f4)
	stop_all
}

# metric_is HTTP_PORT NAME VALUE: 0 if rm's metric NAME equals VALUE.
metric_is() {
	local v; v=$(metric "$1" "$2") || return 1
	[ -n "$v" ] && awk -v a="$v" -v b="$3" 'BEGIN { exit !(a == b) }'
}

# Sizes of rm's own per-call structures, from the binary's debug information (gdb;
# empty if gdb or the information is missing): "session dialog call track ent".
rm_sizes() {
	command -v gdb >/dev/null || return 0
	gdb -batch -ex 'print sizeof(struct session)' -ex 'print sizeof(struct dialog)' \
		-ex 'print sizeof(struct call)' -ex 'print sizeof(struct track)' \
		-ex 'print sizeof(struct ent)' "$RM" 2>/dev/null | awk '/^\$/ {printf "%s ", $3}'
}
SIZES=$(rm_sizes)

# rm_state BASE_KB PEAK_KB CALLS RATE DEPTH: one line on rm's own state per call
# (session, dialog and struct call while the call is live: with the bench's short
# calls, the calls set up in the last T4; billing per unreleased record) beside the
# rest of the peak RSS growth, which is sofia-sip's (an answered INVITE's server
# transaction, kept T4 = 5 s after its 2xx; nothing else outlives the call since rm
# lets its INVITE client transaction go at the first provisional and forwards BYEs
# statelessly, issue 12) and the allocator's, per call made and per call held.
rm_state() {
	[ -n "$SIZES" ] || return 0
	/usr/bin/python3 - "$@" $SIZES <<'PY'
import os, sys
base, peak, calls, rate, depth, ses, dlg, call, track, ent = (int(float(x)) for x in sys.argv[1:11])
if os.environ.get("RM_MODE") != "stomp":
    track = 0                             # the delivery tracker is kept for the publisher only
held = min(calls, 5 * rate)               # answered INVITEs whose server transaction nta holds (T4)
own = depth * (track + ent)               # bytes: billing records not yet released
live = held * (ses + dlg + call)          # an upper bound: calls are far shorter than T4 here
rest = (peak - base) * 1024 - own
print(f"rm's own state: session {ses} B + dialog {dlg} B (+ its header strings) + call {call} B"
      f" per live call (at most {live / 1048576:.1f} MB here), billing {track + ent} B per"
      f" unreleased record ({own / 1048576:.1f} MB for {depth}); the rest (sofia-sip's"
      f" transactions and messages, the allocator): {rest / 1048576:.1f} MB ="
      f" {rest / max(calls, 1) / 1024:.1f} KB per call made, {rest / max(held, 1) / 1024:.1f} KB per"
      f" call held T4 (RSS {base / 1024:.0f} MB idle, {peak / 1024:.0f} MB peak)")
PY
}

echo "bench_rm: $CALLS calls at $RATE/s, UDP, record-routed, sipp UAC -> proxy -> sipp UAS;" \
	"rm billing modes: $MODES; $RUNS round(s)"
for r in $(seq "$RUNS"); do
	[ "$RUNS" -gt 1 ] && echo "--- round $r"
	for m in $MODES; do rm_run "$r" "$m" || stop_all; done
	kam_run "$r" || stop_all
done

# Summary: per rm configuration, the median of its CPU per call, of its ratio to
# Kamailio's in the same round, failures per round, and the median peak RSS ratio.
[ -s "$D/rows" ] && /usr/bin/python3 - "$D/rows" "$RUNS" <<'PY'
import statistics as st, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if "\t" in l]
by = {}
for rnd, name, cpu, failed, rss in rows:
    if rnd == "cap":
        continue
    by.setdefault(name, {})[rnd] = (float(cpu), int(failed), int(rss))
kam = by.get("kamailio", {})
med = lambda v: st.median(v) if v else float("nan")
print(f"summary ({sys.argv[2]} round(s); medians; ratio = rm / Kamailio (1 worker, no accounting) in the same round):")
if kam:
    print(f"  kamailio        cpu/call {med([v[0] for v in kam.values()]):6.1f} us  "
          f"peak RSS {med([v[2] for v in kam.values()]) / 1024:6.1f} MB  "
          f"failed {','.join(str(v[1]) for v in kam.values())}")
for name, runs in by.items():
    if name == "kamailio":
        continue
    cr = [runs[r][0] / kam[r][0] for r in runs if r in kam and kam[r][0] > 0]
    rr = [runs[r][2] / kam[r][2] for r in runs if r in kam and kam[r][2] > 0]
    fails = [runs[r][1] for r in runs]
    c, m = med(cr), med(rr)
    goal = ("met" if c <= 0.7 and m <= 0.5 and not any(fails) else "NOT met")
    print(f"  {name:14s}  cpu/call {med([v[0] for v in runs.values()]):6.1f} us  "
          f"peak RSS {med([v[2] for v in runs.values()]) / 1024:6.1f} MB  "
          f"failed {','.join(map(str, fails))}  CPU ratio {c:.2f}  RSS ratio {m:.2f}  "
          f"(goal <= 0.70 CPU, <= 0.50 RSS, 0 failed: {goal})")
PY

if [ "$CAPACITY" = 1 ]; then
	echo "capacity search: $CAP_SECS s of calls per rate, rates $CAP_RATES; first failure stops"
	best_rm=0; best_kam=0
	for rate in $CAP_RATES; do
		rm_run cap stomp $((rate * CAP_SECS)) "$rate" || { stop_all; break; }
		[ "$LAST_FAILED" = 0 ] || break
		best_rm=$rate
	done
	for rate in $CAP_RATES; do
		kam_run cap 4 $((rate * CAP_SECS)) "$rate" || { stop_all; break; }
		[ "$LAST_FAILED" = 0 ] || break
		best_kam=$rate
	done
	echo "capacity (highest clean rate tried): rm billing stomp $best_rm calls/s," \
		"Kamailio 4 workers $best_kam calls/s"
fi
