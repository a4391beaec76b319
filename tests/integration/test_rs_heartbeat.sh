#!/usr/bin/env bash
# STOMP 1.2 heart-beat negotiation at rs's listener (stomp.heartbeat_ms 1000,
# stomp.connect_timeout_ms 1000, so both run out well inside the idle time):
#  - heart-beat:0,0, no heart-beat header, and 0,500 (rs sends, expects nothing): idle
#    3.5 s, still open, SEND with a receipt works; with 0,500 rs's beats arrive;
#  - control: a client offering 1000,0 (it promises beats) and then silent is closed
#    after the interval plus the margin (2 s).
. "$(dirname "$0")/lib/common.sh"
RAW="/usr/bin/python3 $HELPERS/stomp_raw.py"
sp=$(free_port); hp=$(free_port)
cat >"$T/rs.json" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $sp, "heartbeat_ms": 1000,
             "connect_timeout_ms": 1000 },
  "http": { "listen": "127.0.0.1", "port": $hp },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$T/rs.db" } },
  "journal": { "dir": "$T/journal" } }
JSON
"$BIN/rs" -c "$T/rs.json" >"$T/rs.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$sp" 10 || die "rs did not listen on $sp"

$RAW send "$sp" HB-00 0,0 3.5 >"$T/c1.log" & c1=$!
$RAW send "$sp" HB-none - 3.5 >"$T/c2.log" & c2=$!
$RAW send "$sp" HB-0500 0,500 3.5 >"$T/c3.log" & c3=$!
$RAW silent "$sp" 1000,0 5 >"$T/c4.log" & c4=$!
wait $c1 || die "heart-beat:0,0 idle 3.5 s: $(cat "$T/c1.log")"
ok "heart-beat:0,0: idle 3.5 s, then receipted ($(cat "$T/c1.log"))"
wait $c2 || die "no heart-beat header, idle 3.5 s: $(cat "$T/c2.log")"
ok "no heart-beat header: idle 3.5 s, then receipted"
wait $c3 || die "heart-beat:0,500 idle 3.5 s: $(cat "$T/c3.log")"
beats=$(awk '/heart-beats received/ { print $NF }' "$T/c3.log")
[ "${beats:-0}" -ge 2 ] || die "heart-beat:0,500: rs sent ${beats:-0} beats in 3.5 s"
ok "heart-beat:0,500: idle 3.5 s, $beats beats from rs, then receipted"
wait $c4 || die "a silent client that promised beats was not closed: $(cat "$T/c4.log")"
t=$(awk '/closed after/ { print $3 }' "$T/c4.log")
awk "BEGIN { exit !($t >= 1.5 && $t <= 3.5) }" || die "silent 1000,0 client closed after $t s, want about 2"
ok "control: heart-beat:1000,0 and silent: closed after $t s"
[ "$(sqlite3 "$T/rs.db" "select count(*) from cdr where id like 'HB-%'")" = 3 ] || die "records missing"
kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM"
