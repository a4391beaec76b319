#!/usr/bin/env bash
# rs on a real PostgreSQL refuses at intake what it could not store, and quarantines
# what the database still refuses, without stalling the records behind it:
#  1. a raw TAB in a string: ERROR naming the field; a valid record sent right after
#     is stored within 1 s;
#  2. ids "NUL-A\u0000first" / "NUL-A\u0000second", a raw NUL byte, a leading zero:
#     ERROR naming the field, nothing stored;
#  3. a record the database refuses (a CHECK constraint the test adds) between two
#     good ones in one batch: all three receipted, the good two stored, the bad one
#     in cdr_dead_letter, rs_records_quarantined_total 1;
#  4. the dead-letter table refuses it too: the record goes to journal/rs.dead-letter;
#  5. a refused record in the journal (PostgreSQL down while it came): the replay
#     quarantines it and stores the good one behind it; the journal drains;
#  6. the same as 3 on SQLite (a trigger refuses the record).
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
"$BIN/rs" -c "$T/rs.json" --init >"$T/init.log" 2>&1 || die "rs --init: $(cat "$T/init.log")"
"$BIN/rs" -c "$T/rs.json" >"$T/rs.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$sp" 10 || die "rs did not listen"
for i in $(seq 100); do [ "$(metric "$hp" rs_db_up)" = 1 ] && break; sleep 0.1; done
[ "$(metric "$hp" rs_db_up)" = 1 ] || die "rs never reached PostgreSQL"
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pp" -U postgres rs -c "$1"; }
raw() { /usr/bin/python3 "$HELPERS/stomp_bytes.py" "$sp" "$@"; }
# body FILE ID [CALL_ID] [CALLER] [START]: a CDR whose strings are written as given
# (printf %b: \t is a raw TAB, \\\\u0000 an escape).
body() {
	printf '{"id":"%b","schema":1,"call_id":"%b","node":"rm-1","caller":"%s",' \
		"$2" "${3:-c-$2}" "${4:-alice}" >"$1"
	printf '"start_ms":%s,"end_ms":1700000001000,"duration_ms":0,' "${5:-1700000000000}" >>"$1"
	printf '"disposition":"failed","sip_status":500,"ended_by":"rm"}' >>"$1"
}
stored_within() { # ID SECONDS: the row shows up in time
	local i
	for i in $(seq $(($2 * 20))); do
		[ "$(q "select count(*) from cdr where id = '$1'")" = 1 ] && return 0
		sleep 0.05
	done
	return 1
}

# 1. raw TAB
body "$T/tab" tab-1 'a\tb'
out=$(raw "$T/tab:t1")
echo "$out" | grep -q "^ERROR t1 .*call_id" || die "raw TAB: want ERROR naming call_id, got: $out"
# With the database up, the RECEIPT comes once the row is committed: the receipt's
# delay (measured by the sender from its SEND) bounds when the row was stored.
body "$T/good1" good-1
out=$(raw "$T/good1:g1")
echo "$out" | grep -q "^RECEIPT g1" || die "valid record after the poison: $out"
secs=${out##* }
[ "$(q "select count(*) from cdr where id = 'good-1'")" = 1 ] ||
	die "valid record receipted but not in PostgreSQL"
awk "BEGIN{exit !($secs < 1.0)}" || die "valid record after the poison stored after $secs s"
[ "$(q "select count(*) from cdr where id = 'tab-1'")" = 0 ] || die "poison stored"
ok "raw TAB: ERROR naming call_id; the next record stored (receipted) in $secs s"

# 2. escaped NUL in ids, raw NUL byte, leading zeros
body "$T/nul1" 'NUL-A\\u0000first'
body "$T/nul2" 'NUL-A\\u0000second'
for f in nul1 nul2; do
	out=$(raw "$T/$f:$f")
	echo "$out" | grep -q "^ERROR $f .*field id" || die "$f: want ERROR naming id, got: $out"
done
body "$T/nulraw" 'nul-raw' 'a\0b'
out=$(raw "$T/nulraw:nr")
echo "$out" | grep -q "^ERROR nr .*call_id" || die "raw NUL: want ERROR naming call_id, got: $out"
for z in 01 -01; do
	body "$T/zero" "zero$z" c alice "$z"
	out=$(raw "$T/zero:z")
	echo "$out" | grep -q "^ERROR z .*start_ms" || die "leading zero $z: got: $out"
done
[ "$(q "select count(*) from cdr where id like 'NUL%' or id like 'nul%' or id like 'zero%'")" = 0 ] ||
	die "a refused record was stored"
ok "\\u0000 in ids, raw NUL, leading zeros: ERROR naming the field, nothing stored"

# 3. refused by the database, between two good ones (pipelined: one batch)
q "alter table cdr add constraint no_poison check (caller is distinct from 'poison')"
body "$T/a" q-good-a; body "$T/p" q-poison c poison; body "$T/b" q-good-b
out=$(raw "$T/a:a" "$T/p:p" "$T/b:b")
[ "$(echo "$out" | grep -c '^RECEIPT')" = 3 ] || die "batch with a refused record: $out"
stored_within q-good-b 2 || die "good records behind the refused one not stored"
[ "$(q "select count(*) from cdr where id in ('q-good-a','q-good-b')")" = 2 ] || die "q-good-a lost"
[ "$(q "select count(*) from cdr_dead_letter where id = 'q-poison' and error like '%no_poison%'")" = 1 ] ||
	die "refused record not in cdr_dead_letter: $(q "select id, error from cdr_dead_letter")"
[ "$(metric "$hp" rs_records_quarantined_total)" = 1 ] || die "rs_records_quarantined_total"
grep -q "q-poison quarantined" "$T/rs.log" || die "no log line for the quarantined record"
ok "refused by PostgreSQL: the good two stored, the bad one in cdr_dead_letter, counted, logged"

# 4. the dead-letter table refuses it too -> file
q "alter table cdr_dead_letter add constraint no_dl check (id <> 'q-poison-2')"
body "$T/p2" q-poison-2 c poison
out=$(raw "$T/p2:p2")
echo "$out" | grep -q "^RECEIPT p2" || die "doubly refused record: $out"
grep -q '"id":"q-poison-2"' "$T/journal/rs.dead-letter" 2>/dev/null ||
	die "doubly refused record not in the dead-letter file"
[ "$(metric "$hp" rs_records_quarantined_total)" = 2 ] || die "quarantined count"
ok "refused by the dead-letter table too: in journal/rs.dead-letter"

# 5. a refused record in the journal
"$TOP/scripts/pg-stop" "$T/pg"
body "$T/p3" j-poison c poison; body "$T/g3" j-good
out=$(TIMEOUT=15 raw "$T/p3:p3" "$T/g3:g3")
[ "$(echo "$out" | grep -c '^RECEIPT')" = 2 ] || die "journaling with PostgreSQL down: $out"
[ "$(metric "$hp" rs_journal_depth)" -ge 1 ] || die "nothing journaled"
"$TOP/scripts/pg-start" "$T/pg" "$pp" || die "pg-start again"
for i in $(seq 100); do
	[ "$(metric "$hp" rs_journal_depth)" = 0 ] && break; sleep 0.1
done
[ "$(metric "$hp" rs_journal_depth)" = 0 ] || die "journal stuck behind a refused entry"
stored_within j-good 2 || die "good journaled record not stored"
[ "$(q "select count(*) from cdr_dead_letter where id = 'j-poison'")" = 1 ] ||
	die "refused journal entry not quarantined"
ok "journal replay: refused entry quarantined, the one behind it stored, journal drained"
kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM"

# 6. SQLite: a trigger refuses one record of a batch
cat >"$T/rs-sq.json" <<JSON
{ "stomp": { "port": $sp }, "http": { "port": $hp },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$T/rs.db" } },
  "journal": { "dir": "$T/journal-sq" } }
JSON
"$BIN/rs" -c "$T/rs-sq.json" --init >"$T/init-sq.log" 2>&1 || die "rs --init (sqlite)"
sqlite3 "$T/rs.db" "create trigger no_poison before insert on cdr when new.caller = 'poison'
	begin select raise(abort, 'poison refused'); end;"
"$BIN/rs" -c "$T/rs-sq.json" >"$T/rs-sq.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$sp" 10 || die "rs (sqlite) did not listen"
body "$T/a" s-good-a; body "$T/p" s-poison c poison; body "$T/b" s-good-b
out=$(raw "$T/a:a" "$T/p:p" "$T/b:b")
[ "$(echo "$out" | grep -c '^RECEIPT')" = 3 ] || die "sqlite batch with a refused record: $out"
[ "$(sqlite3 "$T/rs.db" "select count(*) from cdr where id in ('s-good-a','s-good-b')")" = 2 ] ||
	die "sqlite: good records not stored"
[ "$(sqlite3 "$T/rs.db" "select count(*) from cdr_dead_letter where id = 's-poison' and error like '%poison refused%'")" = 1 ] ||
	die "sqlite: refused record not in cdr_dead_letter"
[ "$(metric "$hp" rs_records_quarantined_total)" = 1 ] || die "sqlite: quarantined count"
ok "SQLite: the good two stored, the refused one in cdr_dead_letter"
kill -TERM $rs; wait $rs || die "rs (sqlite) exited $? on SIGTERM"
