#!/usr/bin/env bash
# rs real-time usage on a real PostgreSQL 15 (scripts/pg-start): the scenario of
# lib/rt_usage_peer.py gives the expected numbers, and after a restart they are
# rebuilt from PostgreSQL's events and cdr tables (rt_load's PostgreSQL path); with
# PostgreSQL down at start rs still starts, logs why, and counts from empty; calls
# receipted then go to the journal; once PostgreSQL is back the rebuild (retried
# every 5 s) gives the stored numbers plus the journaled calls.
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
peer calls "$sp" jtenant 3 || die "calls while PostgreSQL is down"
[ "$(mval "$hp" rs_journal_depth)" -ge 3 ] || die "not journaled: $(mval "$hp" rs_journal_depth)"
"$TOP/scripts/pg-start" "$T/pg" "$pp" || die "pg-start again"
wait_for 20 grep -q "real-time usage rebuilt" "$T/rs3.log" || die "no rebuild once PostgreSQL is back: $(grep -i real-time "$T/rs3.log")"
# the truth: the scenario (lib/rt_usage_peer.py) plus jtenant's 3 calls, all from rm-1
want="acme 1 3 3,beta 2 2 2,jtenant 3 3 3,rm-1 6 8 6,"
r=$(peer numbers "$hp")
[ "$r" = "$want" ] || die "after the late rebuild: '$r', want '$want'"
ok "PostgreSQL back: the retried rebuild has the stored numbers and the 3 journaled calls"
