#!/usr/bin/env bash
# rs real-time usage on a real PostgreSQL 15 (scripts/pg-start): the scenario of
# lib/rt_usage_peer.py gives the expected numbers, and after a restart they are
# rebuilt from PostgreSQL's events and cdr tables (rt_load's PostgreSQL path); with
# PostgreSQL down at start rs still starts, logs why, and counts from empty.
. "$(dirname "$0")/lib/rs.sh"
pp=$(free_port); sp=$(free_port); hp=$(free_port)
pg_up "$pp"
cat >"$T/rs.json" <<JSON
{ "stomp": { "port": $sp }, "http": { "port": $hp },
  "storage": { "backend": "postgresql",
               "postgresql": { "conninfo": "host=127.0.0.1 port=$pp dbname=rs user=postgres" } },
  "journal": { "dir": "$T/journal" } }
JSON
"$BIN/rs" -c "$T/rs.json" --init >"$T/init.log" 2>&1 || die "rs --init"
rs_start "$T/rs.json" "$sp"
peer() { /usr/bin/python3 "$HELPERS/rt_usage_peer.py" "$@"; }
peer feed "$sp" p || die "feeding the scenario"
peer check "$hp" || die "numbers after the scenario"
ok "the scenario's numbers on PostgreSQL"
kill -TERM "$RS_PID"; wait "$RS_PID" || die "rs exited $? on SIGTERM"
rs_start "$T/rs.json" "$sp" rs2
wait_for 10 grep -q "real-time usage rebuilt" "$T/rs2.log" || die "no rebuild: $(grep real-time "$T/rs2.log")"
grep -q "rebuilt from 8 events and 1 CDRs" "$T/rs2.log" || die "rebuild: $(grep -i real-time "$T/rs2.log")"
peer check "$hp" || die "numbers after a restart"
ok "after a restart the numbers are rebuilt from PostgreSQL"
kill -TERM "$RS_PID"; wait "$RS_PID" || die "rs exited $? on SIGTERM"
"$TOP/scripts/pg-stop" "$T/pg"
rs_start "$T/rs.json" "$sp" rs3
wait_for 10 grep -q "real-time usage counts from rs's start only: postgresql" "$T/rs3.log" \
	|| die "PostgreSQL down: $(grep -i real-time "$T/rs3.log")"
r=$(http_get "$hp" /ems-rs/RT/tenants/usage) || die "usage with PostgreSQL down: $r"
[ "$r" = '{"tenants":[]}' ] || die "usage with PostgreSQL down: $r"
ok "PostgreSQL down at start: rs starts, says why, and counts from empty"
