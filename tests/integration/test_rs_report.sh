#!/usr/bin/env bash
# rs reports on SQLite, a property test: 400 random calls (overlapping, crossing
# 5-minute, hour and day edges, around New York's DST change, zero-length and
# hours-long ones) plus 40 duplicates with other times from python3-stomp, then
#  - every rollup row (5 min, 30 min, hour, day, change points) equals a brute force
#    over the raw cdr rows (tests/integration/lib/report_prop.py);
#  - every peaks answer (6 granularities x 7 filters x UTC/New York/Kolkata), details
#    paged with the cursor, the streamed CSV (read 7 records a time, so the pages and
#    their hand-over are exercised) and the summary equal the brute force;
#  - bad requests get 400 naming the parameter; rs stays up;
#  - then 200 calls starting within 20 minutes (every batch of 50 falls in buckets
#    the writer holds in memory, rs/store/rollup_cache.h), rs restarted (its memory
#    cold: buckets are read back from cdr and rollup_cp), 200 more in the same 20
#    minutes: the rollups still equal the brute force.
. "$(dirname "$0")/lib/common.sh"
sp=$(free_port); hp=$(free_port)
cat >"$T/rs.json" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $sp },
  "http": { "listen": "127.0.0.1", "port": $hp },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$T/rs.db" } },
  "writer": { "batch_max": 50 },
  "report": { "retention_days": { "five_minutes": 0, "thirty_minutes": 0, "hour": 0 },
              "export_page": 7 },
  "journal": { "dir": "$T/journal" } }
JSON
"$BIN/rs" -c "$T/rs.json" >"$T/rs.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$sp" 10 || die "rs did not listen on $sp"
wait_port "$hp" 10 || die "rs HTTP did not listen on $hp"
P=("$HELPERS/report_prop.py")

/usr/bin/python3 "${P[@]}" send "$sp" 1 400 || die "sending"
[ "$(sqlite3 "$T/rs.db" 'select count(*) from cdr')" = 400 ] || die "expected 400 rows"
/usr/bin/python3 "${P[@]}" rollups "sqlite:$T/rs.db" || die "rollups differ from brute force"
ok "every rollup row equals the brute force over cdr"
/usr/bin/python3 "${P[@]}" api "sqlite:$T/rs.db" "$hp" || die "API differs from brute force"
ok "peaks, details pages, CSV export and summary equal the brute force"

# code_of PATH?QUERY: the HTTP status and body (first line) of a GET
code_of() { curl -s -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$hp$1"; }
bad() {
	local c; c=$(code_of "$1")
	[ "$c" = 400 ] || die "$1: HTTP $c, want 400 ($(head -c 200 "$T/body"))"
	grep -q "\"parameter\": \"$2\"" "$T/body" || die "$1: body does not name $2: $(cat "$T/body")"
}
pk=/ems-rs/operations/peaks/RM
bad "$pk?granularity=HOUR" from
bad "$pk?from=2026-03-07T00:00:00Z&tenant-id=acme&dn=800*" dn
bad "$pk?from=2026-03-07T00:00:00Z&granularity=YEAR" granularity
bad "$pk?from=2026-03-07T00:00:00Z&granularity=DAY&tz=Mars/Olympus" tz
bad "$pk?from=2026-03-07T00:00:00Z&tz=../../etc/passwd" tz
bad "$pk?from=yesterday" from
bad "$pk?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&granularity=FIVE_MINUTES" to
bad "/ems-rs/HIST/CDRs/RM/details?from=2026-03-07&limit=0" limit
bad "/ems-rs/HIST/CDRs/RM/details?from=2026-03-07&cursor=zz" cursor
bad "/ems-rs/HIST/CDRs/RM/summary?from=2026-03-07&format=pdf" format
c=$(code_of "/ems-rs/operations/nothing?from=2026-03-07") ; [ "$c" = 404 ] || die "unknown report: $c"
c=$(code_of "$pk?from=2026-03-07T00:00:00Z&to=2026-03-07T02:00:00Z&format=xml")
[ "$c" = 200 ] && grep -q '<peaks granularity="HOUR"' "$T/body" || die "XML peaks: $c $(head -c 200 "$T/body")"
c=$(code_of "$pk?from=2026-03-07T00:00:00Z&to=2026-03-07T02:00:00Z&format=csv")
[ "$c" = 200 ] && [ "$(head -1 "$T/body" | tr -d '\r')" = "start,peak,arrivals" ] && [ "$(wc -l <"$T/body")" = 3 ] \
	|| die "CSV peaks: $c $(cat "$T/body")"
ok "bad requests: 400 naming the parameter (from, dn, granularity, tz, to, limit, cursor, format); XML and CSV answers"
kill -0 $rs || die "rs died"
kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM"
ok "rs exits 0 on SIGTERM"

# Dense: the same few buckets batch after batch, then again after a restart.
T1=$((1772841600000 + 86400000 + 1234)) # inside the first run's range: overlaps it
start_rs() {
	"$BIN/rs" -c "$T/rs.json" >>"$T/rs.log" 2>&1 &
	rs=$!; bg_pid $rs
	wait_port "$sp" 10 || die "rs did not listen again on $sp"
}
start_rs
/usr/bin/python3 "${P[@]}" send "$sp" 5 200 "$T1" 1200000 || die "sending (dense)"
/usr/bin/python3 "${P[@]}" rollups "sqlite:$T/rs.db" || die "rollups differ after dense batches"
kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM"
start_rs
/usr/bin/python3 "${P[@]}" send "$sp" 6 200 "$T1" 1200000 || die "sending (dense, after restart)"
/usr/bin/python3 "${P[@]}" rollups "sqlite:$T/rs.db" || die "rollups differ after dense batches and a restart"
ok "dense batches on cached buckets, and again after a restart: rollups equal the brute force"
kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM"
