#!/usr/bin/env bash
# rs in consume mode (broker.mode consume) behind a real ActiveMQ (scripts/activemq-start,
# `auto` transport), two rs consumers on one queue into one PostgreSQL:
#  1. a producer publishes 3,000 persistent CDRs to /queue/gvp.cdr -> 3,000 rows, each
#     once, and both consumers took a share;
#  2. 8,000 more at ~800/s; one consumer is killed with -9 mid-run -> its unacknowledged
#     messages are redelivered to the other: every record stored once;
#  3. an invalid record is NACKed (counted as rejected, never stored);
#  4. the broker is restarted: the consumer reconnects (with backoff) and takes what
#     is published after;
#  5. ACK only after durable: PostgreSQL down and a tiny journal full -> the consumer
#     cannot make records durable, so ACKs nothing; kill -9 it, start PostgreSQL and a
#     restart that consumer -> every record arrives (the broker still had them).
. "$(dirname "$0")/lib/common.sh"
chmod 755 "$T"
ap=$(free_port); pp=$(free_port)
"$TOP/scripts/pg-start" "$T/pg" "$pp" || die "pg-start"
"$TOP/scripts/activemq-start" "$T/amq" "$ap" || die "activemq-start"
trap 'rc=$?; set +e; "$TOP/scripts/activemq-stop" "$T/amq"; "$TOP/scripts/pg-stop" "$T/pg"; (exit $rc); _cleanup' EXIT
tl() { /usr/bin/python3 "$HELPERS/testlib.py" "$@"; }
produce() { /usr/bin/python3 "$HELPERS/stomp_client.py" produce "$ap" "$@"; }
q() { psql -X -A -t -h 127.0.0.1 -p "$pp" -U postgres rs -c "$1"; }

# rs_config I [extra top-level JSON members]
rs_config() {
	local i=$1 extra=${2:-}
	cat >"$T/rs$i.json" <<JSON
{ "stomp": { "port": $(free_port) }, "http": { "port": $(free_port) },
  "storage": { "backend": "postgresql",
               "postgresql": { "conninfo": "host=127.0.0.1 port=$pp dbname=rs user=postgres" } },
  "writer": { "retry_ms": 200 },
  "journal": { "dir": "$T/journal$i" $extra },
  "broker": { "mode": "consume", "endpoints": ["127.0.0.1:$ap"], "prefetch": 100,
              "heartbeat_ms": 2000, "reconnect_min_ms": 100, "reconnect_max_ms": 1000 } }
JSON
}
hport() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"]["port"])' "$T/rs$1.json"; }
start_rs() {
	"$BIN/rs" -c "$T/rs$1.json" >>"$T/rs$1.log" 2>&1 &
	eval "rs$1=$!"; bg_pid $!
	wait_port "$(hport "$1")" 10 || die "rs$1 did not start"
	for _ in $(seq 50); do
		[ "$(metric "$(hport "$1")" rs_broker_up)" = 1 ] && return 0; sleep 0.1
	done
	die "rs$1 did not subscribe"
}
# wait_rows PREFIX N: until N rows with ids PREFIX-* are stored (60 s bound).
wait_rows() {
	for _ in $(seq 300); do
		[ "$(q "select count(*) from cdr where id like '$1-%'")" = "$2" ] && return 0
		sleep 0.2
	done
	return 1
}
onceq() { q "select count(*)||'/'||count(distinct id) from cdr where id like '$1-%'"; }

rs_config 1; rs_config 2
"$BIN/rs" -c "$T/rs1.json" --init >"$T/init.log" 2>&1 || die "rs --init"
start_rs 1; start_rs 2
h1=$(hport 1); h2=$(hport 2)

# 1. two consumers share one queue
produce A 3000 >"$T/prodA.log" || die "producer A: $(cat "$T/prodA.log")"
wait_rows A 3000 || die "A: rows $(onceq A), want 3000"
r1=$(metric "$h1" rs_records_received_total); r2=$(metric "$h2" rs_records_received_total)
[ "${r1%.*}" -gt 0 ] && [ "${r2%.*}" -gt 0 ] || die "one consumer got nothing: $r1 / $r2"
[ "$(onceq A)" = 3000/3000 ] || die "A: $(onceq A)"
ok "3,000 records through ActiveMQ -> 3,000 rows once (rs1 took $r1, rs2 took $r2)"

# 2. kill -9 one consumer mid-run
produce B 8000 800 >"$T/prodB.log" 2>&1 &
pb=$!; bg_pid $pb
# mid-run: rs1 has taken a good share of B
wait_metric "$h1" rs_records_received_total -ge $(( ${r1%.*} + 1000 )) 20 ||
	die "rs1 got no records of B"
before=$(metric "$h1" rs_records_received_total)
kill -9 "$rs1"; wait "$rs1" 2>/dev/null || true
wait $pb || die "producer B: $(cat "$T/prodB.log")"
wait_rows B 8000 || die "B after kill -9: rows $(onceq B), want 8000"
[ "$(onceq B)" = 8000/8000 ] || die "B: $(onceq B)"
[ "$(tl dupes "pg:$pp")" = 0 ] || die "duplicate ids in cdr"
ok "kill -9 of rs1 mid-run (it had received $before): 8,000 rows, each once"

# 3. an invalid record is NACKed and never stored
/usr/bin/python3 - "$ap" <<'PY' || die "could not publish the bad record"
import json, sys, stomp
c = stomp.Connection12([("127.0.0.1", int(sys.argv[1]))], heartbeats=(0, 0))
c.connect(wait=True)
c.send("/queue/gvp.cdr", json.dumps({"id": "BAD-1", "schema": 1}),
       headers={"persistent": "true", "receipt": "r"})
c.disconnect(receipt="bye")
PY
for _ in $(seq 50); do
	[ "$(metric "$h2" 'rs_records_rejected_total{reason="invalid"}')" != 0 ] && break; sleep 0.1
done
rj=$(metric "$h2" 'rs_records_rejected_total{reason="invalid"}')
nk=$(metric "$h2" rs_broker_nacks_total)
[ "$rj" != 0 ] && [ "$nk" != 0 ] || die "invalid record not rejected/NACKed ($rj/$nk)"
[ "$(q "select count(*) from cdr where id = 'BAD-1'")" = 0 ] || die "invalid record stored"
ok "invalid record NACKed ($nk NACKs, rejected $rj), not stored"

# 4. broker restart: reconnect
c0=$(metric "$h2" rs_broker_connects_total)
"$TOP/scripts/activemq-stop" "$T/amq"
for _ in $(seq 50); do [ "$(metric "$h2" rs_broker_up)" = 0 ] && break; sleep 0.1; done
[ "$(metric "$h2" rs_broker_up)" = 0 ] || die "rs2 did not notice the broker going away"
"$TOP/scripts/activemq-start" "$T/amq" "$ap" || die "activemq-start again"
t0=$EPOCHREALTIME
for _ in $(seq 100); do [ "$(metric "$h2" rs_broker_up)" = 1 ] && break; sleep 0.1; done
[ "$(metric "$h2" rs_broker_up)" = 1 ] || die "rs2 did not reconnect within 10 s"
dt=$(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}")
c1=$(metric "$h2" rs_broker_connects_total)
[ "${c1%.*}" -gt "${c0%.*}" ] || die "connects_total did not grow ($c0 -> $c1)"
produce C 500 >"$T/prodC.log" || die "producer C"
wait_rows C 500 || die "C: rows $(onceq C)"
ok "broker restarted: rs2 resubscribed ${dt}s after the broker was back; 500 more stored"

# 5. no ACK before durable: PostgreSQL down + journal full -> nothing acknowledged
kill -TERM "$rs2"; wait "$rs2" || die "rs2 exited $? on SIGTERM"
rs_config 3 ', "max_bytes": 4096'
"$TOP/scripts/pg-stop" "$T/pg"
start_rs 3
h3=$(hport 3)
produce D 300 >"$T/prodD.log" || die "producer D"
for _ in $(seq 50); do
	[ "$(metric "$h3" rs_records_received_total)" != 0 ] && break; sleep 0.1
done
sleep 1 # scenario: an absence (of ACKs) is checked; a wrong ACK gets time to be sent
a3=$(metric "$h3" rs_broker_acks_total); r3=$(metric "$h3" rs_records_received_total)
j3=$(metric "$h3" rs_records_journaled_total)
[ "${r3%.*}" -gt "${a3%.*}" ] || die "rs3 acked $a3 of $r3 received with the journal full"
kill -9 "$rs3"; wait "$rs3" 2>/dev/null || true
"$TOP/scripts/pg-start" "$T/pg" "$pp" || die "pg-start again"
rs_config 3   # the same node (same journal), normal journal size
start_rs 3
wait_rows D 300 || die "D: rows $(onceq D), want 300 (records acked but lost?)"
[ "$(onceq D)" = 300/300 ] || die "D: $(onceq D)"
ok "DB down, journal full: rs acked $a3 of $r3 (journaled $j3); after kill -9 all 300 arrived via the broker"
kill -TERM "$rs3"; wait "$rs3" || die "rs3 exited $? on SIGTERM"
