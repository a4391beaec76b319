#!/usr/bin/env bash
# rs reports on a real PostgreSQL 15 (scripts/pg-start), the property test of
# test_rs_report.sh: 400 random calls and 40 duplicates with other times, sent over
# two connections in small batches; every rollup row and every API answer (peaks in
# all granularities, filters and three time zones; details pages; CSV export;
# summary) equals a brute force over the raw cdr rows (lib/report_prop.py). Then a
# second rs on the same database ingests 200 more while the first does too: the
# rollups still agree (two writers on one bucket cannot lose each other's calls).
. "$(dirname "$0")/lib/common.sh"
chmod 755 "$T"
pp=$(free_port); sp=$(free_port); hp=$(free_port); sp2=$(free_port)
"$TOP/scripts/pg-start" "$T/pg" "$pp" || die "pg-start"
trap 'rc=$?; set +e; "$TOP/scripts/pg-stop" "$T/pg"; (exit $rc); _cleanup' EXIT
conf() {
	cat >"$1" <<JSON
{ "stomp": { "port": $2 }, "http": { "port": $3 },
  "storage": { "backend": "postgresql",
               "postgresql": { "conninfo": "host=127.0.0.1 port=$pp dbname=rs user=postgres" } },
  "writer": { "batch_max": 50 },
  "report": { "retention_days": { "five_minutes": 0, "thirty_minutes": 0, "hour": 0 },
              "export_page": 7 },
  "journal": { "dir": "$4" } }
JSON
}
conf "$T/rs.json" "$sp" "$hp" "$T/journal"
conf "$T/rs2.json" "$sp2" 0 "$T/journal2"
"$BIN/rs" -c "$T/rs.json" --init >"$T/init.log" 2>&1 || die "rs --init"
"$BIN/rs" -c "$T/rs.json" >"$T/rs.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$sp" 10 || die "rs did not listen"
wait_port "$hp" 10 || die "rs HTTP did not listen"
P=("$HELPERS/report_prop.py")
DB="pg:$pp"

/usr/bin/python3 "${P[@]}" send "$sp" 2 400 || die "sending"
/usr/bin/python3 "${P[@]}" rollups "$DB" || die "rollups differ from brute force"
ok "every rollup row equals the brute force over cdr (PostgreSQL)"
/usr/bin/python3 "${P[@]}" api "$DB" "$hp" || die "API differs from brute force"
ok "peaks, details pages, CSV export and summary equal the brute force (PostgreSQL)"

"$BIN/rs" -c "$T/rs2.json" >"$T/rs2.log" 2>&1 &
rs2=$!; bg_pid $rs2
wait_port "$sp2" 10 || die "rs2 did not listen"
/usr/bin/python3 "${P[@]}" send "$sp" 3 200 & a=$!
/usr/bin/python3 "${P[@]}" send "$sp2" 4 200 & b=$!
wait $a || die "sending to rs"
wait $b || die "sending to rs2"
/usr/bin/python3 "${P[@]}" rollups "$DB" || die "rollups differ after two writers"
ok "two rs writing one PostgreSQL at once: rollups still equal the brute force"
curl -s -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$hp/ems-rs/operations/peaks/RM?from=2026-03-07&tenant-id=a&app-id=b" | grep -q 400 \
	|| die "two filters not refused"
grep -q '"parameter": "app-id"' "$T/body" || die "400 does not name app-id: $(cat "$T/body")"
ok "two filters: 400 naming app-id"
kill -TERM $rs $rs2; wait $rs || die "rs exited $? on SIGTERM"
