#!/usr/bin/env bash
# rs on a real PostgreSQL 15: raw records in monthly partitions (schema 4).
#  - a version-2 database (unpartitioned cdr, tests/tools/pg_schema_v2) with four
#    records, two in January 2025 and two of today, is migrated by the new rs: cdr is
#    partitioned by month, the records are all there, in their months;
#  - dedupe across partitions: a record re-sent with a start in another month (another
#    partition) is receipted and not stored again; a new one is;
#  - retention (raw 30 days, batches of 7): the January 2025 partition is dropped and
#    its ids leave cdr_id; a record a minute older than the limit, in the month the
#    limit falls in, is deleted (that month stays); today's records stay; rs keeps
#    ingesting.
. "$(dirname "$0")/lib/common.sh"
pp=$(free_port); sp=$(free_port); hp=$(free_port)
pg_up "$pp"
psq() { psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pp" -U postgres rs -c "$1"; }
conf() { # RAW_RETENTION_DAYS
	cat >"$T/rs.json" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $sp },
  "http": { "listen": "127.0.0.1", "port": $hp },
  "storage": { "backend": "postgresql",
               "postgresql": { "conninfo": "host=127.0.0.1 port=$pp dbname=rs user=postgres" } },
  "report": { "retention_days": { "raw": $1, "five_minutes": 0, "thirty_minutes": 0,
                                  "hour": 0, "day": 0 },
              "retention_batch": 7, "retention_interval_s": 1 },
  "journal": { "dir": "$T/journal" } }
JSON
}
start_rs() {
	"$BIN/rs" -c "$T/rs.json" >>"$T/rs.log" 2>&1 &
	rs=$!; bg_pid $rs
	wait_port "$sp" 10 || die "rs did not listen on $sp"
}
now=$(date +%s%3N)
old=1736000000000 # 2025-01-04T14:13:20Z
rec() { # ID START_MS
	echo "('$1', 1, 'c-$1', 'rm-1', 'acme', '800100', $2, $(($2 + 60000)), 60000, 'answered',
	       200, 'caller', 1, '{\"id\": \"$1\"}', $2)"
}
"$BIN/../tools/pg_schema_v2" >"$T/v2.sql" || die "pg_schema_v2"
psq "$(cat "$T/v2.sql")
INSERT INTO cdr (id, schema, call_id, node, tenant, dnis, start_ms, end_ms, duration_ms,
                 disposition, sip_status, ended_by, attempts, body, received_ms) VALUES
$(rec v2-old-1 $old), $(rec v2-old-2 $((old + 3600000))),
$(rec v2-new-1 $((now - 600000))), $(rec v2-new-2 $((now - 300000)));" || die "making the version-2 database"

conf 0
start_rs
# The writer migrates on its first contact with the database, after rs listens.
end=$((SECONDS + 30))
until [ "$(psq 'select max(version) from rs_schema')" = 5 ]; do [ $SECONDS -lt $end ] || break; sleep 0.2; done
[ "$(psq 'select max(version) from rs_schema')" = 5 ] || die "not migrated: $(psq 'select max(version) from rs_schema')"
[ "$(psq "select relkind from pg_class where relname = 'cdr'")" = p ] || die "cdr is not partitioned"
[ "$(psq 'select count(*) from cdr_2025_01')" = 2 ] || die "January 2025: $(psq 'select count(*) from cdr_2025_01') records"
month=$(date -u +cdr_%Y_%m)
[ "$(psq "select count(*) from $month")" = 2 ] || die "$month: $(psq "select count(*) from $month") records"
[ "$(psq "select string_agg(id, ',' order by id) from cdr")" = v2-new-1,v2-new-2,v2-old-1,v2-old-2 ] \
	|| die "records after migration: $(psq "select string_agg(id, ',' order by id) from cdr")"
[ "$(psq 'select count(*) from cdr_id')" = 4 ] || die "cdr_id: $(psq 'select count(*) from cdr_id')"
ok "a version-2 database is migrated: cdr partitioned by month, the four records kept in their months"

send() { # ID START_MS: one CDR, receipted
	/usr/bin/python3 - "$HELPERS" "$sp" "$1" "$2" <<'PY' || die "sending $1"
import json, sys
sys.path.insert(0, sys.argv[1])
import stomp_client
port, rid, st = sys.argv[2], sys.argv[3], int(sys.argv[4])
c, lis = stomp_client.connect(port)
r = stomp_client.cdr(rid, start_ms=st, answer_ms=st + 100, end_ms=st + 30100)
c.send("/queue/gvp.cdr", json.dumps(r), content_type="application/json", headers={"receipt": rid})
ok = lis.wait(lambda: len(lis.receipts) >= 1 or lis.errors, 20)
good = ok and not lis.errors and len(lis.receipts) == 1
c.disconnect()
sys.exit(0 if good else 1)
PY
}
send v2-old-1 $((now - 120000)) # stored in January 2025; now another month
[ "$(psq 'select count(*) from cdr')" = 4 ] || die "a duplicate in another partition was stored: $(psq "select string_agg(id || '@' || start_ms, ',') from cdr")"
send p-new-1 $((now - 60000))
[ "$(psq 'select count(*) from cdr')" = 5 ] || die "a new record was not stored"
cut=$((now - 30 * 86400000))
send p-cut $((cut - 60000)) # a minute older than the retention limit below: its month is made
cutmonth=$(date -u -d "@$(((cut - 60000) / 1000))" +cdr_%Y_%m)
[ "$(psq "select count(*) from $cutmonth where id = 'p-cut'")" = 1 ] || die "p-cut not in $cutmonth"
ok "dedupe across partitions: a record re-sent with a start in another month is not stored again; new ones are, a month is made as a record needs it"

kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM"
conf 30
start_rs
gone() { [ "$(psq "select count(*) from pg_class where relname = 'cdr_2025_01'")" = 0 ] &&
	[ "$(psq "select count(*) from cdr_id where start_ms < $cut")" = 0 ] &&
	[ "$(psq "select count(*) from cdr where start_ms < $cut")" = 0 ]; }
# wait_for counts tries, and two psql per try are slow on a loaded machine: a clock.
end=$((SECONDS + 30))
until gone; do [ $SECONDS -lt $end ] || break; sleep 0.2; done
gone || die "January 2025 still there: $(psq "select count(*) from pg_class where relname = 'cdr_2025_01'") partition, $(psq 'select count(*) from cdr_id') ids"
[ "$(psq "select string_agg(id, ',' order by id) from cdr")" = p-new-1,v2-new-1,v2-new-2 ] \
	|| die "records after retention: $(psq "select string_agg(id, ',' order by id) from cdr")"
grep -q "retention: .* rows older than their limit deleted" "$T/rs.log" || die "no retention log line"
send p-new-2 $((now - 30000))
[ "$(psq 'select count(*) from cdr')" = 4 ] || die "ingest after retention"
[ "$(psq "select count(*) from pg_class where relname = '$cutmonth'")" = 1 ] || die "$cutmonth dropped: the limit falls inside it"
ok "retention drops the January 2025 partition and its ids, deletes the record older than the limit in the month the limit falls in; today's records stay; ingest goes on"
kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM"
