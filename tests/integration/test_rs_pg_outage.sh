#!/usr/bin/env bash
# PostgreSQL stopped for 10 s while a producer streams: receipts keep coming, /readyz
# stays 200, and after PostgreSQL returns every record is in it exactly once (the
# journal replayed). Then: PostgreSQL down again, kill -9 rs while it journals,
# restart rs with PostgreSQL up: the journal is replayed, every receipted record is in
# PostgreSQL.
. "$(dirname "$0")/lib/common.sh"
pp=$(free_port); sp=$(free_port); hp=$(free_port)
pg_up "$pp"
cat >"$T/rs.json" <<JSON
{ "stomp": { "port": $sp }, "http": { "port": $hp },
  "storage": { "backend": "postgresql",
               "postgresql": { "conninfo": "host=127.0.0.1 port=$pp dbname=rs user=postgres" } },
  "writer": { "retry_ms": 200 },
  "journal": { "dir": "$T/journal" } }
JSON
"$BIN/rs" -c "$T/rs.json" >"$T/rs.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$sp" 10 || die "rs did not listen"
tl() { /usr/bin/python3 "$HELPERS/testlib.py" "$@"; }
nrec() { [ -f "$1" ] && wc -l <"$1" || echo 0; }

# 2,000 records/s for 18 s.
"$BIN/../tools/stomp_load" -p "$sp" -n 36000 -w 2000 -r 2000 -i O -o "$T/receipts" -q \
	>"$T/load.log" 2>&1 &
ld=$!; bg_pid $ld
wait_lines "$T/receipts" 4000 20 || die "the load is not streaming"
"$TOP/scripts/pg-stop" "$T/pg"
before=$(nrec "$T/receipts")
for i in $(seq 10); do
	sleep 1 # scenario: PostgreSQL stays down 10 s, /readyz sampled each second
	http_get "$hp" /readyz >/dev/null || die "/readyz not 200 during the outage ($i s)"
done
during=$(nrec "$T/receipts")
j=$(metric "$hp" rs_records_journaled_total)
[ "$during" -gt $((before + 10000)) ] || die "receipts stalled: $before -> $during"
[ "${j%.*}" -gt 10000 ] || die "journaled only $j"
ok "PostgreSQL down 10 s: receipts $before -> $during, journaled $j, /readyz 200"
"$TOP/scripts/pg-start" "$T/pg" "$pp" || die "pg-start again"
wait $ld || die "producer failed: $(cat "$T/load.log")"
for i in $(seq 100); do
	[ "$(metric "$hp" rs_journal_depth)" = 0 ] && break; sleep 0.2
done
[ "$(metric "$hp" rs_journal_depth)" = 0 ] || die "journal not drained"
[ "$(tl count "pg:$pp" cdr)" = 36000 ] || die "rows: $(tl count "pg:$pp" cdr), want 36000"
[ "$(tl missing "pg:$pp" "$T/receipts")" = 0 ] || die "receipted records missing"
ok "PostgreSQL back: journal replayed, 36,000 rows, each once"

# kill -9 while journaling, restart with PostgreSQL up.
"$TOP/scripts/pg-stop" "$T/pg"
"$BIN/../tools/stomp_load" -p "$sp" -n 1000000 -w 2000 -r 5000 -i K -o "$T/receipts2" -q \
	>"$T/load2.log" 2>&1 &
ld=$!; bg_pid $ld
wait_lines "$T/receipts2" 8000 20 || die "no receipts while journaling"
kill -9 $rs; wait $rs 2>/dev/null || true
wait $ld 2>/dev/null || true
n=$(nrec "$T/receipts2")
[ "$n" -gt 5000 ] || die "only $n receipts while journaling"
"$TOP/scripts/pg-start" "$T/pg" "$pp" || die "pg-start 3"
"$BIN/rs" -c "$T/rs.json" >"$T/rs2.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$sp" 10 || die "rs did not restart"
for i in $(seq 100); do
	[ "$(tl missing "pg:$pp" "$T/receipts2")" = 0 ] && break; sleep 0.2
done
[ "$(tl missing "pg:$pp" "$T/receipts2")" = 0 ] || die "receipted records lost after kill -9"
ok "kill -9 while journaling: all $n receipted records in PostgreSQL after restart"
kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM"
