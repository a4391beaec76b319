#!/usr/bin/env bash
# rs's consumer toward a broker over TLS (broker.tls, issue 9 item 7), against a real
# ActiveMQ with a stomp+ssl connector whose keystore keytool makes from this test's
# openssl certificates:
#  - rs (broker.tls with ca_file = the test CA, verify on) subscribes through the TLS
#    port only, and records a producer publishes (on the broker's plain port) are
#    stored;
#  - rs trusting another CA never subscribes and logs "certificate verify failed";
#  - rs without broker.tls against the TLS port never subscribes.
. "$(dirname "$0")/lib/common.sh"
chmod 755 "$T"
for c in openssl keytool java; do command -v $c >/dev/null || die "$c is not installed"; done

C="$T/certs"; mkdir -p "$C"
for ca in ca other-ca; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout "$C/$ca.key" -out "$C/$ca.crt" -subj "/CN=$ca" 2>/dev/null || die "openssl $ca"
done
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=broker \
	-keyout "$C/broker.key" -out "$C/broker.csr" 2>/dev/null || die "openssl broker csr"
printf 'subjectAltName=IP:127.0.0.1\n' >"$C/broker.ext"
openssl x509 -req -in "$C/broker.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" -CAcreateserial \
	-days 2 -extfile "$C/broker.ext" -out "$C/broker.crt" 2>/dev/null || die "openssl broker cert"
openssl pkcs12 -export -in "$C/broker.crt" -inkey "$C/broker.key" -certfile "$C/ca.crt" \
	-name broker -passout pass:changeit -out "$C/broker.p12" || die "openssl pkcs12"
keytool -importkeystore -noprompt -srckeystore "$C/broker.p12" -srcstoretype PKCS12 \
	-srcstorepass changeit -destkeystore "$C/broker.jks" -deststoretype JKS \
	-deststorepass changeit >"$T/keytool.log" 2>&1 || die "keytool: $(cat "$T/keytool.log")"
ok "broker keystore made by keytool from the test's openssl certificates"

ap=$(free_port); sslp=$(free_port)
AMQ_SSL_PORT=$sslp AMQ_KEYSTORE="$C/broker.jks" AMQ_KEYSTORE_PASSWORD=changeit \
	"$TOP/scripts/activemq-start" "$T/amq" "$ap" || die "activemq-start"
trap 'rc=$?; set +e; "$TOP/scripts/activemq-stop" "$T/amq"; (exit $rc); _cleanup' EXIT
wait_port "$sslp" 30 || die "ActiveMQ's stomp+ssl port did not open: $(tail -5 "$T/amq/activemq.log")"

# rs_config NAME BROKER_TLS_JSON [DEST]: consume DEST (default /queue/gvp.cdr) from the
# TLS port only, into SQLite. The rs that must not get a session listen on another
# queue, so that one that wrongly does takes nothing from the one that must.
rs_config() {
	cat >"$T/$1.json" <<JSON
{ "stomp": { "port": $(free_port) }, "http": { "port": $(free_port) },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$T/$1.db" } },
  "journal": { "dir": "$T/$1.journal" },
  "broker": { "mode": "consume", "endpoints": ["127.0.0.1:$sslp"], "prefetch": 100,
              "heartbeat_ms": 10000, "reconnect_min_ms": 100, "reconnect_max_ms": 500,
              "destinations": ["${3:-/queue/gvp.cdr}"], "tls": $2 } }
JSON
}
hport() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"]["port"])' "$T/$1.json"; }
start_rs() {
	"$BIN/rs" -c "$T/$1.json" >>"$T/$1.log" 2>&1 &
	bg_pid $!
	wait_port "$(hport "$1")" 10 || die "$1 did not start: $(cat "$T/$1.log")"
}
broker_up() { [ "$(metric "$(hport "$1")" rs_broker_up)" = 1 ]; }

rs_config good "{ \"enabled\": true, \"ca_file\": \"$C/ca.crt\" }"
rs_config other "{ \"enabled\": true, \"ca_file\": \"$C/other-ca.crt\" }" /queue/gvp.metrics
rs_config plain "{ \"enabled\": false }" /queue/gvp.metrics
for r in good other plain; do start_rs $r; done
for _ in $(seq 100); do broker_up good && break; sleep 0.1; done
broker_up good || die "rs did not subscribe over TLS: $(tail -5 "$T/good.log")"
N=20
/usr/bin/python3 "$HELPERS/stomp_client.py" produce "$ap" tls "$N" >"$T/produce.log" 2>&1 ||
	die "produce: $(cat "$T/produce.log")"
n=0
for _ in $(seq 100); do
	n=$(sqlite3 -cmd ".timeout 5000" "$T/good.db" "select count(*) from cdr where id like 'tls-%'" 2>/dev/null || echo 0)
	[ "$n" = "$N" ] && break; sleep 0.1
done
[ "$n" = "$N" ] || die "records stored through the TLS consumer: $n, want $N"
ok "broker.tls: rs subscribed through ActiveMQ's stomp+ssl port; $N records stored"

for _ in $(seq 50); do grep -q "certificate verify failed" "$T/other.log" && break; sleep 0.1; done
grep -q "certificate verify failed" "$T/other.log" || die "rs trusting another CA: $(tail -3 "$T/other.log")"
broker_up other && die "rs trusting another CA subscribed"
broker_up plain && die "rs without broker.tls subscribed on the TLS port"
ok "another CA: no session ($(grep -o 'TLS: certificate verify failed[^"]*' "$T/other.log" | head -1));" \
	"plaintext to the TLS port: no session"
