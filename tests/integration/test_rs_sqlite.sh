#!/usr/bin/env bash
# rs + SQLite with python3-stomp as the foreign client:
#  - 10,000 CDRs with receipts -> exactly 10,000 rows; sent again -> still 10,000 and
#    10,000 duplicates in /metrics;
#  - a record with a missing field and one with an ill-typed field get an ERROR naming
#    the field; nothing stored for them; earlier records on the connection stored;
#  - events and metrics records stored as JSON.
. "$(dirname "$0")/lib/common.sh"
sp=$(free_port); hp=$(free_port)
cat >"$T/rs.json" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $sp },
  "http": { "listen": "127.0.0.1", "port": $hp },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$T/rs.db" } },
  "journal": { "dir": "$T/journal" } }
JSON
"$BIN/rs" -c "$T/rs.json" >"$T/rs.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$sp" 10 || die "rs did not listen on $sp"
q() { sqlite3 "$T/rs.db" "$1"; }

/usr/bin/python3 "$HELPERS/stomp_client.py" send "$sp" A 10000 || die "first 10,000"
[ "$(q 'select count(*) from cdr')" = 10000 ] || die "expected 10000 rows, got $(q 'select count(*) from cdr')"
ok "10,000 records receipted and stored"
/usr/bin/python3 "$HELPERS/stomp_client.py" send "$sp" A 10000 || die "resend"
[ "$(q 'select count(*) from cdr')" = 10000 ] || die "resend added rows: $(q 'select count(*) from cdr')"
d=$(metric "$hp" rs_records_duplicates_total)
[ "$d" = 10000 ] || die "rs_records_duplicates_total = $d, want 10000"
ok "resent 10,000: still 10,000 rows, 10,000 duplicates counted"
[ "$(q "select count(*) from cdr where id='A-42' and disposition='answered' and sip_status=200 and json_extract(body,'$.tenant')='acme'")" = 1 ] \
	|| die "decoded columns or body wrong"

/usr/bin/python3 "$HELPERS/stomp_client.py" bad "$sp" B || die "bad-record scenario"
[ "$(q "select count(*) from cdr where id like 'B-good-%'")" = 4 ] || die "earlier good records missing"
[ "$(q "select count(*) from cdr where id in ('B-missing','B-typed')")" = 0 ] || die "a bad record was stored"
[ "$(q "select count(*) from events where id='B-ev1'")" = 1 ] || die "event not stored"
[ "$(q "select json_extract(body,'$.calls') from metrics where id='B-m1'")" = 3 ] || die "metrics record not stored"
r=$(metric "$hp" 'rs_records_rejected_total{reason="invalid"}')
[ "$r" = 2 ] || die "rejected{invalid} = $r, want 2"
ok "bad records refused naming the field; earlier records stored"
http_get "$hp" /healthz >/dev/null || die "/healthz"
http_get "$hp" /readyz >/dev/null || die "/readyz"
kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM"
ok "SIGTERM exit 0"
