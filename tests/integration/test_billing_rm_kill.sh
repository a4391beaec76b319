#!/usr/bin/env bash
# rm killed with -9 during a run and restarted on the same spool (issue 4,
# acceptance 3): every call that had ended before the kill is stored exactly once.
#
# Which calls ended before the kill: the SIP Server (sipp, etc/sipp/uac_billing.xml)
# logs the Call-ID of each call whose BYE was answered. A BYE is answered only
# through rm (the Route set), and rm ends the session (and builds the record) when
# it forwards the BYE, so every logged call ended in rm before the kill; after the
# kill no BYE can be answered until rm is back, and rm is restarted only once sipp
# has finished. Calls rm ended but whose BYE answer the kill swallowed may be stored
# too: they must not be stored twice, and nothing may be stored for a call rm never
# saw.
#
# rs is killed before rm, and rm once 100 records of the calls ended since wait in its
# spool, undelivered: only the spool's replay after restart can store them (the test
# checks that the spool holds records at the kill).
. "$(dirname "$0")/lib/billing.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port)
RSP=$(free_port); RHP=$(free_port)
rs_sqlite_config "$T/rs.json" "$RSP" "$RHP" "$T/rs.db"
rs_start "$T/rs.json" "$RSP"
rm_up_publishing "127.0.0.1:$RSP"

# 200 calls/s of 300 ms for 6 s; rm dies after 3 s, mid-stream.
uac_run calls "$SP" uac_billing.xml 1200 200 20 -d 300 -recv_timeout 2s \
	-trace_logs -log_file "$T/ended.txt" &
uac=$!; bg_pid $uac
# mid-run: records have reached rs, then rs dies and rm's spool fills
wait_metric "$HP" rm_billing_published_total -ge 250 20 || die "no record published"
kill -9 "$RS_PID"; wait "$RS_PID" 2>/dev/null || true
wait_metric "$HP" rm_spool_depth -ge 100 10 || true
held=$(mval "$HP" rm_spool_depth)
kill -9 "$RM_PID"; wait "$RM_PID" 2>/dev/null || true
wait $uac || true
[ "$held" -gt 0 ] || die "rm's spool held no record at the kill (test would not test replay)"
rs_start "$T/rs.json" "$RSP"
uac_stats "$T/calls.csv"
grep -E '^[^ ]+@' "$T/ended.txt" | sort -u >"$T/ended.ids" || true
e=$(wc -l <"$T/ended.ids")
[ "$e" -ge 200 ] || die "only $e calls ended before the kill (sipp: $OK ok, $FAILED failed)"
[ "$e" = "$OK" ] || die "sipp logged $e ended calls but counts $OK successful"
[ "$FAILED" -gt 0 ] || die "the kill did not interrupt any call (test did not test)"
ok "rs then rm killed mid-run: $e calls had ended, $held records in rm's spool, $FAILED failed after the kill"

rm_start_billing "$T/rm.json" "$HP"
wait_metric "$HP" rm_spool_depth -eq 0 20 || die "restarted rm did not drain its spool"
n=$(sql "$T/rs.db" "select count(*) from cdr")
/usr/bin/python3 - "$T/rs.db" "$T/ended.ids" <<'PY' || die "records of ended calls missing"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ended = [l.strip() for l in open(sys.argv[2]) if l.strip()]
stored = {}
for cid, n in db.execute("select call_id, count(*) from cdr group by call_id"):
    stored[cid] = n
missing = [c for c in ended if stored.get(c, 0) == 0]
twice = [c for c, n in stored.items() if n > 1]
if missing or twice:
    print(f"{len(missing)} ended calls not stored (e.g. {missing[:3]}), "
          f"{len(twice)} stored twice", file=sys.stderr)
    sys.exit(1)
PY
check_unique "$T/rs.db"
extra=$((n - e))
[ "$extra" -ge 0 ] && [ "$extra" -le 400 ] || die "$n records for $e ended calls"
bad=$(sql "$T/rs.db" "select count(*) from cdr where disposition != 'answered' or ended_by != 'caller'")
[ "$bad" = 0 ] || die "$bad stored records are not answered calls ended by the caller"
ok "after restart: all $e ended calls stored exactly once ($extra more ended in rm as the BYE answer was cut)"
kill -TERM "$RM_PID"; wait "$RM_PID" || die "rm exited $? on SIGTERM"
