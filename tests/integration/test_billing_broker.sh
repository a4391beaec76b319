#!/usr/bin/env bash
# Billing through a real broker (issue 4, acceptance 5): sipp SIP Server -> rm -> two
# sipp MCPs; rm publishes each call's CDR and events (persistent:true, receipts) to
# ActiveMQ (scripts/activemq-start, `auto` transport); two rs in consume mode take
# them from the queues into one PostgreSQL. One rs is killed with -9 in the middle of
# the run. Every call is stored exactly once, with its tenant and profile, and the
# call events arrive too.
. "$(dirname "$0")/lib/billing.sh"
chmod 755 "$T"

SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port)
AP=$(free_port); PP=$(free_port)
N=800
"$TOP/scripts/pg-start" "$T/pg" "$PP" || die "pg-start"
"$TOP/scripts/activemq-start" "$T/amq" "$AP" || die "activemq-start"
# set +e: under errexit, (exit $rc) would end the trap before _cleanup kills anything
trap 'rc=$?; set +e; "$TOP/scripts/activemq-stop" "$T/amq"; "$TOP/scripts/pg-stop" "$T/pg"; (exit $rc); _cleanup' EXIT
pq() { psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PP" -U postgres rs -c "$1"; }

# consumer_config I: rs I in consume mode on ActiveMQ, PostgreSQL backend.
consumer_config() {
	cat >"$T/rs$1.json" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $(eval echo "\$RSP$1") },
  "http": { "listen": "127.0.0.1", "port": $(eval echo "\$RHP$1") },
  "storage": { "backend": "postgresql",
               "postgresql": { "conninfo": "host=127.0.0.1 port=$PP dbname=rs user=postgres" } },
  "writer": { "retry_ms": 200 },
  "journal": { "dir": "$T/journal$1" },
  "broker": { "mode": "consume", "endpoints": ["127.0.0.1:$AP"], "prefetch": 200,
              "heartbeat_ms": 2000, "reconnect_max_ms": 1000 } }
JSON
}
RSP1=$(free_port); RHP1=$(free_port); RSP2=$(free_port); RHP2=$(free_port)
consumer_config 1; consumer_config 2
"$BIN/rs" -c "$T/rs1.json" --init >"$T/init.log" 2>&1 || die "rs --init"
rs_start "$T/rs1.json" "$RSP1" rs1; RS1=$RS_PID
rs_start "$T/rs2.json" "$RSP2" rs2; RS2=$RS_PID
wait_metric "$RHP1" rs_broker_up -eq 1 10 || die "rs1 did not subscribe"
wait_metric "$RHP2" rs_broker_up -eq 1 10 || die "rs2 did not subscribe"

rm_up_publishing "127.0.0.1:$AP"
ok "ActiveMQ, PostgreSQL, two rs consumers, rm (publishing to ActiveMQ) and two MCPs up"

# kill -9 rs1 mid-run, once it has received 150 of the N records
(wait_metric "$RHP1" rs_records_received_total -ge 150 30 || true
 mval "$RHP1" rs_records_received_total >"$T/rs1-received"; kill -9 "$RS1") &
killer=$!
uac_run calls "$SP" uac_rr.xml "$N" 100 60 -d 300 || true
wait $killer || true
[ "$OK" = "$N" ] && [ "$FAILED" = 0 ] || die "$OK of $N calls succeeded, $FAILED failed"
wait_gone "$RS1" 5 || die "rs1 was not killed"
ok "$N calls through rm, 0 failed; rs1 killed with -9 mid-run"

wait_metric "$HP" rm_billing_published_total -ge "$N" 30 ||
	die "rm_billing_published_total $(mval "$HP" rm_billing_published_total) < $N"
wait_metric "$HP" rm_spool_depth -eq 0 20 || die "rm spool not drained"
for i in $(seq 150); do [ "$(pq 'select count(*) from cdr')" -ge "$N" ] && break; sleep 0.2; done
n=$(pq "select count(*) from cdr")
[ "$n" = "$N" ] || die "PostgreSQL holds $n records, want $N"
d=$(pq "select count(*) - count(distinct call_id) from cdr")
[ "$d" = 0 ] || die "$d call-ids stored twice"
a=$(pq "select count(*) from cdr where disposition = 'answered' and tenant = 'acme' and
	profile = 'acme-ivr'")
[ "$a" = "$N" ] || die "$a of $N records answered with tenant acme, profile acme-ivr"
r1=$(cat "$T/rs1-received")
[ "$r1" -gt 0 ] || die "rs1 had received nothing before it was killed"
got2=$(mval "$RHP2" rs_records_received_total)
[ "$got2" -gt 0 ] || die "rs2 received nothing"
for i in $(seq 50); do [ "$(pq 'select count(*) from events')" -ge "$N" ] && break; sleep 0.2; done
ev=$(pq "select count(*) from events")
[ "$ev" -ge "$N" ] || die "only $ev call events stored for $N calls"
ok "rm -> ActiveMQ -> two rs consumers -> PostgreSQL: $n records for $N calls, each once ($ev events; rs1 had received $r1 before kill -9, rs2 $got2)"
kill -TERM "$RM_PID"; wait "$RM_PID" || die "rm exited $? on SIGTERM"
kill -TERM "$RS2"; wait "$RS2" || die "rs2 exited $? on SIGTERM"
