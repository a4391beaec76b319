#!/usr/bin/env bash
# rs real-time usage keeps the records that sat in the journal at a crash: SQLite's
# write lock held by another process makes rs journal a tenant's call.start events
# (receipted), rs is killed -9 with them in the journal, restarted with the lock still
# held (so the rebuild cannot find them in the database), then the lock goes and the
# writer replays the journal into the database. The numbers must equal the truth:
# the journaled calls counted (rt_load reads the journal), the peak exact (the
# journal's records merged in time order with the database's, a CDR fallback at its
# end_ms).
. "$(dirname "$0")/lib/rs.sh"
sp=$(free_port); hp=$(free_port)
rs_sqlite_config "$T/rs.json" "$sp" "$hp" "$T/rs.db"
rs_start "$T/rs.json" "$sp"
peer() { /usr/bin/python3 "$HELPERS/rt_usage_peer.py" "$@"; }
peer feed "$sp" s || die "feeding the scenario"
peer check "$hp" || die "numbers after the scenario"

touch "$T/locked"
/usr/bin/python3 "$HELPERS/testlib.py" lock "sqlite:$T/rs.db" "$T/locked" >"$T/lock.out" 2>&1 &
bg_pid $!
wait_for 10 grep -q locked "$T/lock.out" || die "no lock: $(cat "$T/lock.out")"
# receipted only once journaled (after SQLite's busy timeout)
peer calls "$sp" jtenant 3 || die "calls while the database is locked"
[ "$(mval "$hp" rs_journal_depth)" -ge 3 ] || die "not journaled: depth $(mval "$hp" rs_journal_depth)"
kill -9 "$RS_PID"; wait "$RS_PID" 2>/dev/null || true
ok "3 call.start events receipted into the journal, rs killed -9"

rs_start "$T/rs.json" "$sp" rs2
wait_for 15 grep -q "real-time usage rebuilt" "$T/rs2.log" || die "no rebuild: $(grep real-time "$T/rs2.log")"
[ "$(sql "$T/rs.db" "select count(*) from events where body like '%jtenant%'")" = 0 ] ||
	die "the events reached the database before the rebuild: the test proves nothing"
rm -f "$T/locked"
wait_metric "$hp" rs_journal_depth -eq 0 15 || die "journal not replayed"
[ "$(sql "$T/rs.db" "select count(*) from events where body like '%jtenant%'")" = 3 ] ||
	die "journal replayed but the events are not in the database"
# the truth: the scenario (lib/rt_usage_peer.py) plus jtenant's 3 calls, all from rm-1
want="acme 1 3 3,beta 2 2 2,jtenant 3 3 3,rm-1 6 8 6,"
r=$(peer numbers "$hp")
[ "$r" = "$want" ] || die "after the restart: '$r', want '$want'"
ok "after kill -9 and a restart the numbers equal the truth: $r"
kill -TERM "$RS_PID"; wait "$RS_PID" || die "rs exited $? on SIGTERM"
