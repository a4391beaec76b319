#!/usr/bin/env bash
# rs's connection hygiene under a small open-file limit (prlimit 256, so it is cheap):
#  - the caps are sized from the limit and logged (168 STOMP, 24 HTTP at 256);
#  - a connection that never sends CONNECT is closed at stomp.connect_timeout_ms,
#    also when it keeps sending newlines;
#  - stomp.max_connections_per_source and stomp.max_connections refuse with ERROR,
#    the refusals logged at most once a second;
#  - 300 idle HTTP connections hold at most the HTTP cap of descriptors, and a STOMP
#    CONNECT+SEND+RECEIPT still works meanwhile;
#  - with the limit lowered under rs (accept() fails with EMFILE) 200 idle STOMP
#    connections neither flood the log nor peg the CPU, and once they close rs
#    accepts and receipts again.
. "$(dirname "$0")/lib/common.sh"
RAW="/usr/bin/python3 $HELPERS/stomp_raw.py"
sp=$(free_port); hp=$(free_port)
cat >"$T/rs.json" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $sp, "connect_timeout_ms": 1500,
             "max_connections_per_source": 100 },
  "http": { "listen": "127.0.0.1", "port": $hp },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$T/rs.db" } },
  "journal": { "dir": "$T/journal" } }
JSON
prlimit --nofile=256:256 "$BIN/rs" -c "$T/rs.json" >"$T/rs.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$sp" 10 || die "rs did not listen on $sp"
nfd() { ls "/proc/$rs/fd" | wc -l; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$rs/stat"; }

grep -q "open-file limit 256 .*up to 168 STOMP connections (100 per source), 24 HTTP" "$T/rs.log" ||
	die "caps not sized from the open-file limit: $(head -n 3 "$T/rs.log")"
ok "caps sized from the open-file limit and logged"

# CONNECT deadline: silent, and trickling newlines (a read timeout would be reset).
out=$($RAW noconnect "$sp" 3) || die "silent connection without CONNECT: $out"
ok "no CONNECT: $out (deadline 1.5 s)"
out=$($RAW noconnect "$sp" 3 0.3) || die "newline-trickling connection without CONNECT: $out"
ok "newlines but no CONNECT: $out"

# Caps: 101 from 127.0.0.1 (per-source cap 100), then 200 from two others (cap 168).
out=$($RAW flood "$sp" 101 1.5 127.0.0.1)
[[ "$out" == 'connected 100 refused 1 errors {"too many connections from this address": 1} pending 0' ]] ||
	die "per-source cap: $out"
ok "per-source cap: $out"
out=$($RAW flood "$sp" 200 1.5 127.0.0.2 127.0.0.3)
[[ "$out" == 'connected 168 refused 32 errors {"too many connections": 32} pending 0' ]] ||
	die "connection cap: $out"
ok "connection cap: $out"
n=$(grep -c "refused:" "$T/rs.log" || true)
[ "$n" -le 4 ] || die "$n refusal lines logged for 33 refusals"
ok "33 refusals, $n log lines"

# 300 idle HTTP connections: at most the HTTP cap of descriptors, STOMP unaffected.
base=$(nfd)
$RAW httpflood "$hp" 300 6 & hf=$!; bg_pid $hf
for _ in $(seq 50); do [ "$(nfd)" -ge $((base + 24)) ] && break; sleep 0.1; done
[ "$(nfd)" -ge $((base + 24)) ] || die "HTTP connections not accepted up to the cap ($(nfd) fds, base $base)"
out=$($RAW send "$sp" HTTPFLOOD-1) || die "STOMP with 300 idle HTTP connections: $out"
[ "$(nfd)" -le $((base + 26)) ] || die "HTTP connections beyond the cap: $(nfd) fds, base $base"
ok "300 idle HTTP connections: $(($(nfd) - base)) descriptors (cap 24); STOMP receipted"
kill $hf 2>/dev/null; wait $hf 2>/dev/null || true

# EMFILE: lower the limit under the running rs (its caps stay at 168).
prlimit --pid "$rs" --nofile=100:100
l0=$(wc -l <"$T/rs.log"); c0=$(cpu_ticks); t0=$EPOCHREALTIME
out=$($RAW flood "$sp" 200 3 127.0.0.4 127.0.0.5)
c1=$(cpu_ticks); l1=$(wc -l <"$T/rs.log")
dt=$(awk "BEGIN { print $EPOCHREALTIME - $t0 }")
hz=$(getconf CLK_TCK)
pct=$(awk "BEGIN { printf \"%d\", 100 * ($c1 - $c0) / $hz / $dt }")
grep -q "accept failed: Too many open files" "$T/rs.log" || die "EMFILE not reached: $out"
[ $((l1 - l0)) -lt 30 ] || die "$((l1 - l0)) log lines in ${dt}s at EMFILE"
[ "$pct" -lt 30 ] || die "rs used ${pct}% CPU at EMFILE"
ok "EMFILE with 200 idle connections ($out): $((l1 - l0)) log lines in ${dt}s, ${pct}% CPU"
t0=$EPOCHREALTIME
out=$($RAW send "$sp" AFTER-EMFILE-1) || die "no receipt after the idle connections closed: $out"
ok "accepting again after EMFILE: receipt in $(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $t0 }") s"
kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM"
ok "SIGTERM exit 0"
