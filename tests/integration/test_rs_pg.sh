#!/usr/bin/env bash
# rs + a real PostgreSQL 15 (scripts/pg-start): 10,000 CDRs with receipts from
# python3-stomp -> exactly 10,000 rows; sent again -> still 10,000, duplicates counted;
# then 50,000 more from stomp_load.
. "$(dirname "$0")/lib/common.sh"
pp=$(free_port); sp=$(free_port); hp=$(free_port)
pg_up "$pp"
cat >"$T/rs.json" <<JSON
{ "stomp": { "port": $sp }, "http": { "port": $hp },
  "storage": { "backend": "postgresql",
               "postgresql": { "conninfo": "host=127.0.0.1 port=$pp dbname=rs user=postgres" } },
  "journal": { "dir": "$T/journal" } }
JSON
"$BIN/rs" -c "$T/rs.json" --init >"$T/init.log" 2>&1 || die "rs --init"
"$BIN/rs" -c "$T/rs.json" >"$T/rs.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$sp" 10 || die "rs did not listen"
count() { /usr/bin/python3 "$HELPERS/testlib.py" count "pg:$pp" "$1"; }

/usr/bin/python3 "$HELPERS/stomp_client.py" send "$sp" P 10000 || die "first 10,000"
[ "$(count cdr)" = 10000 ] || die "expected 10000 rows, got $(count cdr)"
ok "10,000 receipted -> 10,000 rows in PostgreSQL"
/usr/bin/python3 "$HELPERS/stomp_client.py" send "$sp" P 10000 || die "resend"
[ "$(count cdr)" = 10000 ] || die "resend added rows: $(count cdr)"
[ "$(metric "$hp" rs_records_duplicates_total)" = 10000 ] || die "duplicates not counted"
ok "resent: still 10,000 rows, 10,000 duplicates counted"
"$BIN/../tools/stomp_load" -p "$sp" -n 50000 -w 5000 -i L || die "stomp_load"
[ "$(count cdr)" = 60000 ] || die "expected 60000 rows, got $(count cdr)"
v=$(psql -X -A -t -h 127.0.0.1 -p "$pp" -U postgres rs -c \
	"select disposition||','||sip_status||','||(body->>'tenant')||','||coalesce(usage_level,'-') from cdr where id='L-7'")
[ "$v" = "answered,200,acme,L1" ] || die "columns/body wrong: $v"
/usr/bin/python3 "$HELPERS/stomp_client.py" bad "$sp" B || die "bad-record scenario"
[ "$(count events)" = 1 ] && [ "$(count metrics)" = 1 ] || die "events/metrics not stored"
ok "stomp_load 50,000 more -> 60,000 rows; bad records refused"
kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM"
