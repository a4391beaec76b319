#!/usr/bin/env bash
# A database that hangs must not hang rs, and /readyz and rs_db_up say so.
#  1. The conninfo (URL form, as the helm chart's RS_PG_URL) points at a server that
#     accepts and never answers: rs listens within 2 s (it does not wait for the
#     database: a start-up migration would cost the 3.3 s deadline), receipts a record within 5 s
#     (journal), /readyz 200 "records go to the journal", rs_db_up 0; once the small
#     journal is full, /readyz 503 "journal full" (fails if /readyz is wired to 200).
#  2. A real PostgreSQL (RS_PG_URL, URL form) paused with SIGSTOP (postmaster and
#     every backend): 5 records receipted within 5 s each, journal depth > 0,
#     /readyz 200 with the journal reason, rs_db_up 0; after SIGCONT each record is
#     stored exactly once.
. "$(dirname "$0")/lib/common.sh"
chmod 755 "$T"
raw() { /usr/bin/python3 "$HELPERS/stomp_bytes.py" "$@"; }
body() {
	printf '{"id":"%s","schema":1,"call_id":"c-%s","node":"rm-1","start_ms":1700000000000,' \
		"$2" "$2" >"$1"
	printf '"end_ms":1700000001000,"duration_ms":0,"disposition":"failed",' >>"$1"
	printf '"sip_status":500,"ended_by":"rm"}' >>"$1"
}
ms_since() { awk "BEGIN{printf \"%d\", ($EPOCHREALTIME - $1) * 1000}"; }

# 1. accept-and-never-answer server
qp=$(free_port); sp=$(free_port); hp=$(free_port)
/usr/bin/python3 - "$qp" >"$T/silent.log" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
held = []
end = time.time() + 120
s.settimeout(1)
while time.time() < end:
    try:
        c, _ = s.accept(); held.append(c)   # never read, never answer
    except socket.timeout:
        pass
PY
bg_pid $!
wait_port "$qp" 5 || die "silent server did not listen"
cat >"$T/rs1.json" <<JSON
{ "stomp": { "port": $sp }, "http": { "port": $hp },
  "storage": { "backend": "postgresql",
               "postgresql": { "conninfo": "postgresql://postgres@127.0.0.1:$qp/rs" } },
  "writer": { "retry_ms": 200 },
  "journal": { "dir": "$T/journal1", "max_bytes": 4096 } }
JSON
t0=$EPOCHREALTIME
"$BIN/rs" -c "$T/rs1.json" >"$T/rs1.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$sp" 2 || die "rs did not listen within 2 s with a silent database"
ok "silent database: rs listening after $(ms_since "$t0") ms"
body "$T/r" hang-1
out=$(TIMEOUT=5 raw "$sp" "$T/r:h1")
echo "$out" | grep -q "^RECEIPT h1" || die "no receipt within 5 s: $out"
rd=$(http_get "$hp" /readyz) || die "/readyz not 200 with journal room: $rd"
echo "$rd" | grep -q "journal" || die "/readyz reason lacks the journal: $rd"
[ "$(metric "$hp" rs_db_up)" = 0 ] || die "rs_db_up $(metric "$hp" rs_db_up) with a silent database"
ok "silent database: receipt in ${out##* } s (journal), /readyz 200 '$rd', rs_db_up 0"
full=0
for i in $(seq 2 40); do
	body "$T/r" "hang-$i"
	out=$(TIMEOUT=5 raw "$sp" "$T/r:h$i")
	echo "$out" | grep -q "^ERROR .*journal full" && { full=1; break; }
	echo "$out" | grep -q "^RECEIPT" || die "record $i: $out"
done
[ $full = 1 ] || die "journal of 4096 bytes never full"
rd=$(http_get "$hp" /readyz) && die "/readyz 200 with the database hung and the journal full: $rd"
echo "$rd" | grep -q "journal full" || die "/readyz 503 reason: $rd"
ok "journal full after $((i - 1)) records: ERROR, /readyz 503 '$rd'"
kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM with a silent database"

# 2. a real PostgreSQL, paused
pp=$(free_port); sp=$(free_port); hp=$(free_port)
"$TOP/scripts/pg-start" "$T/pg" "$pp" || die "pg-start"
pg_procs() {
	local pm; pm=$(head -1 "$T/pg/data/postmaster.pid")
	echo "$pm $(pgrep -P "$pm" | tr '\n' ' ')"
}
trap 'rc=$?; set +e; kill -CONT $(pg_procs) 2>/dev/null; "$TOP/scripts/pg-stop" "$T/pg"; (exit $rc); _cleanup' EXIT
cat >"$T/rs2.json" <<JSON
{ "stomp": { "port": $sp }, "http": { "port": $hp },
  "storage": { "backend": "postgresql" },
  "writer": { "retry_ms": 200 },
  "journal": { "dir": "$T/journal2" } }
JSON
RS_PG_URL="postgresql://postgres@127.0.0.1:$pp/rs" "$BIN/rs" -c "$T/rs2.json" >"$T/rs2.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$sp" 10 || die "rs did not listen"
body "$T/r" up-1
out=$(raw "$sp" "$T/r:u1")
echo "$out" | grep -q "^RECEIPT u1" || die "PostgreSQL up: $out"
for i in $(seq 50); do [ "$(metric "$hp" rs_records_stored_total)" = 1 ] && break; sleep 0.1; done
[ "$(metric "$hp" rs_db_up)" = 1 ] || die "rs_db_up not 1 with PostgreSQL up"
kill -STOP $(pg_procs)
ok "PostgreSQL paused (SIGSTOP: $(pg_procs))"
for i in 1 2 3 4 5; do
	body "$T/r" "paused-$i"
	out=$(TIMEOUT=5 raw "$sp" "$T/r:p$i")
	echo "$out" | grep -q "^RECEIPT p$i" || die "paused PostgreSQL: record $i not receipted within 5 s: $out"
	echo "record $i receipted in ${out##* } s"
done
d=$(metric "$hp" rs_journal_depth)
[ "${d%.*}" -gt 0 ] || die "journal depth $d while PostgreSQL is paused"
rd=$(http_get "$hp" /readyz) || die "/readyz not 200 (journal has room): $rd"
echo "$rd" | grep -q "journal" || die "/readyz reason: $rd"
[ "$(metric "$hp" rs_db_up)" = 0 ] || die "rs_db_up still 1 with PostgreSQL paused"
ok "paused: 5 receipts within 5 s each, journal depth $d, /readyz '$rd', rs_db_up 0"
kill -CONT $(pg_procs)
for i in $(seq 100); do
	[ "$(metric "$hp" rs_journal_depth)" = 0 ] && [ "$(metric "$hp" rs_db_up)" = 1 ] && break
	sleep 0.1
done
[ "$(metric "$hp" rs_journal_depth)" = 0 ] || die "journal not replayed after SIGCONT"
n=$(psql -X -A -t -h 127.0.0.1 -p "$pp" -U postgres rs -c \
	"select count(*), count(distinct id) from cdr where id like 'paused-%' or id = 'up-1'")
[ "$n" = "6|6" ] || die "after SIGCONT: rows|distinct = $n, want 6|6"
ok "after SIGCONT: journal replayed, 6 rows, each once"
kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM"
