#!/usr/bin/env bash
# Report retention on SQLite: raw records and 5-minute rollups (with their change
# points) older than report.retention_days go, a few rows per statement, on the
# report thread; what is younger stays; coarser rollups with retention 0 stay; rs keeps
# receipting while it deletes. 100 calls nine months old and 60 of the last three days.
. "$(dirname "$0")/lib/common.sh"
sp=$(free_port); hp=$(free_port)
cat >"$T/rs.json" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $sp },
  "http": { "listen": "127.0.0.1", "port": $hp },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$T/rs.db" } },
  "report": { "retention_days": { "raw": 30, "five_minutes": 30, "thirty_minutes": 0,
                                  "hour": 0, "day": 0 },
              "retention_batch": 7, "retention_interval_s": 1 },
  "journal": { "dir": "$T/journal" } }
JSON
"$BIN/rs" -c "$T/rs.json" >"$T/rs.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$sp" 10 || die "rs did not listen on $sp"
q() { sqlite3 -cmd ".timeout 10000" "$T/rs.db" "$1"; }
now=$(date +%s%3N)
old=$((now - 270 * 86400000)); recent=$((now - 3 * 86400000 - 3600000))
/usr/bin/python3 "$HELPERS/report_prop.py" send "$sp" 5 100 "$old" || die "sending old"
/usr/bin/python3 "$HELPERS/report_prop.py" send "$sp" 6 60 "$recent" || die "sending recent"
cut=$((now - 30 * 86400000))
gone() { [ "$(q "select (select count(*) from cdr where start_ms < $cut) + (select count(*) from rollup_5m where bucket_ms < $cut) + (select count(*) from rollup_cp where ms < $cut)")" = 0 ]; }
wait_for 30 gone || die "old rows still there: $(q "select count(*) from cdr where start_ms < $cut") raw"
[ "$(q 'select count(*) from cdr')" = 60 ] || die "recent records deleted: $(q 'select count(*) from cdr') left"
[ "$(q "select count(*) from rollup_5m where bucket_ms >= $((recent / 300000 * 300000))")" -gt 0 ] || die "recent rollups deleted"
[ "$(q "select count(*) from rollup_hour where bucket_ms < $cut")" -gt 0 ] || die "hour rollups (retention 0) deleted"
grep -q "retention: .* rows older than their limit deleted" "$T/rs.log" || die "no retention log line"
ok "retention: old raw records, 5-minute rollups and change points deleted in batches of 7; recent rows and hour rollups kept"
/usr/bin/python3 "$HELPERS/stomp_client.py" send "$sp" N 200 || die "ingest after retention"
ok "ingest goes on"
kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM"
