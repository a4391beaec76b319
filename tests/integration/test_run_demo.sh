#!/usr/bin/env bash
# The README's "run" command does what it says: scripts/run-demo (what `make run`
# runs after building) starts rs, rm and three sipp MCPs, places real calls, and the
# billing summary it prints from rs's database accounts for every call.
. "$(dirname "$0")/lib/common.sh"

CALLS=150 CANCELS=10 RATE=50 HOLD_MS=300 DEMO_DIR="$T/demo" BUILD="$BUILD" \
	bash "$TOP/scripts/run-demo" >"$T/demo.log" 2>&1 || { cat "$T/demo.log"; die "run-demo failed"; }
cat "$T/demo.log"
grep -q "acme 100/100 ok, 0 failed, globex 50/50 ok, 0 failed, cancel scenario 10/10 ok, 0 failed" \
	"$T/demo.log" || die "not every demo call succeeded"
grep -q "rm wrote 160 call records; rs's database holds 160" "$T/demo.log" ||
	die "records written and stored differ"
db="$T/demo/rs.db"
[ "$(sqlite3 "$db" "SELECT count(*) FROM cdr WHERE disposition='answered' AND tenant='acme' AND profile='acme-ivr'")" = 100 ] ||
	die "acme answered calls not 100"
[ "$(sqlite3 "$db" "SELECT count(*) FROM cdr WHERE disposition='cancelled' AND profile='acme-queue'")" = 10 ] ||
	die "cancelled calls not 10"
[ "$(sqlite3 "$db" "SELECT count(DISTINCT call_id) FROM cdr")" = 160 ] || die "duplicate call-ids"
grep -Eq '^globex +globex-ivr +answered +50 ' "$T/demo.log" || die "summary lacks the globex row"
ok "run-demo: 160 calls, 160 records, summary printed"
