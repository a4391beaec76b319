#!/usr/bin/env bash
# rm cluster over TLS (issue 13, "TLS optional"): cluster.tls with a CA makes 9801
# mutual TLS. Two nodes with certificates of that CA find each other; a python
# socket speaking plain TCP, even with valid frames and the right key, gets nothing
# accepted; a third node that trusts the CA and has the key, but whose own
# certificate comes from another CA, is kept out: the listeners refuse its
# certificate, and the dialers refuse it too.
. "$(dirname "$0")/lib/rm_cluster.sh"
command -v openssl >/dev/null || die "openssl is not installed"

C="$T/certs"; mkdir -p "$C"
cert() { # cert CA NAME SAN: NAME.crt/.key signed by CA
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$2" \
		-keyout "$C/$2.key" -out "$C/$2.csr" 2>/dev/null || die "openssl req $2"
	printf 'subjectAltName=%s\n' "$3" >"$C/$2.ext"
	openssl x509 -req -in "$C/$2.csr" -CA "$C/$1.crt" -CAkey "$C/$1.key" -CAcreateserial \
		-days 2 -extfile "$C/$2.ext" -out "$C/$2.crt" 2>/dev/null || die "openssl x509 $2"
}
for ca in ca other-ca; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=$ca" -keyout "$C/$ca.key" -out "$C/$ca.crt" 2>/dev/null || die "openssl $ca"
done
cert ca rm "IP:127.0.0.2,IP:127.0.0.3,IP:127.0.0.4"
cert other-ca intruder "IP:127.0.0.2,IP:127.0.0.3,IP:127.0.0.4"

SP=$(free_port); CP=$(free_port); HA=$(free_port); HB=$(free_port); HC=$(free_port)
M1=$(free_port)
PEERS='["127.0.0.2:'$CP'", "127.0.0.3:'$CP'", "127.0.0.4:'$CP'"]'
LRGS='[{"name":"g","members":[{"uri":"sip:127.0.0.1:'$M1'"}]}]'
tls() { echo ", \"tls\": {\"enabled\": true, \"cert_file\": \"$C/$1.crt\", \"key_file\": \"$C/$1.key\", \"ca_file\": \"$C/$2.crt\"}"; }
for n in a:2:rm:ca:$HA b:3:rm:ca:$HB c:4:intruder:ca:$HC; do
	IFS=: read -r name ip crt ca hp <<<"$n"
	cluster_write_config "$T/$name.json" "rm-$name" "127.0.0.$ip" "$SP" "$hp" "$CP" "$PEERS" \
		"$LRGS" "$(rm_default_profile g)"
	/usr/bin/python3 - "$T/$name.json" "$(tls "$crt" "$ca")" <<'EOF_PY'
import sys
f = sys.argv[1]; s = open(f).read()
s = s.replace('"key": ', sys.argv[2][2:] + ', "key": ', 1)
open(f, "w").write(s)
EOF_PY
done
cluster_start a "$T/a.json" "$HA"
cluster_start b "$T/b.json" "$HB"
cluster_start c "$T/c.json" "$HC"
grep -q "on 127.0.0.2:$CP (TLS)" "$T/a.log" || die "rm-a does not say it listens with TLS"
wait_for 5 cluster_is "$HA" rm-b up || die "rm-a does not see rm-b up over TLS: $(http_get "$HA" /cluster)"
wait_for 5 cluster_is "$HB" rm-a up || die "rm-b does not see rm-a up over TLS"
ok "two nodes with certificates of the CA: up on both sides over mutual TLS"

PY=$(cluster_peer_py)
/usr/bin/python3 - "$PY" "$CP" "$CLUSTER_KEY" <<'EOF_PY' || die "python peer failed"
import sys, time, importlib.util
spec = importlib.util.spec_from_file_location("cp", sys.argv[1]); cp = importlib.util.module_from_spec(spec); spec.loader.exec_module(cp)
s = cp.connect("127.0.0.2", int(sys.argv[2]))
inc = int(time.time() * 1000)
try:
    s.sendall(cp.frame(sys.argv[3].encode(), "SEND", "state", "py", "rm-a", inc, 1, b"t 5 acme\n"))
    time.sleep(0.3)
except OSError:
    pass
s.close()
EOF_PY
r=$(http_get "$HA" /cluster)
echo "$r" | grep -q '"node":"py"' && die "a plain-TCP peer got a frame accepted: $r"
echo "$r" | grep -q '"node":"rm-c"' && die "rm-c (another CA) got in: $r"
http_get "$HB" /cluster | grep -q '"node":"rm-c"' && die "rm-c got into rm-b"
for p in rm-a rm-b; do
	[ "$(cluster_state "$HC" $p)" != up ] || die "rm-c sees $p up: $(http_get "$HC" /cluster)"
done
grep -q "link to 127.0.0.4:$CP (?) closed: error: certificate verify failed" "$T/a.log" ||
	die "rm-a logs no certificate failure dialing rm-c"
cluster_is "$HA" rm-b up || die "rm-b no longer up on rm-a"
ok "plain TCP with the right key: nothing accepted; rm-c with another CA's certificate: kept out by listeners and dialers"
