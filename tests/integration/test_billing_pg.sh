#!/usr/bin/env bash
# Billing end to end into PostgreSQL (issue 4, acceptance 4): rm -> rs (backend
# postgresql) with PostgreSQL stopped for 10 s in the middle of a 1,500-call run
# (rs journals and keeps receipting, then replays): the final count equals the
# completed calls, each stored once, with its tenant and profile.
. "$(dirname "$0")/lib/billing.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port)
RSP=$(free_port); RHP=$(free_port); PP=$(free_port)
N=1500
pg_up "$PP"
pq() { psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PP" -U postgres rs -c "$1"; }

cat >"$T/rs.json" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $RSP },
  "http": { "listen": "127.0.0.1", "port": $RHP },
  "storage": { "backend": "postgresql",
               "postgresql": { "conninfo": "host=127.0.0.1 port=$PP dbname=rs user=postgres" } },
  "writer": { "retry_ms": 200 },
  "journal": { "dir": "$T/journal" } }
JSON
rs_start "$T/rs.json" "$RSP"
rm_up_publishing "127.0.0.1:$RSP"

uac_run calls "$SP" uac_rr.xml "$N" 100 40 -d 300 &
uac=$!; bg_pid $uac
# mid-run: records flow into PostgreSQL
wait_metric "$HP" rm_billing_published_total -ge 200 20 || die "no record published"
"$TOP/scripts/pg-stop" "$T/pg"
before=$(mval "$HP" rm_billing_published_total)
t0=$SECONDS
wait_metric "$HP" rm_billing_published_total -gt $((before + 500)) 15 || true
during=$(mval "$HP" rm_billing_published_total)
[ "$during" -gt $((before + 500)) ] || die "receipts stalled with PostgreSQL down: $before -> $during"
ok "PostgreSQL stopped: within $((SECONDS - t0)) s rm's receipted records went $before -> $during (rs journaled)"
"$TOP/scripts/pg-start" "$T/pg" "$PP" || die "pg-start again"
wait $uac || true
uac_stats "$T/calls.csv"
[ "$OK" = "$N" ] && [ "$FAILED" = 0 ] || die "$OK of $N calls succeeded, $FAILED failed"

wait_metric "$HP" rm_spool_depth -eq 0 20 || die "rm spool not drained"
wait_metric "$RHP" rs_journal_depth -eq 0 20 || die "rs journal not replayed"
for i in $(seq 50); do [ "$(pq 'select count(*) from cdr')" -ge "$N" ] && break; sleep 0.2; done
n=$(pq "select count(*) from cdr")
[ "$n" = "$N" ] || die "PostgreSQL holds $n records, want $N"
d=$(pq "select count(*) - count(distinct call_id) from cdr")
[ "$d" = 0 ] || die "$d call-ids stored twice"
# (sipp's -d 300 pause and rm's clock may differ by a millisecond or two: 299 ms seen)
a=$(pq "select count(*) from cdr where disposition = 'answered' and tenant = 'acme' and
	profile = 'acme-ivr' and duration_ms >= 290")
[ "$a" = "$N" ] || die "$a of $N records answered with tenant acme, profile acme-ivr, >= 290 ms"
ok "final count $n = $N completed calls in PostgreSQL, each once"
kill -TERM "$RM_PID"; wait "$RM_PID" || die "rm exited $? on SIGTERM"
